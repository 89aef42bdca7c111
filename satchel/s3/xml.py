"""S3 XML bodies: rendering answers and parsing request documents.

Rendering builds strings directly (escaped by :func:`escape`): a 1000-key listing renders several
times faster than through ElementTree, and every value passes one escaping function. Every answer is
checked in the tests by feeding it to botocore's own parser, so real clients read what we write.

Parsing goes through defusedxml only (no DTDs, no entity expansion, no external references) and
refuses bodies above a size limit; anything malformed is :class:`MalformedXML`, as S3 answers. The
S3 namespace may be present or absent: SDKs send it, curl users and some tools do not.

Keys containing characters XML 1.0 cannot carry (``\\x01``...) are written as character references,
as S3 does; clients that need them intact ask for ``encoding-type=url`` (botocore always does for
listings), in which case the list renderers URL-encode keys, prefixes and markers.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple
from urllib.parse import quote
from xml.etree.ElementTree import Element, ParseError

from defusedxml import ElementTree as SafeET

from satchel.core.cors import MAX_CORS_CONFIG_BYTES, MAX_CORS_RULES, cors_rule
from satchel.core.errors import InvalidRequest, MalformedXML
from satchel.core.models import Bucket, CorsRule, ListPage, ObjectSummary, Part, Upload

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'

#: Largest request documents we parse. DeleteObjects carries up to 1000 keys of up to 1 KiB (more
#: once escaped); CompleteMultipartUpload up to 10000 parts with checksums.
MAX_DELETE_XML = 8 << 20
MAX_COMPLETE_XML = 8 << 20
MAX_CONFIG_XML = 1 << 20
MAX_DELETE_KEYS = 1000

#: Our checksum names (core/models.py) -> S3 element names.
CHECKSUM_ELEMENTS: dict[str, str] = {
    "crc32": "ChecksumCRC32",
    "crc32c": "ChecksumCRC32C",
    "crc64nvme": "ChecksumCRC64NVME",
    "sha1": "ChecksumSHA1",
    "sha256": "ChecksumSHA256",
    "sha512": "ChecksumSHA512",
    "md5": "ChecksumMD5",
}
_CHECKSUM_NAMES = {element: name for name, element in CHECKSUM_ELEMENTS.items()}
#: Part checksums S3 defines that Satchel cannot check: refused in CompleteMultipartUpload, never skipped.
_UNCHECKABLE = frozenset({"ChecksumXXHASH64", "ChecksumXXHASH3", "ChecksumXXHASH128"})
#: Every field S3 defines for a CompleteMultipartUpload ``<Part>`` (botocore's CompletedPart).
_PART_FIELDS = frozenset({"PartNumber", "ETag", *_CHECKSUM_NAMES, *_UNCHECKABLE})

# --- escaping -------------------------------------------------------------------------------------
_NEEDS_ESCAPE = re.compile("[&<>\"'\x00-\x1f\ud800-\udfff\ufffe\uffff]")
# Parsers turn a literal CR into LF and reject C0 controls, so S3 writes these as references
# (&#13; ...); lone surrogates (undecodable path bytes) would otherwise make encode() raise.
_CONTROL = re.compile("[\x00-\x1f\ud800-\udfff\ufffe\uffff]")
_ELEMENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_INTEGER = re.compile(r"\s*[0-9]{1,9}\s*")
#: ETags as Satchel makes them (hex MD5, "-N" for multipart): nothing in them needs escaping.
_PLAIN_ETAG = re.compile(r"[0-9a-f]+(?:-[0-9]+)?").fullmatch


def escape(text: str) -> str:
    """Escape text for element content: the five XML specials and characters XML cannot hold."""
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    text = (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )
    return _CONTROL.sub(lambda m: f"&#{ord(m.group())};", text)


def url_encode(text: str) -> str:
    """``encoding-type=url`` form: percent-encoded UTF-8, ``/`` kept, as S3 and MinIO write it.

    botocore decodes with ``unquote_plus``, so ``+`` must be (and is) written ``%2B``.
    """
    return quote(text, safe="/", errors="surrogateescape")


def timestamp(seconds: float) -> str:
    """ISO 8601 with milliseconds in UTC, as S3 lists times: ``2009-10-12T17:50:30.000Z``."""
    # Round to the microsecond first (as datetime does): 1255369830.001 is 1255369830.000999927...
    whole, micros = divmod(round(seconds * 1_000_000), 1_000_000)
    return f"{_utc_second(whole)}.{micros // 1000:03d}Z"


@functools.lru_cache(maxsize=4096)
def _utc_second(whole: int) -> str:
    # Objects written together share their second: a listing page formats each second once.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))


def quote_etag(etag: str) -> str:
    return etag if etag.startswith('"') else f'"{etag}"'


def _el(name: str, value: str | int | None) -> str:
    if value is None:
        return ""
    return f"<{name}>{escape(value) if isinstance(value, str) else value}</{name}>"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _doc(root: str, body: Iterable[str], *, ns: bool = True) -> bytes:
    attrs = f' xmlns="{S3_NS}"' if ns else ""
    return f"{_DECL}<{root}{attrs}>{''.join(body)}</{root}>".encode()


def _owner(tag: str, owner_id: str, owner_name: str) -> str:
    return f"<{tag}>{_el('ID', owner_id)}{_el('DisplayName', owner_name)}</{tag}>"


def _checksums(checksums: Mapping[str, str] | None) -> str:
    if not checksums:
        return ""
    return "".join(_el(el, checksums[name]) for name, el in CHECKSUM_ELEMENTS.items() if name in checksums)


# --- service and bucket answers -------------------------------------------------------------------
def list_buckets(buckets: Iterable[Bucket], owner_id: str, owner_name: str, *, region: str,
                 prefix: str | None = None, continuation_token: str | None = None) -> bytes:
    """``continuation_token``: set when the page is truncated (the next page starts after it)."""
    rows = "".join(
        f"<Bucket>{_el('Name', b.name)}{_el('CreationDate', timestamp(b.created))}{_el('BucketRegion', region)}"
        "</Bucket>" for b in buckets
    )
    return _doc("ListAllMyBucketsResult", (
        _owner("Owner", owner_id, owner_name), f"<Buckets>{rows}</Buckets>",
        _el("ContinuationToken", continuation_token) if continuation_token else "",
        _el("Prefix", prefix) if prefix is not None else "",
    ))


def location(region: str) -> bytes:
    """GetBucketLocation: AWS answers an empty constraint for us-east-1, the historical default."""
    if region in ("", "us-east-1"):
        return f'{_DECL}<LocationConstraint xmlns="{S3_NS}"/>'.encode()
    return _doc("LocationConstraint", (escape(region),))


def versioning_configuration() -> bytes:
    """Versioning was never enabled: an empty configuration, as S3 answers for such a bucket."""
    return f'{_DECL}<VersioningConfiguration xmlns="{S3_NS}"/>'.encode()


def policy_status(public: bool) -> bytes:
    """GetBucketPolicyStatus."""
    return _doc("PolicyStatus", [_el("IsPublic", _bool(public))])


def access_control_policy(owner_id: str, owner_name: str) -> bytes:
    """The canned ACL we can truthfully claim: the owner has FULL_CONTROL (grants live elsewhere)."""
    grantee = (
        f'<Grantee xmlns:xsi="{XSI_NS}" xsi:type="CanonicalUser">'
        f"{_el('ID', owner_id)}{_el('DisplayName', owner_name)}</Grantee>"
    )
    return _doc(
        "AccessControlPolicy",
        (
            _owner("Owner", owner_id, owner_name),
            f"<AccessControlList><Grant>{grantee}<Permission>FULL_CONTROL</Permission></Grant></AccessControlList>",
        ),
    )


def cors_configuration(rules: Iterable[CorsRule]) -> bytes:
    out = []
    for rule in rules:
        out.append("<CORSRule>")
        out.append(_el("ID", rule.id))
        out.extend(_el("AllowedHeader", h) for h in rule.allowed_headers)
        out.extend(_el("AllowedMethod", m) for m in rule.allowed_methods)
        out.extend(_el("AllowedOrigin", o) for o in rule.allowed_origins)
        out.extend(_el("ExposeHeader", h) for h in rule.expose_headers)
        out.append(_el("MaxAgeSeconds", rule.max_age_seconds))
        out.append("</CORSRule>")
    return _doc("CORSConfiguration", out)


# --- listings -------------------------------------------------------------------------------------
def _contents(record: ObjectSummary, key: str, owner: str) -> str:
    etag = record.etag
    etag_el = f"<ETag>&quot;{etag}&quot;</ETag>" if _PLAIN_ETAG(etag) else _el("ETag", quote_etag(etag))
    return (
        f"<Contents><Key>{escape(key)}</Key><LastModified>{timestamp(record.last_modified)}</LastModified>"
        f"{etag_el}<Size>{record.size}</Size>{owner}<StorageClass>STANDARD</StorageClass></Contents>"
    )


def _entries(page: ListPage, encode: bool, owners: Mapping[str, str] | None) -> Iterable[str]:
    """Objects first, then common prefixes, as S3 orders them."""
    prefixes = []
    rendered: dict[str, str] = {}  # each owner's element, once per page
    for entry in page.entries:
        key = url_encode(entry.key) if encode else entry.key
        record = entry.record
        if record is None:
            prefixes.append(f"<CommonPrefixes>{_el('Prefix', key)}</CommonPrefixes>")
            continue
        owner = ""
        if owners is not None:
            owner_id = record.owner_user_id or ""
            owner = rendered.get(owner_id, "")
            if not owner:
                owner = rendered[owner_id] = _owner("Owner", owner_id, owners.get(owner_id, owner_id))
        yield _contents(record, key, owner)
    yield from prefixes


def _encoder(encoding_type: str | None) -> tuple[bool, str]:
    encode = encoding_type == "url"
    return encode, ("<EncodingType>url</EncodingType>" if encode else "")


def list_objects_v1(
    bucket: str,
    page: ListPage,
    *,
    prefix: str,
    delimiter: str | None,
    marker: str,
    max_keys: int,
    encoding_type: str | None = None,
    owners: Mapping[str, str] | None = None,
) -> bytes:
    """ListObjects (v1). Each entry's ``Owner`` (its writer's user id, with the display name from
    ``owners``) is rendered when ``owners`` is given, as v1 always does.

    ``NextMarker`` is only sent with a delimiter: without one, clients continue from the last key.
    """
    encode, encoding_el = _encoder(encoding_type)
    enc = url_encode if encode else str
    next_marker = ""
    if delimiter and page.is_truncated and page.next_marker is not None:
        next_marker = _el("NextMarker", enc(page.next_marker))
    head = (
        f"{_el('Name', bucket)}{_el('Prefix', enc(prefix))}{_el('Marker', enc(marker))}{next_marker}"
        f"<MaxKeys>{max_keys}</MaxKeys>{_el('Delimiter', enc(delimiter) if delimiter else None)}"
        f"<IsTruncated>{_bool(page.is_truncated)}</IsTruncated>{encoding_el}"
    )
    return _doc("ListBucketResult", (head, *_entries(page, encode, owners)))


def list_objects_v2(
    bucket: str,
    page: ListPage,
    *,
    prefix: str,
    delimiter: str | None,
    max_keys: int,
    key_count: int | None = None,
    continuation_token: str | None = None,
    next_continuation_token: str | None = None,
    start_after: str | None = None,
    encoding_type: str | None = None,
    owners: Mapping[str, str] | None = None,
) -> bytes:
    """ListObjectsV2. Tokens are opaque (made by the handler) and never URL-encoded. Owners are
    rendered when ``owners`` is given (the handler passes it for ``fetch-owner=true``)."""
    encode, encoding_el = _encoder(encoding_type)
    enc = url_encode if encode else str
    count = len(page.entries) if key_count is None else key_count
    head = (
        f"{_el('Name', bucket)}{_el('Prefix', enc(prefix))}"
        f"{_el('Delimiter', enc(delimiter) if delimiter else None)}<MaxKeys>{max_keys}</MaxKeys>"
        f"<KeyCount>{count}</KeyCount><IsTruncated>{_bool(page.is_truncated)}</IsTruncated>"
        f"{_el('ContinuationToken', continuation_token)}"
        f"{_el('NextContinuationToken', next_continuation_token if page.is_truncated else None)}"
        f"{_el('StartAfter', enc(start_after) if start_after else None)}{encoding_el}"
    )
    return _doc("ListBucketResult", (head, *_entries(page, encode, owners)))


# --- copy and multipart ---------------------------------------------------------------------------
def _copy_result(root: str, etag: str, last_modified: float, checksums: Mapping[str, str] | None) -> bytes:
    return _doc(
        root,
        (
            _el("LastModified", timestamp(last_modified)),
            _el("ETag", quote_etag(etag)),
            _checksums(checksums),
        ),
    )


def copy_object_result(etag: str, last_modified: float, checksums: Mapping[str, str] | None = None) -> bytes:
    return _copy_result("CopyObjectResult", etag, last_modified, checksums)


def copy_part_result(etag: str, last_modified: float, checksums: Mapping[str, str] | None = None) -> bytes:
    return _copy_result("CopyPartResult", etag, last_modified, checksums)


def initiate_multipart_upload(bucket: str, key: str, upload_id: str) -> bytes:
    return _doc("InitiateMultipartUploadResult", (_el("Bucket", bucket), _el("Key", key), _el("UploadId", upload_id)))


def complete_multipart_upload(
    location: str, bucket: str, key: str, etag: str, checksums: Mapping[str, str] | None = None
) -> bytes:
    return _doc(
        "CompleteMultipartUploadResult",
        (
            _el("Location", location),
            _el("Bucket", bucket),
            _el("Key", key),
            _el("ETag", quote_etag(etag)),
            _checksums(checksums),
        ),
    )


def list_parts(
    bucket: str,
    key: str,
    upload_id: str,
    parts: Iterable[Part],
    *,
    part_number_marker: int,
    next_part_number_marker: int | None,
    max_parts: int,
    is_truncated: bool,
    owner_id: str = "",
    owner_name: str = "",
    checksum_algorithm: str | None = None,
) -> bytes:
    rows = "".join(
        f"<Part><PartNumber>{p.part_number}</PartNumber>{_el('LastModified', timestamp(p.last_modified))}"
        f"{_el('ETag', quote_etag(p.etag))}<Size>{p.size}</Size>{_checksums(p.checksums)}</Part>"
        for p in parts
    )
    head = (
        f"{_el('Bucket', bucket)}{_el('Key', key)}{_el('UploadId', upload_id)}"
        f"{_owner('Initiator', owner_id, owner_name)}{_owner('Owner', owner_id, owner_name)}"
        "<StorageClass>STANDARD</StorageClass>"
        f"<PartNumberMarker>{part_number_marker}</PartNumberMarker>"
        f"{_el('NextPartNumberMarker', next_part_number_marker)}<MaxParts>{max_parts}</MaxParts>"
        f"<IsTruncated>{_bool(is_truncated)}</IsTruncated>"
        f"{_el('ChecksumAlgorithm', checksum_algorithm.upper() if checksum_algorithm else None)}"
    )
    return _doc("ListPartsResult", (head, rows))


def list_multipart_uploads(
    bucket: str,
    uploads: Iterable[Upload],
    *,
    prefix: str,
    delimiter: str | None,
    key_marker: str,
    upload_id_marker: str,
    next_key_marker: str | None,
    next_upload_id_marker: str | None,
    max_uploads: int,
    is_truncated: bool,
    common_prefixes: Sequence[str] = (),
    encoding_type: str | None = None,
    owner_id: str = "",
    owner_name: str = "",
) -> bytes:
    """ListMultipartUploads. Each upload's initiator is its owner user id when known."""
    encode, encoding_el = _encoder(encoding_type)
    enc = url_encode if encode else str
    head = (
        f"{_el('Bucket', bucket)}{_el('KeyMarker', enc(key_marker))}{_el('UploadIdMarker', upload_id_marker)}"
        f"{_el('NextKeyMarker', enc(next_key_marker) if next_key_marker is not None else None)}"
        f"{_el('NextUploadIdMarker', next_upload_id_marker)}{_el('Prefix', enc(prefix))}"
        f"{_el('Delimiter', enc(delimiter) if delimiter else None)}<MaxUploads>{max_uploads}</MaxUploads>"
        f"<IsTruncated>{_bool(is_truncated)}</IsTruncated>{encoding_el}"
    )
    out = [head]
    for u in uploads:
        who = u.owner_user_id or owner_id
        name = owner_name or who
        out.append(
            f"<Upload>{_el('Key', enc(u.key))}{_el('UploadId', u.upload_id)}{_owner('Initiator', who, name)}"
            f"{_owner('Owner', who, name)}<StorageClass>STANDARD</StorageClass>"
            f"{_el('Initiated', timestamp(u.initiated))}</Upload>"
        )
    out.extend(f"<CommonPrefixes>{_el('Prefix', enc(p))}</CommonPrefixes>" for p in common_prefixes)
    return _doc("ListMultipartUploadsResult", out)


