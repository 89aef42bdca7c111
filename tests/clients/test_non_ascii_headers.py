"""Non-ASCII text in keys, form fields and headers (issue 9, point 7).

Before: a POST upload whose key (or ``${filename}``) was not Latin-1 stored the object and answered
500 (the raw key went into ``Location``); UTF-8 ``Content-Type`` or ``x-amz-meta-*`` form fields stored
an object every GET answered with 500; and none of these requests was audited. Now: ``Location``
percent-encodes the key, user metadata comes back RFC 2047-encoded (as AWS returns it), a
Content-Type that cannot go on the wire is refused before anything is stored, and every POST ends in
exactly one audit event.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
import requests
from botocore.exceptions import ClientError

from satchel.cli.apiclient import ApiClient, Secret
from tests.clients.boto import error_code, http_status
from tests.clients.server import ServerHandle

TEXT = "Zoë 日本語 ✓"


def _rfc2047(text: str) -> str:
    return "=?UTF-8?B?" + base64.b64encode(text.encode()).decode() + "?="


def _latin1_view(text: str) -> str:
    """How http.client reads a header whose bytes are ``text`` in UTF-8."""
    return text.encode().decode("latin-1")


def _post(s3: Any, bucket: str, key: str, fields: dict[str, str], filename: str = "f.txt") -> requests.Response:
    form = s3.generate_presigned_post(Bucket=bucket, Key=key, Fields=fields,
                                      Conditions=[{name: value} for name, value in fields.items()])
    return requests.post(form["url"], data=form["fields"], files={"file": (filename, b"body")}, timeout=10)


def _post_uses(server: ServerHandle, bucket: str, count: int) -> list[dict[str, Any]]:
    """The POST use events of ``bucket``, once ``count`` of them reached the audit trail."""
    api = ApiClient(endpoint=server.endpoint, region=server.region,
                    credentials=Secret(server.access_key, server.secret_key))
    deadline = time.monotonic() + 5
    while True:
        events = [e for e in api.get("/audit", {"bucket": bucket})["events"] if e["action"] == "use"]
        if len(events) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.05)


def test_post_key_beyond_latin1(satchel_server: ServerHandle, s3: Any, bucket: str) -> None:
    filename = f"{TEXT}.txt"
    reply = _post(s3, bucket, "up/${filename}", {}, filename=filename)
    assert reply.status_code == 204, reply.content
    key = f"up/{filename}"
    assert reply.headers["Location"].endswith(f"/{bucket}/" + quote(key, safe="/~"))
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"body"
    created = _post(s3, bucket, key, {"success_action_status": "201"})
    assert created.status_code == 201
    assert f"<Key>{key}</Key>".encode() in created.content
    assert [e["key"] for e in _post_uses(satchel_server, bucket, 2)] == [key, key]


def test_post_metadata_comes_back_rfc2047(s3: Any, bucket: str) -> None:
    reply = _post(s3, bucket, "meta", {"x-amz-meta-name": TEXT, "Content-Disposition": f'inline; filename="{TEXT}"'})
    assert reply.status_code == 204, reply.content
    for answer in (s3.get_object(Bucket=bucket, Key="meta"), s3.head_object(Bucket=bucket, Key="meta")):
        assert answer["Metadata"] == {"name": _rfc2047(TEXT)}
        # Other headers go out as their UTF-8 bytes (http.client reads them as Latin-1).
        assert answer["ContentDisposition"] == _latin1_view(f'inline; filename="{TEXT}"')


def test_post_content_type_that_cannot_be_sent_is_refused(satchel_server: ServerHandle, s3: Any,
                                                          bucket: str) -> None:
    reply = _post(s3, bucket, "typed", {"Content-Type": "text/plain; charset=日本"})
    assert reply.status_code == 400 and b"<Code>InvalidArgument</Code>" in reply.content
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=bucket, Key="typed")
    assert http_status(caught.value) == 404
    [event] = _post_uses(satchel_server, bucket, 1)
    assert (event["outcome"], event["status"]) == ("refused", 400)


def test_put_with_utf8_header_bytes(s3_factory: Any, s3: Any, bucket: str) -> None:
    """Raw UTF-8 in request headers, as curl or a browser would send it: stored as text, metadata
    returned RFC 2047-encoded, other headers byte for byte; an RFC 2047 value is decoded when stored."""
    client = s3_factory()

    def hook(request: Any, **_: Any) -> None:
        # botocore signs the UTF-8 of str values and urllib3 sends them UTF-8 encoded: raw bytes.
        request.headers["x-amz-meta-raw"] = TEXT
        request.headers["x-amz-meta-encoded"] = _rfc2047(TEXT)
        request.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{TEXT}"

    client.meta.events.register("before-sign.s3.PutObject", hook)
    client.put_object(Bucket=bucket, Key="k", Body=b"x")
    answer = s3.get_object(Bucket=bucket, Key="k")
    assert answer["Metadata"] == {"raw": _rfc2047(TEXT), "encoded": _rfc2047(TEXT)}
    assert answer["ContentDisposition"] == _latin1_view(f"attachment; filename*=UTF-8''{TEXT}")

    def bad_type(request: Any, **_: Any) -> None:
        request.headers["Content-Type"] = "text/日本"

    client.meta.events.register("before-sign.s3.PutObject", bad_type)
    with pytest.raises(ClientError) as caught:
        client.put_object(Bucket=bucket, Key="typed", Body=b"x")
    assert (http_status(caught.value), error_code(caught.value)) == (400, "InvalidArgument")


def test_response_overrides_beyond_latin1(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    disposition = f'attachment; filename="{TEXT}.txt"'
    url = s3.generate_presigned_url("get_object", Params={
        "Bucket": bucket, "Key": "k", "ResponseContentDisposition": disposition})
    reply = requests.get(url, timeout=10)
    assert (reply.status_code, reply.content) == (200, b"x")
    assert reply.headers["Content-Disposition"] == _latin1_view(disposition)
    url = s3.generate_presigned_url("get_object", Params={
        "Bucket": bucket, "Key": "k", "ResponseContentType": "text/日本"})
    reply = requests.get(url, timeout=10)
    assert reply.status_code == 400 and b"<Code>InvalidArgument</Code>" in reply.content


def test_complete_multipart_location_is_a_url(s3: Any, bucket: str) -> None:
    key = f"mp/{TEXT}?#%.bin"
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=b"p")["ETag"]
    done = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert done["Location"].endswith(f"/{bucket}/" + quote(key, safe="/~"))
    assert done["Key"] == key


#: RFC 2047 words in a MIME charset whose bytes are not text in it: refused, nothing stored.
NOT_TEXT_WORDS = ["=?UTF-8?Q?=ED=A0=80?=", "=?utf-8?B?/w==?=", "=?us-ascii?Q?=E9?=",
                  # hostile review C: bad base64 was stored as "", decoded control characters were stored
                  "=?UTF-8?B?!!!?=", "=?UTF-8?Q?a=0D=0ASet-Cookie:_x=3D1?=", "=?UTF-8?Q?a=00b?=", "=?UTF-8?B?woU=?=",
                  "=?ISO-8859-1?Q?=85?=", "=?UTF-8?Q?a=7Fb?="]
#: Words in charsets that are no MIME charset we decode, only Python codecs: before, the first three
#: decoded to a lone surrogate (500, nothing stored) and the others to codec output. Now: kept as sent.
CODEC_WORDS = ["=?utf-7?Q?+2AA-?=", "=?unicode_escape?Q?=5Cud800?=", "=?raw_unicode_escape?Q?=5Cud800?=",
               "=?punycode?Q?abc-?=", "=?cp037?Q?abc?="]


@pytest.mark.parametrize("word", NOT_TEXT_WORDS)
def test_metadata_words_that_are_not_text_are_refused(satchel_server: ServerHandle, s3: Any, bucket: str,
                                                       word: str) -> None:
    """PutObject, CopyObject with REPLACE, CreateMultipartUpload and a POST form field: 400
    InvalidArgument, nothing stored or started."""
    s3.put_object(Bucket=bucket, Key="source", Body=b"x")
    calls: list[Callable[[], Any]] = [
        lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"a": word}),
        lambda: s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "source"},
                               MetadataDirective="REPLACE", Metadata={"a": word}),
        lambda: s3.create_multipart_upload(Bucket=bucket, Key="k", Metadata={"a": word}),
    ]
    for call in calls:
        with pytest.raises(ClientError) as caught:
            call()
        assert (http_status(caught.value), error_code(caught.value)) == (400, "InvalidArgument")
    reply = _post(s3, bucket, "k", {"x-amz-meta-a": word})
    assert reply.status_code == 400 and b"<Code>InvalidArgument</Code>" in reply.content, reply.content
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])] == ["source"]
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_metadata_words_in_mime_charsets_are_decoded(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x",
                  Metadata={"a": "=?ISO-8859-1?Q?caf=E9?=", "b": "=?us-ascii?Q?plain?=", "c": _rfc2047(TEXT)})
    assert s3.head_object(Bucket=bucket, Key="k")["Metadata"] == {
        "a": _rfc2047("café"), "b": "plain", "c": _rfc2047(TEXT)}


@pytest.mark.parametrize("word", CODEC_WORDS)
def test_metadata_words_in_other_charsets_are_kept_as_sent(s3: Any, bucket: str, word: str) -> None:
    s3.put_object(Bucket=bucket, Key="source", Body=b"x", Metadata={"a": word})
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "source"},
                   MetadataDirective="REPLACE", Metadata={"a": word, "b": "x"})
    upload = s3.create_multipart_upload(Bucket=bucket, Key="parts", Metadata={"a": word})
    s3.abort_multipart_upload(Bucket=bucket, Key="parts", UploadId=upload["UploadId"])
    assert s3.head_object(Bucket=bucket, Key="source")["Metadata"] == {"a": word}
    assert s3.head_object(Bucket=bucket, Key="copy")["Metadata"] == {"a": word, "b": "x"}
    reply = _post(s3, bucket, "posted", {"x-amz-meta-a": word})
    assert reply.status_code == 204, reply.content
    assert s3.head_object(Bucket=bucket, Key="posted")["Metadata"] == {"a": word}
