"""The startup heap is frozen (satchel/heap.py): the collector's full passes no longer scan it."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from satchel import heap


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_objects_alive_at_startup_leave_the_collected_generations(unfrozen: None) -> None:
    startup = [{"n": i, "self": []} for i in range(2000)]  # tracked containers, as modules and caches are
    assert gc.get_freeze_count() == 0
    frozen = heap.freeze_startup_heap()
    assert frozen >= len(startup)
    scanned = {id(o) for generation in range(3) for o in gc.get_objects(generation)}
    assert not any(id(o) in scanned for o in startup)
    # What is made afterwards is collected as before: a cycle made now is found and freed.
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1


class _Node:
    """A weak-referenceable object to make a cycle of."""

    peer: object = None


def test_garbage_is_collected_before_the_freeze(unfrozen: None) -> None:
    node = _Node()
    node.peer = node  # only the cyclic collector frees this
    gone = weakref.ref(node)
    del node
    heap.freeze_startup_heap()
    assert gone() is None  # collected, not frozen for ever