# --- other answers --------------------------------------------------------------------------------
def delete_result(deleted: Iterable[str], errors: Iterable[tuple[str, str, str]], quiet: bool, *,
                  versions: Mapping[int, str] | None = None) -> bytes:
    """DeleteObjects. In quiet mode only the failures are reported, as S3 does. ``versions`` holds the
    version elements of a ``<Deleted>`` entry by its index (``s3/versioning_xml.py``)."""
    extra = versions or {}
    out = [] if quiet else [f"<Deleted>{_el('Key', key)}{extra.get(i, '')}</Deleted>" for i, key in enumerate(deleted)]
    out.extend(
        f"<Error>{_el('Key', key)}{_el('Code', code)}{_el('Message', message)}</Error>" for key, code, message in errors
    )
    return _doc("DeleteResult", out)


def error(
    code: str,
    message: str,
    resource: str,
    request_id: str,
    host_id: str = "",
    extra: Mapping[str, str] | None = None,
) -> bytes:
    """The S3 error document, without a namespace, as AWS sends it."""
    extras = "".join(_el(k, v) for k, v in (extra or {}).items() if _ELEMENT_NAME.fullmatch(k))
    body = (
        f"{_el('Code', code)}{_el('Message', message)}{extras}{_el('Resource', resource)}"
        f"{_el('RequestId', request_id)}{_el('HostId', host_id)}"
    )
    return _doc("Error", (body,), ns=False)


