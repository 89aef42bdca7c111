"""The ``Tagging`` document of S3's tagging operations and of the POST form's ``tagging`` field.

``<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag>...</TagSet></Tagging>``: one TagSet, each
Tag exactly one Key and one Value; anything else is MalformedXML. The tag rules themselves (counts,
lengths, characters, duplicates) are ``core/tagging.py``'s.
"""

from __future__ import annotations

from satchel.core import tagging
from satchel.core.errors import MalformedXML
from satchel.core.tagging import Tags
from satchel.s3.xml import _children, _doc, _el, _fields, _parse

#: 50 tags of 128 + 256 characters, escaped, with their markup: far below this.
MAX_TAGGING_XML = 256 * 1024

_TAG_FIELDS = frozenset({"Key", "Value"})


def tagging_document(tags: Tags) -> bytes:
    """GetObjectTagging / GetBucketTagging answer."""
    body = "".join(f"<Tag>{_el('Key', k)}{_el('Value', v)}</Tag>" for k, v in tags)
    return _doc("Tagging", [f"<TagSet>{body}</TagSet>"])


def parse_tagging(body: bytes, limit: int) -> Tags:
    """A Tagging document -> its tags, validated for an object (``limit`` 10) or a bucket (50)."""
    root = _parse(body, "Tagging", MAX_TAGGING_XML)
    sets = _children(root, "TagSet")
    if len(sets) != 1 or len(root) != 1:
        raise MalformedXML()
    pairs: list[tuple[str, str]] = []
    for element in sets[0]:
        if element.tag.rpartition("}")[2] != "Tag":
            raise MalformedXML()
        fields = _fields(element, _TAG_FIELDS)
        if "Key" not in fields or "Value" not in fields:
            raise MalformedXML()
        pairs.append((fields["Key"], fields["Value"]))
    return tagging.validate(pairs, limit)
