"""S3 XML of versioning: VersioningConfiguration both ways, ListVersionsResult, DeleteResult entries.

Built with ``s3/xml.py``'s escaping and parsing helpers, so the same rules hold (defusedxml, size
limits, namespace optional, ``encoding-type=url``).
"""

from __future__ import annotations

from collections.abc import Mapping

from satchel.core.errors import MalformedXML, NotImplementedFeature
from satchel.core.versioning import STATES, VersionPage
from satchel.s3.xml import (
    MAX_CONFIG_XML,
    _children,
    _doc,
    _el,
    _encoder,
    _owner,
    _parse,
    _text,
    quote_etag,
    timestamp,
    url_encode,
)


def versioning_configuration(state: str) -> bytes:
    """GetBucketVersioning: empty for a bucket never versioned, as S3 answers."""
    return _doc("VersioningConfiguration", [_el("Status", state)] if state else [])


def parse_versioning(body: bytes) -> str:
    """PutBucketVersioning -> ``Enabled`` / ``Suspended``. MFA delete needs an MFA device Satchel has no
    notion of: ``MfaDelete=Enabled`` is refused (501), never silently left off."""
    root = _parse(body, "VersioningConfiguration", MAX_CONFIG_XML)
    mfa = _text(root, "MfaDelete")
    if mfa is not None and mfa.strip() not in ("Disabled", ""):
        if mfa.strip() == "Enabled":
            raise NotImplementedFeature("Satchel does not implement MFA delete; MfaDelete must be Disabled.",
                                        Header="MfaDelete")
        raise MalformedXML()
    status = _text(root, "Status")
    if status is None or status.strip() not in STATES or len(_children(root, "Status")) != 1:
        raise MalformedXML()
    return status.strip()


def list_versions(bucket: str, page: VersionPage, *, prefix: str, delimiter: str, key_marker: str | None,
                  version_id_marker: str | None, max_keys: int, encoding_type: str | None,
                  owners: Mapping[str, str]) -> bytes:
    encode, encoding = _encoder(encoding_type)

    def name(text: str) -> str:
        return url_encode(text) if encode else text

    body = [
        _el("Name", bucket), _el("Prefix", name(prefix)), _el("KeyMarker", name(key_marker or "")),
        _el("VersionIdMarker", version_id_marker or ""), _el("MaxKeys", max_keys),
    ]
    if delimiter:
        body.append(_el("Delimiter", name(delimiter)))
    body.append(_el("IsTruncated", "true" if page.truncated else "false"))
    if page.truncated:
        body.append(_el("NextKeyMarker", name(page.next_key_marker or "")))
        if page.next_version_id_marker is not None:
            body.append(_el("NextVersionIdMarker", page.next_version_id_marker))
    if encoding:
        body.append(encoding)
    for entry in page.entries:
        owner = _owner("Owner", entry.owner_user_id, owners.get(entry.owner_user_id, entry.owner_user_id)) \
            if entry.owner_user_id else ""
        common = (f"{_el('Key', name(entry.key))}{_el('VersionId', entry.version_id)}"
                  f"{_el('IsLatest', 'true' if entry.is_latest else 'false')}"
                  f"{_el('LastModified', timestamp(entry.last_modified))}")
        if entry.delete_marker:
            body.append(f"<DeleteMarker>{common}{owner}</DeleteMarker>")
        else:
            body.append(f"<Version>{common}{_el('ETag', quote_etag(entry.etag))}{_el('Size', entry.size)}"
                        f"{_el('StorageClass', 'STANDARD')}{owner}</Version>")
    for group in page.prefixes:
        body.append(f"<CommonPrefixes>{_el('Prefix', name(group))}</CommonPrefixes>")
    return _doc("ListVersionsResult", body)