def post_response(location: str, bucket: str, key: str, etag: str) -> bytes:
    """The body of a browser POST upload answered with ``success_action_status=201``."""
    body = f"{_el('Location', location)}{_el('Bucket', bucket)}{_el('Key', key)}{_el('ETag', quote_etag(etag))}"
    return _doc("PostResponse", (body,), ns=False)


# --- parsing --------------------------------------------------------------------------------------
def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _parse(body: bytes, root_name: str, limit: int) -> Element:
    if len(body) > limit:
        raise MalformedXML("Your XML document is larger than the maximum allowed size.")
    try:
        root: Element = SafeET.fromstring(body, forbid_dtd=True)
    except (ParseError, ValueError) as exc:  # defusedxml's refusals are ValueErrors
        raise MalformedXML() from exc
    if _local(root.tag) != root_name:
        raise MalformedXML()
    return root


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: Element, name: str) -> str | None:
    """Text of the first child called ``name``: None when absent, "" when empty."""
    for child in element:
        if _local(child.tag) == name:
            return child.text or ""
    return None


def _texts(element: Element, name: str) -> tuple[str, ...]:
    return tuple(child.text or "" for child in _children(element, name))


def _fields(element: Element, allowed: frozenset[str] | None = None) -> dict[str, str]:
    """The children of ``element`` by name, each at most once: a field sent twice is MalformedXML (which
    value was meant is not ours to guess), and so is one outside ``allowed`` (None: any name)."""
    fields: dict[str, str] = {}
    for child in element:
        name = _local(child.tag)
        if name in fields or (allowed is not None and name not in allowed):
            raise MalformedXML()
        fields[name] = child.text or ""
    return fields


