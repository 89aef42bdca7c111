"""Pre-authenticated requests (PARs), with Oracle OCI's semantics over Satchel's link model.

``model.py`` holds the values, ``manage.py`` creation, listing and deletion (the management API and
the CLI), ``use.py`` the admission of one use of an access URL (``/p/{token}/...``). The wire form of
access URLs is the ``satchel/par/`` front-end's.
"""
