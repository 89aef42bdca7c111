"""XML bodies, checked against botocore: it parses every answer we render and builds every request
document we parse. A few golden documents pin the exact bytes of the simplest answers."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import pytest
from botocore.exceptions import ClientError
from defusedxml import ElementTree

from satchel.core.errors import InvalidArgument, InvalidRequest, MalformedXML, SatchelError
from satchel.core.models import Bucket, CorsRule, ListEntry, ListPage, ObjectSummary, Part, Upload
from satchel.s3 import xml

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
T0 = 1255369830.0  # 2009-10-12T17:50:30Z, the AWS documentation's favourite moment
HARD_KEYS = [
    "plain.txt",
    "with space and+plus.txt",
    "sp\u00e9cial/\u65e5\u672c\u8a9e/\U0001f600.bin",
    "markup <&>\"' chars",
    "percent%20literal?and#hash",
    "ctrl\r\nline\ttab",
    "ctrl\x01\x1f\x7f",
]


def _utc(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


def _summary(
    key: str, size: int = 11, etag: str = "fba9dede5f27731c9771645a39863328", t: float = T0, owner: str | None = None
) -> ObjectSummary:
    return ObjectSummary(key=key, size=size, etag=etag, last_modified=t, owner_user_id=owner)


def _page(
    keys: list[str], prefixes: Sequence[str] = (), truncated: bool = False, owner: str | None = None
) -> ListPage:
    entries = [ListEntry(k, _summary(k, owner=owner)) for k in keys] + [
        ListEntry(p, None) for p in prefixes
    ]
    last = max([*keys, *prefixes]) if keys or prefixes else None
    return ListPage(entries=tuple(entries), is_truncated=truncated, next_marker=last)


def _children(doc: bytes) -> list[str]:
    return [el.tag.removeprefix(NS) for el in ElementTree.fromstring(doc)]


# --- escaping and formats -------------------------------------------------------------------------
def test_escape_specials() -> None:
    assert xml.escape("<&>\"'") == "&lt;&amp;&gt;&quot;&apos;"
    assert xml.escape("plain ü 日本") == "plain ü 日本"
    assert xml.escape("a\rb\nc\x01") == "a&#13;b&#10;c&#1;"
    assert xml.escape("&amp;") == "&amp;amp;"


@pytest.mark.parametrize("key", [k for k in HARD_KEYS if "\x01" not in k])
def test_escaped_text_round_trips_through_a_parser(key: str) -> None:
    doc = xml.initiate_multipart_upload("examplebucket", key, "id")
    root = ElementTree.fromstring(doc)
    assert root.find(f"{NS}Key").text == key


def test_chars_xml_cannot_hold_are_references() -> None:
    doc = xml.initiate_multipart_upload("b", "a\x01b\udcff", "id")
    assert b"<Key>a&#1;b&#56575;</Key>" in doc  # no crash on undecodable path bytes either


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (T0, "2009-10-12T17:50:30.000Z"),
        (T0 + 0.001, "2009-10-12T17:50:30.001Z"),
        (T0 + 0.9999, "2009-10-12T17:50:30.999Z"),
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1.001, "1970-01-01T00:00:01.001Z"),
    ],
)
def test_timestamp(seconds: float, text: str) -> None:
    assert xml.timestamp(seconds) == text


def test_url_encoding_matches_what_botocore_decodes() -> None:
    from botocore.compat import unquote_str  # what decode_list_object uses

    for key in [*HARD_KEYS, "a/b/", "\udcff-raw-byte"]:
        encoded = xml.url_encode(key)
        assert encoded.isascii() and " " not in encoded and "+" not in encoded
        if "\udcff" not in key:
            assert unquote_str(encoded) == key
    assert xml.url_encode("a/b c+d") == "a/b%20c%2Bd"
    assert xml.url_encode("\udcff") == "%FF"


# --- golden documents -----------------------------------------------------------------------------
def test_golden_error() -> None:
    assert xml.error(
        "NoSuchKey",
        "The resource you requested does not exist",
        "/mybucket/myfoto.jpg",
        "4442587FB7D0A2F9",
        "host/id",
        {"Key": "myfoto.jpg"},
    ) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
        b"<Message>The resource you requested does not exist</Message><Key>myfoto.jpg</Key>"
        b"<Resource>/mybucket/myfoto.jpg</Resource><RequestId>4442587FB7D0A2F9</RequestId>"
        b"<HostId>host/id</HostId></Error>"
    )


def test_golden_location_and_versioning() -> None:
    decl = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    ns = b'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
    assert xml.location("us-east-1") == decl + b"<LocationConstraint " + ns + b"/>"
    assert xml.location("eu-west-1") == decl + b"<LocationConstraint " + ns + b">eu-west-1</LocationConstraint>"
    assert xml.versioning_configuration() == decl + b"<VersioningConfiguration " + ns + b"/>"


def test_golden_initiate() -> None:
    assert xml.initiate_multipart_upload("example-bucket", "example-object", "VXBsb2FkIElE") == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<Bucket>example-bucket</Bucket><Key>example-object</Key><UploadId>VXBsb2FkIElE</UploadId>"
        b"</InitiateMultipartUploadResult>"
    )


def test_error_extra_elements_keep_order_and_skip_bad_names() -> None:
    doc = xml.error("X", "m", "/r", "id", extra={"Method": "PUT", "ResourceType": "OBJECT", "bad name": "v"})
    assert _children(doc) == ["Code", "Message", "Method", "ResourceType", "Resource", "RequestId", "HostId"]


def test_post_response() -> None:
    doc = xml.post_response("https://b.s3.example.com/a%20b", "b", "a b", "abc")
    root = ElementTree.fromstring(doc)
    assert root.tag == "PostResponse"
    assert [(c.tag, c.text) for c in root] == [
        ("Location", "https://b.s3.example.com/a%20b"),
        ("Bucket", "b"),
        ("Key", "a b"),
        ("ETag", '"abc"'),
    ]


# --- answers, read back by botocore -----------------------------------------------------------------
def test_list_buckets(peer: Any) -> None:
    buckets = [Bucket("alpha", "acc", "u1", T0), Bucket("beta.gamma", "acc", None, T0 + 86400.25)]
    out = peer.parse("ListBuckets", xml.list_buckets(buckets, "owner-id", "Ow<ner>", region="us-east-1"))
    assert out["Owner"] == {"ID": "owner-id", "DisplayName": "Ow<ner>"}
    assert [(b["Name"], b["CreationDate"]) for b in out["Buckets"]] == [
        ("alpha", _utc(T0)),
        ("beta.gamma", _utc(T0 + 86400.25)),
    ]


def test_list_buckets_empty(peer: Any) -> None:
    out = peer.parse("ListBuckets", xml.list_buckets([], "o", "o", region="us-east-1"))
    assert out.get("Buckets", []) == []


@pytest.mark.parametrize(("region", "expected"), [("us-east-1", None), ("", None), ("eu-west-1", "eu-west-1")])
def test_location(peer: Any, region: str, expected: str | None) -> None:
    assert peer.parse("GetBucketLocation", xml.location(region))["LocationConstraint"] == expected


def test_list_objects_v2(peer: Any) -> None:
    keys = ["a/1.txt", "a/2.txt"]
    page = _page(keys, ["a/sub/"], truncated=True)
    doc = xml.list_objects_v2(
        "examplebucket",
        page,
        prefix="a/",
        delimiter="/",
        max_keys=3,
        continuation_token="tok-in",
        next_continuation_token="tok/out+=",
        start_after="a/0",
    )
    out = peer.parse("ListObjectsV2", doc)
    assert (out["Name"], out["Prefix"], out["Delimiter"], out["MaxKeys"], out["KeyCount"]) == (
        "examplebucket",
        "a/",
        "/",
        3,
        3,
    )
    assert out["IsTruncated"] is True
    assert (out["ContinuationToken"], out["NextContinuationToken"], out["StartAfter"]) == (
        "tok-in",
        "tok/out+=",
        "a/0",
    )
    assert [c["Key"] for c in out["Contents"]] == keys
    first = out["Contents"][0]
    assert first["ETag"] == '"fba9dede5f27731c9771645a39863328"'
    assert (first["Size"], first["StorageClass"], first["LastModified"]) == (11, "STANDARD", _utc(T0))
    assert "Owner" not in first
    assert out["CommonPrefixes"] == [{"Prefix": "a/sub/"}]


def test_list_objects_v2_not_truncated_has_no_next_token(peer: Any) -> None:
    doc = xml.list_objects_v2(
        "b", _page(["k"]), prefix="", delimiter=None, max_keys=1000, next_continuation_token="ignored"
    )
    out = peer.parse("ListObjectsV2", doc)
    assert out["IsTruncated"] is False
    assert "NextContinuationToken" not in out and "Delimiter" not in out
    assert out["KeyCount"] == 1


def test_list_objects_v2_fetch_owner(peer: Any) -> None:
    doc = xml.list_objects_v2(
        "b", _page(["k"], owner="id1"), prefix="", delimiter=None, max_keys=1, owners={"id1": "n1"}
    )
    assert peer.parse("ListObjectsV2", doc)["Contents"][0]["Owner"] == {"ID": "id1", "DisplayName": "n1"}
    plain = xml.list_objects_v2("b", _page(["k"], owner="id1"), prefix="", delimiter=None, max_keys=1)
    assert "Owner" not in peer.parse("ListObjectsV2", plain)["Contents"][0]


@pytest.mark.parametrize("op", ["ListObjects", "ListObjectsV2"])
def test_url_encoded_listing_is_decoded_by_botocore(peer: Any, op: str) -> None:
    """botocore always asks for encoding-type=url and decodes; every hard key must survive."""
    keys = sorted(HARD_KEYS)
    prefixes = ["dir with space/", "p+q&r<s/"]
    page = _page(keys, prefixes, truncated=True)
    common = {"prefix": "", "delimiter": "/ +", "max_keys": 100, "encoding_type": "url"}
    if op == "ListObjects":
        doc = xml.list_objects_v1("b", page, marker="m a+rk", **common)  # type: ignore[arg-type]
    else:
        doc = xml.list_objects_v2("b", page, start_after="st art+", **common)  # type: ignore[arg-type]
    assert b"\x01" not in doc and b"&#1;" not in doc
    out = peer.parse(op, doc)
    assert out["EncodingType"] == "url"
    assert [c["Key"] for c in out["Contents"]] == keys
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == prefixes
    assert out["Delimiter"] == "/ +"
    if op == "ListObjects":
        assert (out["Marker"], out["NextMarker"]) == ("m a+rk", max(keys + prefixes))
    else:
        assert out["StartAfter"] == "st art+"


def test_list_objects_v1_next_marker_only_with_delimiter(peer: Any) -> None:
    page = _page(["a", "b"], truncated=True)
    with_delim = peer.parse(
        "ListObjects", xml.list_objects_v1("b", page, prefix="", delimiter="/", marker="", max_keys=2)
    )
    without = peer.parse(
        "ListObjects", xml.list_objects_v1("b", page, prefix="", delimiter=None, marker="", max_keys=2)
    )
    assert with_delim["NextMarker"] == "b"
    assert "NextMarker" not in without
    assert without["IsTruncated"] is True and without["MaxKeys"] == 2


def test_list_objects_v1_owner(peer: Any) -> None:
    doc = xml.list_objects_v1(
        "b", _page(["k"], owner="oid"), prefix="", delimiter=None, marker="", max_keys=5, owners={"oid": "on"}
    )
    out = peer.parse("ListObjects", doc)
    assert out["Contents"][0]["Owner"] == {"ID": "oid", "DisplayName": "on"}
    assert (out["Name"], out["Prefix"], out["Marker"]) == ("b", "", "")


def test_listing_entries_each_keep_their_own_owner_etag_and_time(peer: Any) -> None:
    # Owner elements are rendered once per owner and page, seconds formatted once and reused, and
    # plain hex ETags written without the escaper: none of that may mix one entry up with another.
    entries = (
        ListEntry("a", _summary("a", etag="0123abcd", t=T0 + 0.001, owner="u1")),
        ListEntry("b", _summary("b", etag="0123abcd-12", t=T0 + 0.999, owner="u2")),
        ListEntry("c", _summary("c", etag='"already-quoted"', t=T0 + 1, owner="u1")),
        ListEntry("d<&>", _summary("d<&>", etag="odd<&>", t=T0 + 86400, owner=None)),
    )
    doc = xml.list_objects_v2("bk", ListPage(entries, False, "d<&>"), prefix="", delimiter=None, max_keys=10,
                              owners={"u1": "one", "u2": "two<&>"})
    out = peer.parse("ListObjectsV2", doc)["Contents"]
    assert [c["Key"] for c in out] == ["a", "b", "c", "d<&>"]
    assert [c["ETag"] for c in out] == ['"0123abcd"', '"0123abcd-12"', '"already-quoted"', '"odd<&>"']
    assert [c["Owner"] for c in out] == [{"ID": "u1", "DisplayName": "one"}, {"ID": "u2", "DisplayName": "two<&>"},
                                         {"ID": "u1", "DisplayName": "one"}, {"ID": "", "DisplayName": ""}]
    assert [c["LastModified"] for c in out] == [_utc(T0 + 0.001), _utc(T0 + 0.999), _utc(T0 + 1), _utc(T0 + 86400)]


def test_listing_puts_contents_before_prefixes() -> None:
    page = ListPage((ListEntry("a/", None), ListEntry("b", _summary("b"))), False, "b")
    doc = xml.list_objects_v2("bk", page, prefix="", delimiter="/", max_keys=10)
    tags = _children(doc)
    assert tags.index("Contents") < tags.index("CommonPrefixes")


CHECKSUMS = {"crc32": "i9aeUg==", "sha256": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=", "bogus": "x"}


def test_copy_object_result(peer: Any) -> None:
    out = peer.parse("CopyObject", xml.copy_object_result("9b2cf535f27731c974343645a3985328", T0 + 0.5, CHECKSUMS))
    result = out["CopyObjectResult"]
    assert result["ETag"] == '"9b2cf535f27731c974343645a3985328"'
    assert result["LastModified"] == _utc(T0 + 0.5)
    assert (result["ChecksumCRC32"], result["ChecksumSHA256"]) == (CHECKSUMS["crc32"], CHECKSUMS["sha256"])


def test_copy_part_result(peer: Any) -> None:
    out = peer.parse("UploadPartCopy", xml.copy_part_result('"already-quoted"', T0))
    assert out["CopyPartResult"] == {"ETag": '"already-quoted"', "LastModified": _utc(T0)}


def test_initiate_multipart_upload(peer: Any) -> None:
    out = peer.parse("CreateMultipartUpload", xml.initiate_multipart_upload("bk", "k <&> ü", "up/id+="))
    assert (out["Bucket"], out["Key"], out["UploadId"]) == ("bk", "k <&> ü", "up/id+=")


def test_complete_multipart_upload(peer: Any) -> None:
    doc = xml.complete_multipart_upload(
        "http://s3.example.com/bk/k", "bk", "k", "3858f62230ac3c915f300c664312c11f-9", {"crc32c": "yZRlqg==-9"}
    )
    out = peer.parse("CompleteMultipartUpload", doc)
    assert (out["Location"], out["Bucket"], out["Key"]) == ("http://s3.example.com/bk/k", "bk", "k")
    assert out["ETag"] == '"3858f62230ac3c915f300c664312c11f-9"'
    assert out["ChecksumCRC32C"] == "yZRlqg==-9"


def test_list_parts(peer: Any) -> None:
    parts = [
        Part(
            "u", 2, 5 << 20, "7778aef83f66abc1fa1e8477f296d394", "blob2", T0, {"sha1": "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="}
        ),
        Part("u", 3, 1024, "aaaa", "blob3", T0 + 1),
    ]
    doc = xml.list_parts(
        "bk",
        "k",
        "u",
        parts,
        part_number_marker=1,
        next_part_number_marker=3,
        max_parts=2,
        is_truncated=True,
        owner_id="oid",
        owner_name="on",
    )
    out = peer.parse("ListParts", doc)
    assert (out["Bucket"], out["Key"], out["UploadId"]) == ("bk", "k", "u")
    assert (out["PartNumberMarker"], out["NextPartNumberMarker"], out["MaxParts"], out["IsTruncated"]) == (
        1,
        3,
        2,
        True,
    )
    assert out["Initiator"] == {"ID": "oid", "DisplayName": "on"} and out["Owner"] == {"ID": "oid", "DisplayName": "on"}
    assert out["StorageClass"] == "STANDARD"
    assert out["Parts"] == [
        {
            "PartNumber": 2,
            "LastModified": _utc(T0),
            "ETag": '"7778aef83f66abc1fa1e8477f296d394"',
            "Size": 5 << 20,
            "ChecksumSHA1": "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=",
        },
        {"PartNumber": 3, "LastModified": _utc(T0 + 1), "ETag": '"aaaa"', "Size": 1024},
    ]


def test_list_multipart_uploads(peer: Any) -> None:
    uploads = [
        Upload("id1", "bk", "photos/a b.jpg", T0, "user-1"),
        Upload("id2", "bk", "photos/c+d.jpg", T0 + 2, None),
    ]
    doc = xml.list_multipart_uploads(
        "bk",
        uploads,
        prefix="photos/",
        delimiter="/",
        key_marker="",
        upload_id_marker="",
        next_key_marker="photos/c+d.jpg",
        next_upload_id_marker="id2",
        max_uploads=2,
        is_truncated=True,
        common_prefixes=["photos/2006/"],
        owner_id="fallback",
    )
    out = peer.parse("ListMultipartUploads", doc)
    assert (out["Bucket"], out["Prefix"], out["Delimiter"], out["MaxUploads"], out["IsTruncated"]) == (
        "bk",
        "photos/",
        "/",
        2,
        True,
    )
    assert (out["NextKeyMarker"], out["NextUploadIdMarker"]) == ("photos/c+d.jpg", "id2")
    assert [(u["Key"], u["UploadId"], u["Initiated"], u["Owner"]["ID"]) for u in out["Uploads"]] == [
        ("photos/a b.jpg", "id1", _utc(T0), "user-1"),
        ("photos/c+d.jpg", "id2", _utc(T0 + 2), "fallback"),
    ]
    assert out["CommonPrefixes"] == [{"Prefix": "photos/2006/"}]


def test_list_multipart_uploads_url_encoded() -> None:
    doc = xml.list_multipart_uploads(
        "bk",
        [Upload("id1", "bk", "a b+c", T0, None)],
        prefix="a ",
        delimiter=None,
        key_marker="a +",
        upload_id_marker="",
        next_key_marker=None,
        next_upload_id_marker=None,
        max_uploads=10,
        is_truncated=False,
        encoding_type="url",
    )
    root = ElementTree.fromstring(doc)
    assert root.find(f"{NS}Upload/{NS}Key").text == "a%20b%2Bc"
    assert root.find(f"{NS}KeyMarker").text == "a%20%2B"
    assert root.find(f"{NS}Prefix").text == "a%20"
    assert root.find(f"{NS}EncodingType").text == "url"


@pytest.mark.parametrize("quiet", [False, True])
def test_delete_result(peer: Any, quiet: bool) -> None:
    doc = xml.delete_result(["a", "b <&>"], [("c", "AccessDenied", "Access Denied")], quiet)
    out = peer.parse("DeleteObjects", doc)
    assert out.get("Deleted", []) == ([] if quiet else [{"Key": "a"}, {"Key": "b <&>"}])
    assert out["Errors"] == [{"Key": "c", "Code": "AccessDenied", "Message": "Access Denied"}]


def test_cors_configuration(peer: Any) -> None:
    rules = (
        CorsRule(
            ("http://www.example.com",),
            ("PUT", "POST", "DELETE"),
            ("*",),
            ("x-amz-server-side-encryption",),
            3000,
            "r1",
        ),
        CorsRule(("*",), ("GET",)),
    )
    out = peer.parse("GetBucketCors", xml.cors_configuration(rules))
    assert out["CORSRules"] == [
        {
            "ID": "r1",
            "AllowedHeaders": ["*"],
            "AllowedMethods": ["PUT", "POST", "DELETE"],
            "AllowedOrigins": ["http://www.example.com"],
            "ExposeHeaders": ["x-amz-server-side-encryption"],
            "MaxAgeSeconds": 3000,
        },
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]},
    ]


def test_cors_round_trip() -> None:
    rules = (CorsRule(("https://a.example", "*.b"), ("GET", "HEAD"), ("x-*",), ("ETag",), 0, "id <1>"),)
    assert xml.parse_cors(xml.cors_configuration(rules)) == rules


def test_versioning(peer: Any) -> None:
    out = peer.parse("GetBucketVersioning", xml.versioning_configuration())
    assert "Status" not in out and "MFADelete" not in out


@pytest.mark.parametrize("op", ["GetBucketAcl", "GetObjectAcl"])
def test_access_control_policy(peer: Any, op: str) -> None:
    out = peer.parse(op, xml.access_control_policy("oid", "owner"))
    assert out["Owner"] == {"ID": "oid", "DisplayName": "owner"}
    assert out["Grants"] == [
        {"Grantee": {"ID": "oid", "DisplayName": "owner", "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}
    ]


def test_error_read_by_botocore(peer: Any) -> None:
    doc = xml.error(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match <&>",
        "/",
        "REQ123",
        "HOST456",
        {"StringToSign": "AWS4-HMAC-SHA256\n2015", "SignatureProvided": "abc"},
    )
    with pytest.raises(ClientError) as info:
        peer.parse("ListBuckets", doc, status=403)
    err = info.value.response["Error"]
    assert (err["Code"], err["Message"]) == (
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match <&>",
    )
    assert (err["StringToSign"], err["SignatureProvided"]) == ("AWS4-HMAC-SHA256\n2015", "abc")
    assert err["Resource"] == "/"
    # botocore takes the ids from the x-amz-request-id / x-amz-id-2 headers; the body carries them too.
    root = ElementTree.fromstring(doc)
    assert (root.findtext("RequestId"), root.findtext("HostId")) == ("REQ123", "HOST456")


# --- request documents, built by botocore -------------------------------------------------------------
def test_parse_complete_multipart_from_botocore(peer: Any) -> None:
    parts = [
        {"PartNumber": 1, "ETag": '"A54357AFF0632CCE46D942AF68356B38"', "ChecksumCRC32": "i9aeUg=="},
        {"PartNumber": 2, "ETag": "0c78aef83f66abc1fa1e8477f296d394"},
        {"PartNumber": 10000, "ETag": '"acbd18db4cc2f85cedef654fccc4a4d8"', "ChecksumSHA256": "x/y+z="},
    ]
    body = peer.request(
        "CompleteMultipartUpload",
        {"Bucket": "b", "Key": "k", "UploadId": "u", "MultipartUpload": {"Parts": parts}},
    )["body"]
    assert xml.parse_complete_multipart(body) == [
        (1, "a54357aff0632cce46d942af68356b38", {"crc32": "i9aeUg=="}),
        (2, "0c78aef83f66abc1fa1e8477f296d394", {}),
        (10000, "acbd18db4cc2f85cedef654fccc4a4d8", {"sha256": "x/y+z="}),
    ]


def test_parse_complete_multipart_lenient_forms() -> None:
    body = (
        b"<CompleteMultipartUpload>\n  <Part>\n    <ETag>&amp;quot;ABC&amp;quot;</ETag>\n"
        b"    <PartNumber> 3 </PartNumber>\n  </Part>\n"
        b'  <Part><PartNumber>1</PartNumber><ETag>"def"</ETag></Part>\n</CompleteMultipartUpload>'
    )
    assert xml.parse_complete_multipart(body) == [(3, "abc", {}), (1, "def", {})]


@pytest.mark.parametrize("quiet", [True, False])
def test_parse_delete_from_botocore(peer: Any, quiet: bool) -> None:
    keys = [*HARD_KEYS[:5], "  leading and trailing  ", "x" * 1024]
    body = peer.request(
        "DeleteObjects", {"Bucket": "b", "Delete": {"Objects": [{"Key": k} for k in keys], "Quiet": quiet}}
    )["body"]
    assert xml.parse_delete(body) == ([xml.DeleteEntry(k) for k in keys], quiet)


def test_parse_delete_limits() -> None:
    def doc(n: int) -> bytes:
        objects = "".join(f"<Object><Key>k{i}</Key></Object>" for i in range(n))
        return f"<Delete>{objects}</Delete>".encode()

    assert len(xml.parse_delete(doc(1000))[0]) == 1000
    assert xml.parse_delete(doc(1)) == ([xml.DeleteEntry("k0")], False)
    for n in (0, 1001):
        with pytest.raises(MalformedXML):
            xml.parse_delete(doc(n))


def test_parse_delete_keeps_crlf_and_the_conditions() -> None:
    body = (b"<Delete><Quiet>TRUE</Quiet><Object><Key>a&#13;&#10;b</Key><VersionId>v</VersionId><ETag>\"e\"</ETag>"
            b"<LastModifiedTime>Wed, 01 Jan 2025 00:00:00 GMT</LastModifiedTime><Size>3</Size></Object></Delete>")
    entry = xml.DeleteEntry("a\r\nb", "v", '"e"', "Wed, 01 Jan 2025 00:00:00 GMT", "3")
    assert xml.parse_delete(body) == ([entry], True)


@pytest.mark.parametrize("field", ["Key", "VersionId", "ETag", "Size"])
def test_parse_delete_refuses_a_field_named_twice(field: str) -> None:
    body = f"<Delete><Object><Key>k</Key><{field}>1</{field}><{field}>2</{field}></Object></Delete>".encode()
    with pytest.raises(MalformedXML):
        xml.parse_delete(body)


def test_parse_create_bucket_from_botocore(peer: Any) -> None:
    body = peer.request(
        "CreateBucket", {"Bucket": "b", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}}
    )["body"]
    assert xml.parse_create_bucket(body) == "eu-west-1"
    assert xml.parse_create_bucket(peer.request("CreateBucket", {"Bucket": "b"})["body"]) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", None),
        (b"  \r\n", None),
        (b"<CreateBucketConfiguration/>", None),
        (b"<CreateBucketConfiguration><LocationConstraint></LocationConstraint></CreateBucketConfiguration>", None),
        (
            b"<CreateBucketConfiguration><LocationConstraint>us-west-2</LocationConstraint></CreateBucketConfiguration>",
            "us-west-2",
        ),
    ],
)
def test_parse_create_bucket(body: bytes, expected: str | None) -> None:
    assert xml.parse_create_bucket(body) == expected


def test_parse_cors_from_botocore(peer: Any) -> None:
    config = {
        "CORSRules": [
            {
                "ID": "rule-1",
                "AllowedHeaders": ["*"],
                "AllowedMethods": ["PUT", "POST", "DELETE"],
                "AllowedOrigins": ["http://www.example.com"],
                "ExposeHeaders": ["x-amz-server-side-encryption"],
                "MaxAgeSeconds": 3000,
            },
            {"AllowedMethods": ["GET"], "AllowedOrigins": ["*", ""]},
        ]
    }
    body = peer.request("PutBucketCors", {"Bucket": "b", "CORSConfiguration": config})["body"]
    assert xml.parse_cors(body) == (
        CorsRule(
            ("http://www.example.com",),
            ("PUT", "POST", "DELETE"),
            ("*",),
            ("x-amz-server-side-encryption",),
            3000,
            "rule-1",
        ),
        CorsRule(("*", ""), ("GET",)),
    )


def _cors(*rules: str) -> bytes:
    return (
        "<CORSConfiguration>" + "".join(f"<CORSRule>{r}</CORSRule>" for r in rules) + "</CORSConfiguration>"
    ).encode()


OK_RULE = "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (b"<CORSConfiguration/>", MalformedXML, None),
        (_cors(*[OK_RULE] * 101), MalformedXML, None),
        (_cors(""), MalformedXML, None),
        (_cors("<AllowedMethod>GET</AllowedMethod>"), MalformedXML, None),
        (_cors("<AllowedOrigin>*</AllowedOrigin>"), MalformedXML, None),
        (
            _cors("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>MYMETHOD</AllowedMethod>"),
            InvalidRequest,
            "Found unsupported HTTP method in CORS config. Unsupported method is MYMETHOD",
        ),
        (
            _cors("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>get</AllowedMethod>"),
            InvalidRequest,
            "Found unsupported HTTP method in CORS config. Unsupported method is get",
        ),
        (
            _cors("<AllowedOrigin>*</AllowedOrigin><AllowedMethod/>"),
            InvalidRequest,
            "Found unsupported HTTP method in CORS config. Unsupported method is ",
        ),
        (
            _cors("<AllowedOrigin>*example*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"),
            InvalidRequest,
            'AllowedOrigin "*example*.com" can not have more than one wildcard.',
        ),
        (_cors(OK_RULE + "<AllowedHeader>x-*-*</AllowedHeader>"), InvalidRequest, None),
        (_cors(OK_RULE + "<ExposeHeader>*</ExposeHeader>"), InvalidRequest, None),
        # Values that go out in Access-Control-* headers must be header values (hostile review B).
        (
            _cors("<AllowedOrigin>http://a&#13;&#10;X: 1</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"),
            InvalidRequest,
            'AllowedOrigin "http://a\r\nX: 1" contains invalid character.',
        ),
        (_cors(OK_RULE + "<ExposeHeader>ETag&#13;&#10;X: 1</ExposeHeader>"), InvalidRequest, None),
        (_cors(OK_RULE + "<ExposeHeader>x\u0085</ExposeHeader>"), InvalidRequest, None),
        (_cors(OK_RULE + "<AllowedHeader>two words</AllowedHeader>"), InvalidRequest, None),
        (_cors("<AllowedOrigin>http://\u00e4.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"),
         InvalidRequest, None),
        (_cors(OK_RULE + "<MaxAgeSeconds>soon</MaxAgeSeconds>"), MalformedXML, None),
        (_cors(OK_RULE + "<MaxAgeSeconds>-1</MaxAgeSeconds>"), MalformedXML, None),
        (_cors(OK_RULE + f"<ID>{'i' * 256}</ID>"), InvalidArgument, None),
        (b"<CORSConfig>" + _cors(OK_RULE)[19:-20] + b"</CORSConfig>", MalformedXML, None),
    ],
)
def test_parse_cors_refusals(body: bytes, error: type[SatchelError], message: str | None) -> None:
    with pytest.raises(error) as info:
        xml.parse_cors(body)
    if message is not None:
        assert info.value.message == message


def test_parse_cors_accepts_100_rules_and_namespace() -> None:
    body = _cors(*[OK_RULE] * 100).replace(
        b"<CORSConfiguration>", b'<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    )
    assert len(xml.parse_cors(body)) == 100


# --- hostile and malformed input ---------------------------------------------------------------------
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Delete><Object><Key>&lol3;</Key></Object></Delete>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Delete><Object><Key>&xxe;</Key></Object></Delete>"""
DTD_ONLY = b'<?xml version="1.0"?><!DOCTYPE Delete SYSTEM "http://example.com/x.dtd"><Delete><Object><Key>k</Key></Object></Delete>'


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS,
        EXTERNAL,
        DTD_ONLY,
        b"",
        b"not xml",
        b"<Delete><Object><Key>k</Key></Object>",
        b"<Delete><Object><Key>k</Key></Object></Delete><Delete/>",
        b"<Wrong><Object><Key>k</Key></Object></Wrong>",
        b"<Delete><Object><VersionId>v</VersionId></Object></Delete>",
        b"<Delete><Quiet>yes</Quiet><Object><Key>k</Key></Object></Delete>",
        # A field S3 does not define (a condition unread), or one said twice (hostile review C).
        b"<Delete><Object><Key>k</Key><etag>x</etag></Object></Delete>",
        b"<Delete><Object><Key>k</Key><Key>j</Key></Object></Delete>",
        b"<Delete><Quiet>true</Quiet><Quiet>true</Quiet><Object><Key>k</Key></Object></Delete>",
        b"<Delete><Object><Key>k</Key></Object><Unknown/></Delete>",
        b"\xff\xfe<Delete/>",
    ],
)
def test_parse_delete_refuses(body: bytes) -> None:
    with pytest.raises(MalformedXML):
        xml.parse_delete(body)