def parse_complete_multipart(body: bytes) -> list[tuple[int, str, dict[str, str]]]:
    """CompleteMultipartUpload -> [(part number, etag without quotes, {checksum name: value})].

    A ``<Part>`` naming a field twice, or one S3 does not define (``<checksumcrc32>``), is MalformedXML:
    a checksum we do not read must not pass as checked.

    Order and existence are the core's to check (InvalidPartOrder, InvalidPart).
    """
    root = _parse(body, "CompleteMultipartUpload", MAX_COMPLETE_XML)
    parts = []
    for part in _children(root, "Part"):
        fields = _fields(part, _PART_FIELDS)
        number, etag = fields.get("PartNumber"), fields.get("ETag")
        if number is None or etag is None or not _INTEGER.fullmatch(number):
            raise MalformedXML()
        if any(_local(c.tag) in _UNCHECKABLE for c in part):
            raise InvalidRequest("Checksum algorithm provided is unsupported.")
        checksums = {_CHECKSUM_NAMES[name]: value.strip() for name, value in fields.items() if name in _CHECKSUM_NAMES}
        parts.append((int(number), _normalize_etag(etag), checksums))
    if not parts:
        raise MalformedXML()
    return parts


def _normalize_etag(etag: str) -> str:
    etag = etag.strip()
    if etag.startswith("&quot;") and etag.endswith("&quot;"):  # double-escaped by some clients
        etag = etag[6:-6]
    return etag.strip('"').lower()


