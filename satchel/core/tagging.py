"""Object and bucket tags: AWS's limits and validation, and the operations on them, protocol-neutral.

Tags are (key, value) pairs in the order the client gave them. AWS's rules, applied to every way tags
arrive (a ``Tagging`` document, the ``x-amz-tagging`` header, the POST form's ``tagging`` field):

- at most 10 tags on an object and 50 on a bucket (``BadRequest``);
- keys of 1 to 128 and values of 0 to 256 Unicode characters, made of letters, numbers, separators
  (Unicode's ``\\p{L}``, ``\\p{N}``, ``\\p{Z}``: spaces, not line breaks or tabs) and ``_ . : / = + - @``:
  AWS's ``^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$`` (``InvalidTag``);
- keys unique within a set (``InvalidTag``; ``InvalidArgument`` for the header, as AWS answers);
- no key starting with ``aws:``, AWS's reserved prefix (``InvalidTag``).

Who may touch them is :func:`~satchel.core.access.authorize`'s decision, following AWS's split:
reading an object's tags (s3:GetObjectTagging, and ``x-amz-tagging-count`` on a read) is
``OBJECT_TAGS_READ`` — what a read grant gives, but not a public-read bucket, whose anonymous readers
get the content and not the owner's bookkeeping; putting or deleting them (s3:PutObjectTagging,
s3:DeleteObjectTagging) is a write of the object's metadata (``OBJECT_WRITE``); bucket tags are bucket
configuration (``BUCKET_ADMIN``), like CORS.

Object tags live in their own table keyed like the object (``meta/sqlite_tagging.py``): the store
writes them in the transaction that writes the object, so an overwrite replaces them and a delete
removes them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from urllib.parse import quote, unquote_plus

from satchel.core import versioning
from satchel.core.access import Action, Resource, authorize
from satchel.core.buckets import bucket_for
from satchel.core.errors import BadRequest, InvalidArgument, InvalidTag, NoSuchKey, NoSuchTagSet, NoSuchVersion
from satchel.core.models import Bucket, Principal
from satchel.core.node import Node

#: A tag set: (key, value) pairs, keys unique, in the client's order.
Tags = tuple[tuple[str, str], ...]

MAX_OBJECT_TAGS = 10
MAX_BUCKET_TAGS = 50
MAX_KEY_CHARS = 128
MAX_VALUE_CHARS = 256
#: The longest ``x-amz-tagging`` header worth parsing: 10 tags of 128 + 256 characters, each up to
#: 4 UTF-8 bytes percent-encoded (12 characters), with separators.
MAX_HEADER_CHARS = MAX_OBJECT_TAGS * (MAX_KEY_CHARS + MAX_VALUE_CHARS) * 12 + 2 * MAX_OBJECT_TAGS
RESERVED_PREFIX = "aws:"
#: The punctuation AWS's tag pattern allows besides letters, numbers and separators.
_PUNCTUATION = frozenset("_.:/=+-@")
_HEADER_FORM = ("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without "
                "tag name duplicates.")


def validate(tags: Iterable[tuple[str, str]], limit: int, *, header: bool = False) -> Tags:
    """The tag set, checked against AWS's rules (see the module docstring); ``limit`` is 10 or 50.
    ``header``: the set came as ``x-amz-tagging``, whose duplicate keys AWS calls InvalidArgument."""
    checked: list[tuple[str, str]] = []
    seen: set[str] = set()
    for key, value in tags:
        if len(checked) >= limit:
            what = "Object" if limit == MAX_OBJECT_TAGS else "Bucket"
            raise BadRequest(f"{what} tags cannot be greater than {limit}")
        if not 1 <= len(key) <= MAX_KEY_CHARS or not allowed(key):
            raise InvalidTag("The TagKey you have provided is invalid", TagKey=key[:MAX_KEY_CHARS])
        if len(value) > MAX_VALUE_CHARS or not allowed(value):
            raise InvalidTag("The TagValue you have provided is invalid", TagKey=key)
        if key.lower().startswith(RESERVED_PREFIX):
            raise InvalidTag("Your TagKey cannot be prefixed with aws:", TagKey=key)
        if key in seen:
            if header:
                raise InvalidArgument(_HEADER_FORM, ArgumentName="x-amz-tagging")
            raise InvalidTag("Cannot provide multiple Tags with the same key", TagKey=key)
        seen.add(key)
        checked.append((key, value))
    return tuple(checked)


def allowed(text: str) -> bool:
    """AWS's ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*``, by Unicode category: not Python's ``\\w\\s``, which lets in
    newlines, tabs and other control characters (a key with a newline breaks every log line and listing
    that shows it)."""
    return all(char in _PUNCTUATION or unicodedata.category(char)[0] in "LNZ" for char in text)


def parse_header(value: str) -> Tags:
    """``x-amz-tagging`` (and the query form of a POST policy's ``$tagging``): URL query form,
    ``k1=v1&k2=v2``, UTF-8 percent-encoded; ``k`` alone is the key with an empty value."""
    if len(value) > MAX_HEADER_CHARS:
        raise BadRequest(f"Object tags cannot be greater than {MAX_OBJECT_TAGS}")
    if not value.strip():
        return ()
    pairs: list[tuple[str, str]] = []
    for piece in value.split("&"):
        name, _, text = piece.partition("=")
        try:
            if not name:
                raise ValueError(piece)
            pairs.append((unquote_plus(name, errors="strict"), unquote_plus(text, errors="strict")))
        except (ValueError, UnicodeDecodeError):
            raise InvalidArgument(_HEADER_FORM, ArgumentName="x-amz-tagging") from None
    return validate(pairs, MAX_OBJECT_TAGS, header=True)


def encode_header(tags: Tags) -> str:
    """The ``x-amz-tagging`` form of a tag set (what clients send; used in tests and by the CLI)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in tags)


