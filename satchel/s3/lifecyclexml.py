"""The ``LifecycleConfiguration`` document of Put/GetBucketLifecycleConfiguration.

Parsing checks the document's shape as S3's schema does (MalformedXML: an unknown or repeated element,
a filter with two predicates, an Expiration with both Days and Date, a Status other than Enabled or
Disabled, a number that is not one); ``core/lifecycle.py`` then checks the values as AWS does. Actions
Satchel cannot apply are refused with 501, naming the element.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from satchel.core import lifecycle
from satchel.core.errors import MalformedXML, NotImplementedFeature
from satchel.core.lifecycle import Rule
from satchel.s3.xml import _children, _doc, _el, _fields, _local, _parse

#: 1000 rules with long ids, prefixes and tags stay far below this.
MAX_LIFECYCLE_XML = 2 << 20

#: One storage class: nothing to transition to.
_NOT_APPLIED = ("Transition", "NoncurrentVersionTransition")
_RULE_ELEMENTS = frozenset({"ID", "Status", "Filter", "Prefix", "Expiration", "AbortIncompleteMultipartUpload",
                            "NoncurrentVersionExpiration", *_NOT_APPLIED})
_NONCURRENT_ELEMENTS = frozenset({"NoncurrentDays", "NewerNoncurrentVersions"})
_FILTER_ELEMENTS = frozenset({"Prefix", "Tag", "And", "ObjectSizeGreaterThan", "ObjectSizeLessThan"})
_INTEGER = re.compile(r"-?[0-9]{1,18}")


def parse_lifecycle(body: bytes) -> tuple[Rule, ...]:
    root = _parse(body, "LifecycleConfiguration", MAX_LIFECYCLE_XML)
    if any(_local(child.tag) != "Rule" for child in root):
        raise MalformedXML()
    rules = tuple(_rule(element) for element in root)
    lifecycle.check_rules(rules)
    return rules


def _once(element: Element, name: str) -> Element | None:
    found = _children(element, name)
    if len(found) > 1:
        raise MalformedXML()
    return found[0] if found else None


def _integer(text: str | None) -> int | None:
    if text is None:
        return None
    if not _INTEGER.fullmatch(text.strip()):
        raise MalformedXML()
    return int(text)


def _rule(element: Element) -> Rule:
    names = [_local(child.tag) for child in element]
    for name in names:
        if name not in _RULE_ELEMENTS or names.count(name) > 1:
            raise MalformedXML()
        if name in _NOT_APPLIED:
            raise NotImplementedFeature(f"Satchel does not implement the lifecycle action {name}.", Element=name)
    fields = {_local(child.tag): child for child in element}
    status = (fields["Status"].text or "") if "Status" in fields else None
    if status not in ("Enabled", "Disabled"):
        raise MalformedXML()
    rule_id = fields["ID"].text or "" if "ID" in fields else ""
    shape, prefix, tags, greater, less = _filter(fields)
    days = date = marker = abort = None
    if "Expiration" in fields:
        expiration = _fields(fields["Expiration"], frozenset({"Days", "Date", "ExpiredObjectDeleteMarker"}))
        if len(expiration) != 1:
            raise MalformedXML()
        days = _integer(expiration.get("Days"))
        date = expiration.get("Date")
        if date is not None:
            lifecycle.parse_date(date)
        if "ExpiredObjectDeleteMarker" in expiration:
            marker = _boolean(expiration["ExpiredObjectDeleteMarker"])
    if "AbortIncompleteMultipartUpload" in fields:
        abort_fields = _fields(fields["AbortIncompleteMultipartUpload"], frozenset({"DaysAfterInitiation"}))
        abort = _integer(abort_fields.get("DaysAfterInitiation"))
        if abort is None:
            raise MalformedXML()
    noncurrent_days, newer = _noncurrent(fields.get("NoncurrentVersionExpiration"))
    return Rule(id=rule_id or lifecycle.new_rule_id(), enabled=status == "Enabled", shape=shape, prefix=prefix,
                tags=tags, size_greater_than=greater, size_less_than=less, expiration_days=days,
                expiration_date=date.strip() if date is not None else None, expired_object_delete_marker=marker,
                abort_days=abort, noncurrent_days=noncurrent_days, newer_noncurrent_versions=newer)


def _noncurrent(element: Element | None) -> tuple[int | None, int | None]:
    """(NoncurrentDays, NewerNoncurrentVersions) of a NoncurrentVersionExpiration; NoncurrentDays is required."""
    if element is None:
        return None, None
    found = _fields(element, _NONCURRENT_ELEMENTS)
    days = _integer(found.get("NoncurrentDays"))
    if days is None:
        raise MalformedXML()
    return days, _integer(found.get("NewerNoncurrentVersions"))


def _boolean(text: str) -> bool:
    if text.strip() not in ("true", "false"):
        raise MalformedXML()
    return text.strip() == "true"


_Filter = tuple[str, str, tuple[tuple[str, str], ...], int | None, int | None]


def _filter(fields: dict[str, Element]) -> _Filter:
    """(shape, prefix, tags, greater than, less than) of a rule: its Filter or its legacy Prefix, exactly one."""
    if ("Filter" in fields) == ("Prefix" in fields):
        raise MalformedXML()
    if "Prefix" in fields:
        return "legacy", fields["Prefix"].text or "", (), None, None
    element = fields["Filter"]
    children = list(element)
    if not children:
        return "empty", "", (), None, None
    if len(children) > 1 or _local(children[0].tag) not in _FILTER_ELEMENTS:
        raise MalformedXML()
    child = children[0]
    name = _local(child.tag)
    if name == "Prefix":
        return "prefix", child.text or "", (), None, None
    if name == "Tag":
        return "tag", "", (_tag(child),), None, None
    if name == "ObjectSizeGreaterThan":
        return "greater", "", (), _size(child.text), None
    if name == "ObjectSizeLessThan":
        return "less", "", (), None, _size(child.text)
    return _and(child)


def _and(element: Element) -> _Filter:
    prefix, tags, greater, less = "", [], None, None
    seen: set[str] = set()
    for child in element:
        name = _local(child.tag)
        if name not in _FILTER_ELEMENTS - {"And"} or (name != "Tag" and name in seen):
            raise MalformedXML()
        seen.add(name)
        if name == "Prefix":
            prefix = child.text or ""
        elif name == "Tag":
            tags.append(_tag(child))
        elif name == "ObjectSizeGreaterThan":
            greater = _size(child.text)
        else:
            less = _size(child.text)
    return "and", prefix, tuple(tags), greater, less


def _tag(element: Element) -> tuple[str, str]:
    fields = _fields(element, frozenset({"Key", "Value"}))
    if "Key" not in fields or "Value" not in fields:
        raise MalformedXML()
    return fields["Key"], fields["Value"]


def _size(text: str | None) -> int:
    number = _integer(text or "")
    if number is None or number < 0:
        raise MalformedXML()
    return number


# --- rendering -------------------------------------------------------------------------------------
def lifecycle_document(rules: tuple[Rule, ...]) -> bytes:
    return _doc("LifecycleConfiguration", [_render(rule) for rule in rules])


def _render(rule: Rule) -> str:
    parts = [_el("ID", rule.id)]
    parts.append(_el("Prefix", rule.prefix) if rule.shape == "legacy" else f"<Filter>{_render_filter(rule)}</Filter>")
    parts.append(_el("Status", "Enabled" if rule.enabled else "Disabled"))
    if rule.expiration_days is not None:
        parts.append(f"<Expiration>{_el('Days', rule.expiration_days)}</Expiration>")
    elif rule.expiration_date is not None:
        parts.append(f"<Expiration>{_el('Date', rule.expiration_date)}</Expiration>")
    elif rule.expired_object_delete_marker is not None:
        marker = "true" if rule.expired_object_delete_marker else "false"
        parts.append(f"<Expiration>{_el('ExpiredObjectDeleteMarker', marker)}</Expiration>")
    if rule.abort_days is not None:
        parts.append("<AbortIncompleteMultipartUpload>"
                     f"{_el('DaysAfterInitiation', rule.abort_days)}</AbortIncompleteMultipartUpload>")
    if rule.noncurrent_days is not None:
        newer = rule.newer_noncurrent_versions
        parts.append(f"<NoncurrentVersionExpiration>{_el('NoncurrentDays', rule.noncurrent_days)}"
                     + (_el("NewerNoncurrentVersions", newer) if newer is not None else "")
                     + "</NoncurrentVersionExpiration>")
    return f"<Rule>{''.join(parts)}</Rule>"


def _render_tag(key: str, value: str) -> str:
    return f"<Tag>{_el('Key', key)}{_el('Value', value)}</Tag>"


def _render_filter(rule: Rule) -> str:
    predicates = {
        "prefix": _el("Prefix", rule.prefix),
        "greater": _el("ObjectSizeGreaterThan", rule.size_greater_than),
        "less": _el("ObjectSizeLessThan", rule.size_less_than),
    }
    if rule.shape == "empty":
        return ""
    if rule.shape == "tag":
        return _render_tag(*rule.tags[0])
    if rule.shape in predicates:
        return predicates[rule.shape]
    inner = (_el("Prefix", rule.prefix) if rule.prefix else "") + "".join(_render_tag(k, v) for k, v in rule.tags) \
        + predicates["greater"] + predicates["less"]
    return f"<And>{inner}</And>"