_DELETE_OBJECT_FIELDS = frozenset({"Key", "VersionId", "ETag", "LastModifiedTime", "Size"})


class DeleteEntry(NamedTuple):
    """One ``<Object>`` of DeleteObjects, its values as sent (None when absent)."""

    key: str
    version_id: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    size: str | None = None


def parse_delete(body: bytes) -> tuple[list[DeleteEntry], bool]:
    """DeleteObjects -> (entries, quiet). Keys are kept exactly (whitespace is significant).

    An ``<Object>`` naming a field twice (two keys, two version ids ...) is MalformedXML: which one
    was meant is not ours to guess, and a delete must never act on the other. So is a field S3 does
    not define (``<etag>``, ``<IfMatch>`` ...): a condition we do not read must not become an
    unconditional delete. ``<Quiet>`` twice, or an element beside ``<Object>`` and ``<Quiet>``, is
    MalformedXML too.
    """
    root = _parse(body, "Delete", MAX_DELETE_XML)
    if any(_local(child.tag) not in ("Object", "Quiet") for child in root):
        raise MalformedXML()
    quiets = _texts(root, "Quiet")
    if len(quiets) > 1:
        raise MalformedXML()
    quiet_text = (quiets[0] if quiets else "false").strip().lower()
    if quiet_text not in ("true", "false"):
        raise MalformedXML()
    entries = []
    for obj in _children(root, "Object"):
        fields = _fields(obj, _DELETE_OBJECT_FIELDS)
        if "Key" not in fields:
            raise MalformedXML()
        entries.append(DeleteEntry(fields["Key"], fields.get("VersionId"), fields.get("ETag"),
                                   fields.get("LastModifiedTime"), fields.get("Size")))
    if not entries or len(entries) > MAX_DELETE_KEYS:
        raise MalformedXML()
    return entries, quiet_text == "true"


