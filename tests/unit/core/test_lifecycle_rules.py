"""Lifecycle rules: AWS's day counting, rule matching, the earliest expiration, the document's validation and
its round trip, and the node-wide runner lock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from satchel.core.caches import GenerationGate, KeyedCache
from satchel.core.errors import InvalidArgument, InvalidRequest, MalformedXML, NotImplementedFeature, SatchelError
from satchel.core.lifecycle import (
    Rule,
    abort_date,
    abort_headers,
    due,
    dump,
    expiration,
    expiration_header,
    load,
)
from satchel.core.lifecycle_worker import RunnerLock
from satchel.meta.sqlite import SqliteStore
from satchel.s3.lifecyclexml import lifecycle_document, parse_lifecycle

DAY = 86400.0


def _at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


def test_days_round_up_to_the_next_midnight_utc() -> None:
    # AWS's own example: created 2014-01-15 10:30 UTC, 3 days -> 2014-01-19 00:00 UTC.
    assert due(_at(2014, 1, 15, 10, 30), 3, DAY) == _at(2014, 1, 19)
    assert due(_at(2014, 1, 15), 1, DAY) == _at(2014, 1, 16)  # already at midnight: no extra day
    assert due(_at(2014, 1, 15, 23, 59, 59), 1, DAY) == _at(2014, 1, 17)
    assert due(10.5, 2, 1.0) == 13.0  # an injected one-second day


def test_rule_matching() -> None:
    rule = Rule(id="r", enabled=True, shape="and", prefix="logs/", tags=(("a", "1"), ("b", "")),
                size_greater_than=10, size_less_than=100, expiration_days=1)
    assert rule.selects("logs/x", 50, (("b", ""), ("a", "1"), ("c", "3")))
    assert not rule.selects("other/x", 50, (("a", "1"), ("b", "")))
    assert not rule.selects("logs/x", 10, (("a", "1"), ("b", "")))  # strictly greater
    assert not rule.selects("logs/x", 100, (("a", "1"), ("b", "")))  # strictly less
    assert not rule.selects("logs/x", 50, (("a", "1"),))
    assert not rule.selects("logs/x", 50, (("a", "2"), ("b", "")))
    assert not rule.selects("logs/x", 50, None)
    assert Rule(id="u", enabled=True, shape="prefix", prefix="tmp/", abort_days=1).selects("tmp/upload")


def test_earliest_enabled_expiration_wins() -> None:
    rules = [
        Rule(id="ten", enabled=True, shape="empty", expiration_days=10),
        Rule(id="two", enabled=True, shape="prefix", prefix="a/", expiration_days=2),
        Rule(id="off", enabled=False, shape="empty", expiration_days=1),
        Rule(id="date", enabled=True, shape="tag", tags=(("t", "x"),), expiration_date="2014-01-17T00:00:00Z"),
        Rule(id="abort", enabled=True, shape="empty", abort_days=1),
    ]
    start = _at(2014, 1, 15, 10)
    assert expiration(rules, "a/k", 1, start, (), DAY) == (_at(2014, 1, 18), "two")
    assert expiration(rules, "b/k", 1, start, (), DAY) == (_at(2014, 1, 26), "ten")
    assert expiration(rules, "b/k", 1, start, (("t", "x"),), DAY) == (_at(2014, 1, 17), "date")
    assert expiration(rules[2:3], "b/k", 1, start, (), DAY) is None


def test_far_dates_make_no_header(tmp_path: Path) -> None:
    """Days is any positive integer: a rule of 10^17 days must not break every read of its bucket."""
    store = SqliteStore(tmp_path / "meta.sqlite3")
    try:
        store.set_lifecycle("b", dump([Rule(id="far", enabled=True, shape="empty", expiration_days=10**17,
                                            abort_days=10**17)]))
        node: Any = SimpleNamespace(lifecycles=KeyedCache(GenerationGate(store, ttl=0), store.get_lifecycle),
                                    settings=SimpleNamespace(lifecycle_day=DAY), store=store)
        assert expiration_header(node, "bucket", "b", "k", 1, 0.0) is None
        assert abort_headers(node, "b", "k", 0.0) == []
        store.set_lifecycle("b", dump([Rule(id="r", enabled=True, shape="empty", expiration_days=1, abort_days=2)]))
        assert expiration_header(node, "bucket", "b", "k", 1, 0.0) \
            == 'expiry-date="Fri, 02 Jan 1970 00:00:00 GMT", rule-id="r"'
        assert abort_headers(node, "b", "k", 0.0) == [
            ("x-amz-abort-date", "Sat, 03 Jan 1970 00:00:00 GMT"), ("x-amz-abort-rule-id", "r")]
    finally:
        store.close()


def test_earliest_abort_wins() -> None:
    rules = [
        Rule(id="week", enabled=True, shape="empty", abort_days=7),
        Rule(id="day", enabled=True, shape="prefix", prefix="tmp/", abort_days=1),
        Rule(id="off", enabled=False, shape="empty", abort_days=1),
        Rule(id="expire-only", enabled=True, shape="empty", expiration_days=1),
    ]
    start = _at(2014, 1, 15, 10)
    assert abort_date(rules, "tmp/x", start, DAY) == (_at(2014, 1, 17), "day")
    assert abort_date(rules, "other", start, DAY) == (_at(2014, 1, 23), "week")
    assert abort_date(rules[2:], "tmp/x", start, DAY) is None


def _document(*rules: str) -> bytes:
    return f"<LifecycleConfiguration>{''.join(rules)}</LifecycleConfiguration>".encode()


GOOD = [
    "<Rule><ID>legacy</ID><Prefix>old/</Prefix><Status>Enabled</Status><Expiration><Days>3</Days></Expiration></Rule>",
    "<Rule><ID>empty</ID><Filter></Filter><Status>Disabled</Status>"
    "<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>",
    "<Rule><ID>prefix</ID><Filter><Prefix>in/</Prefix></Filter><Status>Enabled</Status>"
    "<AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload>"
    "</Rule>",
    "<Rule><ID>tag</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status>"
    "<Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration></Rule>",
    "<Rule><ID>and</ID><Filter><And><Prefix>p/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag>"
    "<Tag><Key>b</Key><Value>2</Value></Tag><ObjectSizeGreaterThan>1</ObjectSizeGreaterThan>"
    "<ObjectSizeLessThan>9</ObjectSizeLessThan></And></Filter><Status>Enabled</Status>"
    "<Expiration><Days>1</Days></Expiration></Rule>",
    "<Rule><ID>greater</ID><Filter><ObjectSizeGreaterThan>5</ObjectSizeGreaterThan></Filter>"
    "<Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>",
    "<Rule><ID>noncurrent</ID><Filter><Prefix>v/</Prefix></Filter><Status>Enabled</Status>"
    "<NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays><NewerNoncurrentVersions>2"
    "</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>",
]


def test_documents_round_trip() -> None:
    rules = parse_lifecycle(_document(*GOOD))
    assert [r.shape for r in rules] == ["legacy", "empty", "prefix", "tag", "and", "greater", "prefix"]
    assert (rules[6].noncurrent_days, rules[6].newer_noncurrent_versions) == (30, 2)
    assert rules[4].tags == (("a", "1"), ("b", "2")) and (rules[4].size_greater_than, rules[4].size_less_than) == (1, 9)
    assert parse_lifecycle(lifecycle_document(rules)) == rules
    assert load(dump(rules)) == rules
    # Rules stored before NoncurrentVersionExpiration existed load with its fields unset.
    assert load('[{"id":"old","enabled":true,"shape":"empty","expiration_days":1}]')[0].noncurrent_days is None


def _r(inner: str, *, rule_id: str = "r") -> str:
    return f"<Rule><ID>{rule_id}</ID><Status>Enabled</Status>{inner}</Rule>"


EXPIRE = "<Expiration><Days>1</Days></Expiration>"


@pytest.mark.parametrize(("document", "error"), [
    (_document(), MalformedXML),
    (_document(_r("<Filter/>" + EXPIRE).replace("Enabled", "enabled")), MalformedXML),
    (_document(_r(EXPIRE)), MalformedXML),  # neither Filter nor Prefix
    (_document(_r("<Filter/><Prefix/>" + EXPIRE)), MalformedXML),  # both
    (_document(_r("<Filter><Prefix/><Prefix/></Filter>" + EXPIRE)), MalformedXML),
    (_document(_r("<Filter><And><Prefix/><Prefix/></And></Filter>" + EXPIRE)), MalformedXML),
    (_document(_r("<Filter/><Expiration><Days>1</Days><Date>2030-01-01</Date></Expiration>")), MalformedXML),
    (_document(_r("<Filter/><Expiration><Days>one</Days></Expiration>")), MalformedXML),
    (_document(_r("<Filter/><Expiration><Date>tomorrow</Date></Expiration>")), MalformedXML),
    (_document(_r("<Filter/>" + EXPIRE + EXPIRE)), MalformedXML),
    (_document(_r("<Filter><ObjectSizeLessThan>-1</ObjectSizeLessThan></Filter>" + EXPIRE)), MalformedXML),
    (_document(_r("<Filter/><Unknown/>" + EXPIRE)), MalformedXML),
    (_document(_r("<Filter/>" + EXPIRE), _r("<Filter/>" + EXPIRE)), InvalidArgument),
    (_document(_r("<Filter/><Expiration><Days>-1</Days></Expiration>")), InvalidArgument),
    (_document(_r("<Filter/><Expiration><Date>2030-01-01T00:00:01Z</Date></Expiration>")), InvalidArgument),
    (_document(_r("<Filter/>" + EXPIRE, rule_id="x" * 256)), InvalidArgument),
    (_document(_r("<Filter/>")), InvalidRequest),
    (_document(_r("<Filter><And><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key><Value>2</Value></Tag>"
                  "</And></Filter>" + EXPIRE)), InvalidRequest),
    (_document(_r("<Filter><Tag><Key>a</Key><Value>1</Value></Tag></Filter>"
                  "<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>")),
     InvalidRequest),
    (_document(_r("<Filter/><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass></Transition>")),
     NotImplementedFeature),
    (_document(_r("<Filter/><NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays>"
                  "</NoncurrentVersionExpiration>")), InvalidArgument),
    (_document(_r("<Filter/><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays>"
                  "<NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration>")),
     InvalidArgument),
    (_document(_r("<Filter/><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays>"
                  "<NewerNoncurrentVersions>0</NewerNoncurrentVersions></NoncurrentVersionExpiration>")),
     InvalidArgument),
    (_document(_r("<Filter/><NoncurrentVersionExpiration><NewerNoncurrentVersions>1</NewerNoncurrentVersions>"
                  "</NoncurrentVersionExpiration>")), MalformedXML),
    (_document(_r("<Filter/><NoncurrentVersionExpiration><NoncurrentDays>x</NoncurrentDays>"
                  "</NoncurrentVersionExpiration>")), MalformedXML),
    (_document(_r("<Filter/><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays>"
                  "<StorageClass>GLACIER</StorageClass></NoncurrentVersionExpiration>")), MalformedXML),
])
def test_invalid_documents(document: bytes, error: type[SatchelError]) -> None:
    with pytest.raises(error):
        parse_lifecycle(document)


def test_not_implemented_names_the_element() -> None:
    with pytest.raises(NotImplementedFeature) as caught:
        parse_lifecycle(_document(_r("<Filter/><NoncurrentVersionTransition/>")))
    assert "NoncurrentVersionTransition" in caught.value.message


def test_rules_are_cached_per_generation(tmp_path: Path) -> None:
    """GET/HEAD/PUT read a bucket's rules from a per-worker cache; storing rules bumps the generation, so
    every worker reloads them (within GENERATION_TTL; 0 here)."""
    store = SqliteStore(tmp_path / "meta.sqlite3")
    try:
        reads: list[str] = []

        def load(bucket_id: str) -> str | None:
            reads.append(bucket_id)
            return store.get_lifecycle(bucket_id)

        cache = KeyedCache(GenerationGate(store, ttl=0), load)
        assert cache.get("b1") is None and cache.get("b1") is None
        assert reads == ["b1"]  # "no rules" is cached too: buckets without rules cost no query
        store.set_lifecycle("b1", dump([Rule(id="r", enabled=True, shape="empty", expiration_days=1)]))
        assert cache.get("b1") is not None and len(reads) == 2
        store.set_lifecycle("b1", None)
        assert cache.get("b1") is None
    finally:
        store.close()


def test_one_runner_per_node(tmp_path: Path) -> None:
    first, second = RunnerLock(tmp_path / "lifecycle.lock"), RunnerLock(tmp_path / "lifecycle.lock")
    assert first.held() and first.held()
    assert not second.held()  # another open file description: another process, as far as flock goes
    first.release()
    assert second.held()
    second.release()
