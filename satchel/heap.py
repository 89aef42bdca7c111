"""Keep the collector's full passes off the event loop's critical path: freeze the startup heap.

CPython's cyclic garbage collector now and then runs a full (generation 2) pass over every tracked
object, synchronously, inside whatever allocation triggered it: on a worker, in the middle of some
request's callback. After startup a worker holds ~46,000 tracked objects (modules, classes, settings,
caches, the app), and a full pass over them took 23-26 ms of CPU on the 2-core development machine
(``bench/loopwhy.py`` caught it as the one callback above 2 ms among hundreds of thousands: a lag
spike five times issue 14's 5 ms goal, on every engine). Those objects live as long as the process,
so scanning them again and again finds nothing. ``gc.freeze()`` moves them into the permanent
generation, which the collector never scans: the same full pass then costs well under a millisecond.
Objects made afterwards (requests, caches) are collected as before.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect once (no garbage gets frozen), then freeze every object alive; how many are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
