"""Link notifications, the sending half: the per-worker delivery loop (``delivery.py``) and the one outbound
HTTP call it makes (``outbound.py``). What is queued, and for whom, is decided in ``core/webhooks.py`` and
``core/webhookqueue.py``."""
