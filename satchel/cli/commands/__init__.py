"""The ``satchel`` commands: ``serve`` and the ``admin`` family, one module per noun."""
