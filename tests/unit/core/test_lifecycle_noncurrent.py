"""NoncurrentVersionExpiration's eligibility rule: days counted from when a version became noncurrent (its
successor's Last-Modified), rounded up to the next midnight UTC; the newest NewerNoncurrentVersions
noncurrent versions kept; delete markers counting as versions; the rule's prefix and size filter."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from satchel.core import lifecycle_noncurrent
from satchel.core.errors import PreconditionFailed
from satchel.core.lifecycle import Rule, noncurrent_due
from satchel.core.lifecycle_noncurrent import _KeyState, expiring
from satchel.core.models import ObjectVersion

DAY = 86400.0


def _at(day: int, hour: int = 0) -> float:
    return datetime(2014, 1, day, hour, tzinfo=UTC).timestamp()


def _v(key: str, version: str, modified: float, *, latest: bool = False, marker: bool = False,
       size: int = 10) -> ObjectVersion:
    return ObjectVersion(key, version, latest, marker, 0 if marker else size, "" if marker else "e", modified, None)


def test_due_counts_from_becoming_noncurrent_to_the_next_midnight() -> None:
    rule = Rule(id="r", enabled=True, shape="empty", noncurrent_days=3)
    assert noncurrent_due(_at(15, 10), 0, rule, DAY) == _at(19)  # 15th 10:30 + 3 days -> the 19th, 00:00
    assert noncurrent_due(_at(15), 5, rule, DAY) == _at(18)  # at midnight already: no extra day
    assert noncurrent_due(10.5, 0, Rule(id="r", enabled=True, shape="empty", noncurrent_days=2), 1.0) == 13.0
    assert noncurrent_due(_at(15), 0, Rule(id="r", enabled=True, shape="empty", expiration_days=1), DAY) is None


def test_newer_noncurrent_versions_are_kept_whatever_their_age() -> None:
    rule = Rule(id="r", enabled=True, shape="empty", noncurrent_days=1, newer_noncurrent_versions=2)
    assert noncurrent_due(0.0, 0, rule, DAY) is None
    assert noncurrent_due(0.0, 1, rule, DAY) is None
    assert noncurrent_due(0.0, 2, rule, DAY) == DAY


def _walk(rule: Rule, rows: list[ObjectVersion], now: float) -> list[str]:
    state = _KeyState()
    return [row.version_id for row in rows if expiring(row, state, rule, now, DAY)]


def test_a_versions_age_is_its_successors_last_modified() -> None:
    rule = Rule(id="r", enabled=True, shape="empty", noncurrent_days=1)
    rows = [_v("k", "v4", _at(20, 12), latest=True), _v("k", "v3", _at(18, 12)), _v("k", "v2", _at(10, 12)),
            _v("k", "v1", _at(1))]
    # v3 became noncurrent on the 20th at 12:00 -> due the 22nd; v2 on the 18th -> the 20th; v1 on the 10th.
    assert _walk(rule, rows, _at(19)) == ["v1"]
    assert _walk(rule, rows, _at(20)) == ["v2", "v1"]
    assert _walk(rule, rows, _at(21, 23)) == ["v2", "v1"]
    assert _walk(rule, rows, _at(22)) == ["v3", "v2", "v1"]


def test_markers_count_and_keys_restart() -> None:
    rule = Rule(id="r", enabled=True, shape="prefix", prefix="a", noncurrent_days=1, newer_noncurrent_versions=1,
                size_less_than=100)
    rows = [_v("a1", "m2", _at(5), latest=True, marker=True), _v("a1", "d1", _at(4)),
            _v("a1", "m1", _at(3), marker=True), _v("a1", "d0", _at(2), size=500), _v("a1", "d00", _at(1)),
            _v("a2", "x2", _at(5), latest=True), _v("a2", "x1", _at(1)), _v("a2", "x0", _at(1))]
    # a1: d1 is the newest noncurrent (kept); the marker m1 counts and goes; d0 is too big for the filter.
    # a2: x1 is kept as the newest noncurrent, x0 goes; the latest version of each key never does.
    assert _walk(rule, rows, _at(30)) == ["m1", "d00", "x0"]


def test_a_lone_latest_marker_and_a_page_resumed_mid_key() -> None:
    rule = Rule(id="r", enabled=True, shape="empty", noncurrent_days=1)
    state = _KeyState()
    assert not expiring(_v("k", "m", _at(5), latest=True, marker=True), state, rule, _at(30), DAY)
    assert expiring(_v("k", "a", _at(4)), state, rule, _at(30), DAY)
    # The next page goes on with the same key: the state carries the successor and the rank over.
    assert state.successor_modified == _at(4) and state.rank == 0
    assert not expiring(_v("k", "b", _at(3)), state, rule, _at(4, 23), DAY)  # noncurrent since the 4th: due the 5th


class _Versions:
    """A store's versions in S3's order, paged as ``list_object_versions`` pages them; a removal checks the
    caller's ``expect`` against the version as it is *now* (``changed``: its ETag since the listing)."""

    def __init__(self, rows: list[ObjectVersion], changed: frozenset[str] = frozenset()) -> None:
        self.rows = rows
        self.changed = changed
        self.pages = 0

    def bucket_versioning(self, bucket: str) -> str:
        return "Enabled"

    def list_object_versions(self, bucket: str, *, prefix: str = "", key_marker: str | None = None,
                             version_id_marker: str | None = None, limit: int = 1000) -> list[ObjectVersion]:
        self.pages += 1
        start = 0
        if key_marker is not None:
            start = next(i + 1 for i, r in enumerate(self.rows) if (r.key, r.version_id) == (key_marker,
                                                                                               version_id_marker))
        return [r for r in self.rows[start:] if r.key.startswith(prefix)][:limit]

    def delete_object_version(self, bucket: str, key: str, version_id: str, *, bucket_id: str | None = None,
                              expect: Callable[[Any, int], bool] | None = None) -> tuple[Any, list[str]]:
        row = next(r for r in self.rows if (r.key, r.version_id) == (key, version_id))
        now = SimpleNamespace(latest=row.is_latest, delete_marker=row.delete_marker, record=SimpleNamespace(
            etag="other" if version_id in self.changed else row.etag, last_modified=row.last_modified))
        mine = [r for r in self.rows if r.key == key and not r.is_latest]
        if expect is not None and not expect(now, mine.index(row) if not row.is_latest else 0):
            raise PreconditionFailed()
        self.rows.remove(row)
        return now, []


