"""The pre-authenticated request front-end: ``/p/{token}/n/{namespace}/b/{bucket}/o/{object}``.

What a PAR is, how to make one and what it allows: ``satchel/core/par/``. This package parses access
URLs (``router.py``), serves them (``handlers.py``, ``listing.py``), renders OCI's JSON errors
(``errors.py``) and audits every request once (``frontend.py``).
"""