@pytest.mark.parametrize(
    "body",
    [
        b"<CompleteMultipartUpload/>",
        b"<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>",
        b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>",
        b"<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
        b"<CompleteMultipartUpload><Part><PartNumber>\xd9\xa1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
        b"<CompleteMultipartUpload><Part><PartNumber>1.5</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>",
        BILLION_LAUGHS.replace(b"Delete", b"CompleteMultipartUpload"),
    ],
)
def test_parse_complete_refuses(body: bytes) -> None:
    with pytest.raises(MalformedXML):
        xml.parse_complete_multipart(body)


def test_parse_complete_refuses_checksums_it_cannot_check() -> None:
    body = (b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag>"
            b"<ChecksumXXHASH64>AAAAAAAAAAA=</ChecksumXXHASH64></Part></CompleteMultipartUpload>")
    with pytest.raises(InvalidRequest):
        xml.parse_complete_multipart(body)
    sha512 = body.replace(b"XXHASH64", b"SHA512")
    assert xml.parse_complete_multipart(sha512) == [(1, "a", {"sha512": "AAAAAAAAAAA="})]


def test_size_limits() -> None:
    huge = b"<Delete>" + b" " * xml.MAX_DELETE_XML + b"<Object><Key>k</Key></Object></Delete>"
    with pytest.raises(MalformedXML):
        xml.parse_delete(huge)
    with pytest.raises(MalformedXML):
        xml.parse_create_bucket(
            b"<CreateBucketConfiguration>" + b" " * xml.MAX_CONFIG_XML + b"</CreateBucketConfiguration>"
        )


@pytest.mark.parametrize("element", ["PartNumber", "ETag", "ChecksumCRC32", "checksumcrc32", "Size"])
def test_parse_complete_refuses_a_repeated_or_unread_part_field(element: str) -> None:
    fields = {"PartNumber": "1", "ETag": '"abc"', "ChecksumCRC32": "AAAAAA=="}
    inner = "".join(f"<{n}>{v}</{n}>" for n, v in fields.items()) + f"<{element}>{fields.get(element, 1)}</{element}>"
    with pytest.raises(MalformedXML):
        xml.parse_complete_multipart(f"<CompleteMultipartUpload><Part>{inner}</Part></CompleteMultipartUpload>".encode())