async def _write(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def test_the_pass_pages_resumes_after_kept_rows_and_leaves_changed_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle_noncurrent, "PAGE", 2)
    rows = [_v("a", "a9", _at(9), latest=True)] + [_v("a", f"a{n}", _at(n)) for n in range(8, 0, -1)] \
        + [_v("b", "b2", _at(2), latest=True), _v("b", "b1", _at(1))]
    store = _Versions(rows, changed=frozenset({"a3"}))
    node: Any = SimpleNamespace(store=store, blobs=None, write=_write)
    rule = Rule(id="r", enabled=True, shape="empty", noncurrent_days=1, newer_noncurrent_versions=2)
    removed = asyncio.run(lifecycle_noncurrent.expire_noncurrent(node, "bkt", "id", rule, _at(30), DAY))
    # a: a8 and a7 are the two newest noncurrent (kept); a3 changed since the listing (kept); b1 is b's only
    # noncurrent version (kept). Every page boundary fell on a removed row at least once.
    assert removed == 5
    assert [r.version_id for r in store.rows] == ["a9", "a8", "a7", "a3", "b2", "b1"]
    assert store.pages <= len(rows)  # bounded: pages of two, never the whole bucket at once


def test_a_version_is_kept_when_a_client_removed_a_newer_one_meanwhile(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page counted two newer noncurrent versions; by the time of the removal one of them is gone."""
    rows = [_v("k", "k3", _at(9), latest=True), _v("k", "k2", _at(8)), _v("k", "k1", _at(7))]
    store = _Versions(rows)
    listed = store.list_object_versions

    def list_then_client_deletes(*args: Any, **kwargs: Any) -> list[ObjectVersion]:
        page = listed(*args, **kwargs)
        store.rows[:] = [r for r in store.rows if r.version_id != "k2"]
        return page

    monkeypatch.setattr(store, "list_object_versions", list_then_client_deletes)
    node: Any = SimpleNamespace(store=store, blobs=None, write=_write)
    rule = Rule(id="r", enabled=True, shape="empty", noncurrent_days=1, newer_noncurrent_versions=1)
    assert asyncio.run(lifecycle_noncurrent.expire_noncurrent(node, "bkt", "id", rule, _at(30), DAY)) == 0
    assert [r.version_id for r in store.rows] == ["k3", "k1"]  # k1 is now the newest noncurrent: kept
