"""Bucket lifecycle rules: the model, AWS's validation, storage as JSON, and which object a rule expires when.

What Satchel applies (``core/lifecycle_worker.py`` runs them): ``Expiration`` by ``Days`` or ``Date`` and
``AbortIncompleteMultipartUpload``, on objects selected by a ``Filter`` (``Prefix``, ``Tag``,
``ObjectSizeGreaterThan``, ``ObjectSizeLessThan``, or several of them in ``And``) or by the legacy
top-level ``Prefix``, and ``ExpiredObjectDeleteMarker`` (a delete marker left as its key's only version
is removed: ``core/versioning.py``), and ``NoncurrentVersionExpiration`` (``NoncurrentDays``, optionally
``NewerNoncurrentVersions``: ``core/lifecycle_noncurrent.py``). Transitions (one storage class) are refused
with ``501 NotImplemented`` naming the element: accepting a rule we cannot apply would be a silent lie. A
``Tag`` filter on a ``NoncurrentVersionExpiration`` rule applies to each version's own tags.

Day counting is AWS's: a rule of N days expires an object at the first midnight UTC at or after its
last modification plus N days (an upload: its initiation plus N days). The length of a "day" is the
``lifecycle_day`` setting (86400 s; tests shorten it, so "midnight" is then a multiple of that length).

Permissions: reading, writing and deleting a bucket's lifecycle rules is bucket configuration
(``BUCKET_ADMIN``, as CORS); the worker acts for the bucket, not for a user.
"""

from __future__ import annotations

import functools
import json
import math
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from urllib.parse import quote

from satchel.core.access import Action
from satchel.core.buckets import bucket_for
from satchel.core.errors import (
    InvalidArgument,
    InvalidRequest,
    MalformedXML,
    NoSuchLifecycleConfiguration,
)
from satchel.core.models import Principal
from satchel.core.node import Node
from satchel.core.tagging import Tags

MAX_RULES = 1000
#: 10000-01-01T00:00:00Z: the first moment an HTTP date (four-digit year) cannot name.
_LAST_HTTP_DATE = 253402300800.0
MAX_ID_CHARS = 255
#: AWS's ceiling on ``NewerNoncurrentVersions``.
MAX_NEWER_NONCURRENT = 100
#: How a rule's filter was written, so GetBucketLifecycleConfiguration gives back what was put.
SHAPES = ("legacy", "empty", "prefix", "tag", "and", "greater", "less")


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    enabled: bool
    #: One of :data:`SHAPES`.
    shape: str
    prefix: str = ""
    tags: Tags = ()
    size_greater_than: int | None = None
    size_less_than: int | None = None
    expiration_days: int | None = None
    #: ``Expiration/Date`` as written (ISO 8601, midnight UTC); see :meth:`expiration_time`.
    expiration_date: str | None = None
    expired_object_delete_marker: bool | None = None
    abort_days: int | None = None
    #: ``NoncurrentVersionExpiration``: ``NoncurrentDays`` and ``NewerNoncurrentVersions``.
    noncurrent_days: int | None = None
    newer_noncurrent_versions: int | None = None

    @property
    def expiration_time(self) -> float | None:
        return parse_date(self.expiration_date) if self.expiration_date is not None else None

    @property
    def expires(self) -> bool:
        return self.expiration_days is not None or self.expiration_date is not None

    def selects(self, key: str, size: int | None = None, tags: Tags | None = None) -> bool:
        """The rule's filter admits this object (``size`` None: an upload, whose size is unknown;
        ``tags`` None: not looked up, only valid when the rule has no tag condition)."""
        if not key.startswith(self.prefix):
            return False
        if size is not None:
            if self.size_greater_than is not None and not size > self.size_greater_than:
                return False
            if self.size_less_than is not None and not size < self.size_less_than:
                return False
        if self.tags:
            have = dict(tags or ())
            return all(have.get(k) == v for k, v in self.tags)
        return True