def parse_create_bucket(body: bytes) -> str | None:
    """CreateBucket's optional configuration -> LocationConstraint (None when absent or empty)."""
    if not body.strip():
        return None
    root = _parse(body, "CreateBucketConfiguration", MAX_CONFIG_XML)
    return (_text(root, "LocationConstraint") or "").strip() or None


def parse_cors(body: bytes) -> tuple[CorsRule, ...]:
    """PutBucketCors -> rules, refused as S3 refuses them.

    Schema violations (no rule, a rule without AllowedOrigin or AllowedMethod, a non-integer
    MaxAgeSeconds) are MalformedXML; values S3 rejects by content are InvalidRequest with S3's text.
    """
    root = _parse(body, "CORSConfiguration", MAX_CORS_CONFIG_BYTES)
    elements = _children(root, "CORSRule")
    if not elements or len(elements) > MAX_CORS_RULES:
        raise MalformedXML()
    return tuple(_cors_rule(element) for element in elements)


def _cors_rule(element: Element) -> CorsRule:
    origins, methods = _texts(element, "AllowedOrigin"), _texts(element, "AllowedMethod")
    if not origins or not methods:
        raise MalformedXML()
    max_age_text = _text(element, "MaxAgeSeconds")
    if max_age_text is not None and not _INTEGER.fullmatch(max_age_text):
        raise MalformedXML()
    return cors_rule(origins=origins, methods=methods, headers=_texts(element, "AllowedHeader"),
                     expose=_texts(element, "ExposeHeader"),
                     max_age=int(max_age_text) if max_age_text is not None else None, rule_id=_text(element, "ID"))
