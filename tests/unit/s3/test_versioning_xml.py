"""Versioning XML: PutBucketVersioning documents as S3 accepts and refuses them, and the answers read
back through botocore's own parser (``peer``), URL-encoded keys included."""

from __future__ import annotations

from typing import Any

import pytest

from satchel.core.errors import MalformedXML, NotImplementedFeature
from satchel.core.models import ObjectVersion
from satchel.core.versioning import VersionPage
from satchel.s3 import versioning_xml

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


@pytest.mark.parametrize(("body", "state"), [
    (f"<VersioningConfiguration {NS}><Status>Enabled</Status></VersioningConfiguration>", "Enabled"),
    ("<VersioningConfiguration><Status>Suspended</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>",
     "Suspended"),
])
def test_parse_accepts(body: str, state: str) -> None:
    assert versioning_xml.parse_versioning(body.encode()) == state


@pytest.mark.parametrize(("body", "error"), [
    ("<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>",
     NotImplementedFeature),
    ("<VersioningConfiguration><Status>Off</Status></VersioningConfiguration>", MalformedXML),
    ("<VersioningConfiguration></VersioningConfiguration>", MalformedXML),
    ("<VersioningConfiguration><Status>Enabled</Status><Status>Enabled</Status></VersioningConfiguration>",
     MalformedXML),
    ("<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Maybe</MfaDelete></VersioningConfiguration>",
     MalformedXML),
    ("<Other><Status>Enabled</Status></Other>", MalformedXML),
])
def test_parse_refuses(body: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        versioning_xml.parse_versioning(body.encode())


def test_configuration_reads_back(peer: Any) -> None:
    assert "Status" not in peer.parse("GetBucketVersioning", versioning_xml.versioning_configuration(""))
    assert peer.parse("GetBucketVersioning", versioning_xml.versioning_configuration("Enabled"))["Status"] == "Enabled"


def test_list_versions_reads_back(peer: Any) -> None:
    page = VersionPage(
        entries=(ObjectVersion("a b+&", "v" * 32, True, False, 3, "abc", 1700000000.5, "u1"),
                 ObjectVersion("a b+&", "null", False, True, 0, "", 1600000000.0, None)),
        prefixes=("dir/",), truncated=True, next_key_marker="a b+&", next_version_id_marker="null")
    body = versioning_xml.list_versions("bkt", page, prefix="", delimiter="/", key_marker=None,
                                        version_id_marker=None, max_keys=2, encoding_type="url",
                                        owners={"u1": "alice"})
    out = peer.parse("ListObjectVersions", body)
    assert out["IsTruncated"] and out["NextKeyMarker"] == "a b+&" and out["NextVersionIdMarker"] == "null"
    (version,) = out["Versions"]
    assert version["Key"] == "a b+&" and version["IsLatest"] and version["Size"] == 3
    assert version["ETag"] == '"abc"' and version["Owner"] == {"ID": "u1", "DisplayName": "alice"}
    (marker,) = out["DeleteMarkers"]
    assert marker["VersionId"] == "null" and not marker["IsLatest"]
    assert out["CommonPrefixes"] == [{"Prefix": "dir/"}]