def parse_date(text: str) -> float:
    """An ISO 8601 date or date-time (``2030-01-01``, ``2030-01-01T00:00:00Z``, ``...00.000Z``) as epoch
    seconds; MalformedXML otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise MalformedXML() from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def due(start: float, days: int, day: float) -> float:
    """When something started at ``start`` is N days old by AWS's count: start + N days, rounded up to
    the next midnight UTC (a multiple of ``day`` since the epoch)."""
    return math.ceil((start + days * day) / day) * day


def check_rules(rules: Sequence[Rule]) -> None:
    """AWS's checks on a whole configuration, beyond the document's shape (``s3/lifecyclexml.py``)."""
    if not rules or len(rules) > MAX_RULES:
        raise MalformedXML()
    seen: set[str] = set()
    for rule in rules:
        if len(rule.id) > MAX_ID_CHARS:
            raise InvalidArgument("ID length should not exceed allowed limit of 255", ArgumentName="ID",
                                  ArgumentValue=rule.id[:MAX_ID_CHARS])
        if rule.id in seen:
            raise InvalidArgument("Rule ID must be unique. Found same ID for more than one rule",
                                  ArgumentName="ID", ArgumentValue=rule.id)
        seen.add(rule.id)
        _check_rule(rule)


def _check_rule(rule: Rule) -> None:
    if rule.expiration_days is not None and rule.expiration_days <= 0:
        raise InvalidArgument("'Days' for Expiration action must be a positive integer", ArgumentName="Days")
    if rule.abort_days is not None and rule.abort_days <= 0:
        raise InvalidArgument("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive "
                              "integer", ArgumentName="DaysAfterInitiation")
    moment = rule.expiration_time
    if moment is not None and moment % 86400:
        raise InvalidArgument("'Date' must be at midnight GMT", ArgumentName="Date",
                              ArgumentValue=rule.expiration_date or "")
    _check_noncurrent(rule)
    if (not rule.expires and rule.expired_object_delete_marker is None and rule.abort_days is None
            and rule.noncurrent_days is None):
        raise InvalidRequest("At least one action needs to be specified in a rule")
    if rule.tags and rule.abort_days is not None:
        raise InvalidRequest("AbortIncompleteMultipartUpload cannot be specified with Tags.")
    if rule.tags and rule.expired_object_delete_marker is not None:
        raise InvalidRequest("ExpiredObjectDeleteMarker cannot be specified with Tags.")
    keys = [k for k, _ in rule.tags]
    if len(set(keys)) != len(keys):
        raise InvalidRequest("Duplicate Tag Keys are not allowed.")
    low, high = rule.size_greater_than, rule.size_less_than
    if low is not None and high is not None and low >= high:
        raise InvalidRequest("ObjectSizeGreaterThan must be less than ObjectSizeLessThan")


def _check_noncurrent(rule: Rule) -> None:
    if rule.noncurrent_days is not None and rule.noncurrent_days <= 0:
        raise InvalidArgument("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
                              ArgumentName="NoncurrentDays")
    newer = rule.newer_noncurrent_versions
    if newer is not None and not 1 <= newer <= MAX_NEWER_NONCURRENT:
        raise InvalidArgument("'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive "
                              f"integer no greater than {MAX_NEWER_NONCURRENT}", ArgumentName="NewerNoncurrentVersions")


def noncurrent_due(became_noncurrent: float, rank: int, rule: Rule, day: float) -> float | None:
    """When ``rule`` expires a noncurrent version (None: never). ``became_noncurrent`` is when its successor
    was written; ``rank`` counts the key's noncurrent versions newer than it (0: the newest noncurrent one).
    The newest ``NewerNoncurrentVersions`` noncurrent versions are kept whatever their age."""
    if rule.noncurrent_days is None:
        return None
    if rule.newer_noncurrent_versions is not None and rank < rule.newer_noncurrent_versions:
        return None
    return due(became_noncurrent, rule.noncurrent_days, day)


def new_rule_id() -> str:
    """AWS names a rule sent without ID with a random one."""
    return secrets.token_urlsafe(36)[:48]


# --- storage ---------------------------------------------------------------------------------------
def dump(rules: Sequence[Rule]) -> str:
    return json.dumps([asdict(rule) for rule in rules], separators=(",", ":"))


def load(text: str) -> tuple[Rule, ...]:
    found = []
    for item in json.loads(text):
        item["tags"] = tuple(tuple(pair) for pair in item.get("tags", ()))
        found.append(Rule(**item))
    return tuple(found)


# --- operations ------------------------------------------------------------------------------------
def get_rules(node: Node, principal: Principal, bucket: str) -> tuple[Rule, ...]:
    target = bucket_for(node, principal, bucket, Action.BUCKET_ADMIN)
    stored = node.store.get_lifecycle(target.id)
    if stored is None:
        raise NoSuchLifecycleConfiguration(BucketName=bucket)
    return load(stored)


async def put_rules(node: Node, principal: Principal, bucket: str, rules: Sequence[Rule] | None) -> None:
    """Replace the bucket's rules (None deletes them), checked as AWS checks them."""
    target = bucket_for(node, principal, bucket, Action.BUCKET_ADMIN)
    if rules is not None:
        check_rules(rules)
    await node.write(node.store.set_lifecycle, target.id, dump(rules) if rules is not None else None)