# --- object tags -------------------------------------------------------------------------------------
def get_object_tags(node: Node, principal: Principal, bucket: str, key: str, version_id: str | None = None) -> Tags:
    """The current version's tags, or version ``version_id``'s (s3:GetObjectVersionTagging to a policy)."""
    if version_id is not None:
        versioning.named_version(node, principal, bucket, key, version_id, Action.OBJECT_TAGS_READ)
    bucket_for(node, principal, bucket, Action.OBJECT_TAGS_READ, key)
    tags = node.store.get_object_tags(bucket, key, version_id)
    if tags is None:
        raise NoSuchKey(Key=key) if version_id is None else NoSuchVersion(Key=key, VersionId=version_id)
    return tags


async def put_object_tags(node: Node, principal: Principal, bucket: str, key: str, tags: Tags,
                          version_id: str | None = None) -> None:
    """Replace the tags of an existing object's current version, or of its version ``version_id`` (its
    bytes, ETag and Last-Modified stay)."""
    if version_id is not None:
        await node.read(versioning.named_version, node, principal, bucket, key, version_id, Action.OBJECT_WRITE)
    target = bucket_for(node, principal, bucket, Action.OBJECT_WRITE, key)
    if not await node.write(node.store.set_object_tags, bucket, key, tags, bucket_id=target.id,
                            version_id=version_id):
        raise NoSuchKey(Key=key) if version_id is None else NoSuchVersion(Key=key, VersionId=version_id)


def tag_count(node: Node, principal: Principal, bucket: Bucket, key: str, version_id: str | None = None) -> int:
    """How many tags the version read has (``x-amz-tagging-count``; ``version_id`` as its record names it,
    None for the null version); 0, as for none, unless the principal may read them (AWS sends the count only
    "when you have the relevant permission")."""
    if not authorize(principal, Action.OBJECT_TAGS_READ, Resource(bucket=bucket, key=key)):
        return 0
    return node.store.count_object_tags(bucket.name, key, version_id)


# --- bucket tags -------------------------------------------------------------------------------------
def get_bucket_tags(node: Node, principal: Principal, bucket: str) -> Tags:
    target = bucket_for(node, principal, bucket, Action.BUCKET_ADMIN)
    tags = node.store.get_bucket_tags(target.id)
    if not tags:
        raise NoSuchTagSet(BucketName=bucket)
    return tags


async def put_bucket_tags(node: Node, principal: Principal, bucket: str, tags: Tags) -> None:
    """Replace the bucket's tags; an empty set removes them (as DeleteBucketTagging does)."""
    target = bucket_for(node, principal, bucket, Action.BUCKET_ADMIN)
    await node.write(node.store.set_bucket_tags, target.id, tags)