def expiration(rules: Sequence[Rule], key: str, size: int, last_modified: float, tags: Tags | None,
               day: float) -> tuple[float, str] | None:
    """(when, rule id) of the earliest expiration the enabled rules set for this object, if any."""
    best: tuple[float, str] | None = None
    for rule in rules:
        if not rule.enabled or not rule.expires or not rule.selects(key, size, tags):
            continue
        date = rule.expiration_time
        when = date if date is not None else due(last_modified, rule.expiration_days or 0, day)
        if best is None or when < best[0]:
            best = (when, rule.id)
    return best


def abort_date(rules: Sequence[Rule], key: str, initiated: float, day: float) -> tuple[float, str] | None:
    """(when, rule id) of the earliest AbortIncompleteMultipartUpload the enabled rules set for an upload."""
    found = [(due(initiated, rule.abort_days, day), rule.id) for rule in rules
             if rule.enabled and rule.abort_days is not None and rule.selects(key)]
    return min(found) if found else None


def _rules_of(node: Node, bucket_id: str) -> tuple[Rule, ...]:
    """The bucket's rules through the per-worker cache: no query on the hot path once looked up."""
    stored = node.lifecycles.get(bucket_id)
    return _load_cached(stored) if stored is not None else ()


@functools.lru_cache(maxsize=256)
def _load_cached(stored: str) -> tuple[Rule, ...]:
    return load(stored)


def _header_id(rule_id: str, *, quoted: bool) -> str:
    """A rule id as a header may carry it (inside a quoted-string: escaped); percent-encoded when it is not
    printable ASCII."""
    if not (rule_id.isascii() and rule_id.isprintable()):
        return quote(rule_id, safe="")
    return rule_id.replace("\\", "\\\\").replace('"', '\\"') if quoted else rule_id


def abort_headers(node: Node, bucket_id: str, key: str, initiated: float) -> list[tuple[str, str]]:
    """``x-amz-abort-date`` and ``x-amz-abort-rule-id`` of CreateMultipartUpload, when a rule will abort it."""
    found = abort_date(_rules_of(node, bucket_id), key, initiated, node.settings.lifecycle_day)
    if found is None or found[0] >= _LAST_HTTP_DATE:
        return []
    when, rule_id = found
    return [("x-amz-abort-date", formatdate(when, usegmt=True)),
            ("x-amz-abort-rule-id", _header_id(rule_id, quoted=False))]


def expiration_header(node: Node, bucket: str, bucket_id: str, key: str, size: int, last_modified: float
                      ) -> str | None:
    """``x-amz-expiration`` for an object a rule will expire: ``expiry-date="<HTTP date>", rule-id="<id>"``
    (one indexed read when the bucket has no rules; one more for tags when a rule filters on them)."""
    rules = _rules_of(node, bucket_id)
    if not rules:
        return None
    tags = None
    if any(rule.tags for rule in rules if rule.enabled and rule.expires):
        tags = node.store.get_object_tags(bucket, key)
    found = expiration(rules, key, size, last_modified, tags, node.settings.lifecycle_day)
    if found is None or found[0] >= _LAST_HTTP_DATE:
        return None  # a rule of a million years: nothing an HTTP date can say
    when, rule_id = found
    return f'expiry-date="{formatdate(when, usegmt=True)}", rule-id="{_header_id(rule_id, quoted=True)}"'
