"""Link admission and use counting against a real server, links signed by real clients (botocore, the
``satchel`` CLI) and used with curl and requests (issue 9, points 2, 4, 5, 6, 13 and 14):

* the link id the registry checks is the one the signature covered, however it is spelled or placed;
* issue times are bounded by now plus the allowed skew, and revocations reach links dated ahead;
* object and prefix revocations cover presigned listings and each key of a presigned DeleteObjects;
* a SigV2 URL's lifetime is measured from its first sighting, for its whole life;
* a use is counted only when it is admitted, exactly once (HEAD, 304, 404 and refusals are free);
* DeleteObjects authorizes each key, so prefix grants can delete inside their prefix.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import boto3
import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials

from tests.clients import test_cli_links
from tests.clients.server import Credentials, SatchelProcess, ServerHandle, eventually
from tests.clients.test_cli_links import Cli, mint
from tests.clients.test_presign_post import post, presigned_post
from tests.clients.test_presign_wire import Reply, assert_error, botocore_clock, fetch_curl, fetch_requests, now_utc

LINK_ID = "x-amz-satchel-link-id"
satchel = test_cli_links.satchel  # the fixture running the `satchel` CLI against the server


def _with_query(url: str, pairs: list[tuple[str, str]]) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode(pairs)))


def _pairs(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def _client(server: ServerHandle, signature: str, creds: Credentials | None = None) -> Any:
    who = creds or server.root
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=who.access_key, aws_secret_access_key=who.secret_key,
                        config=Config(signature_version=signature, s3={"addressing_style": "path"}))


def _sign_v4(server: ServerHandle, method: str, path: str, query: list[tuple[str, str]], expires: int = 300) -> str:
    """A presigned URL made by botocore's own SigV4 query signer, for requests its presigner cannot
    build (extra query parameters, DeleteObjects)."""
    signer = S3SigV4QueryAuth(BotoCredentials(server.root.access_key, server.root.secret_key), "s3", "us-east-1",
                              expires=expires)
    request = AWSRequest(method=method, url=f"{server.endpoint}{path}" + (f"?{urlencode(query)}" if query else ""))
    signer.add_auth(request)
    return str(request.url)


def _show(satchel: Cli, link_id: str) -> dict[str, Any]:
    return dict(json.loads(satchel("links", "show", link_id, "--json").stdout))


# --- 2: the signed link id is the one the registry checks ------------------------------------------------
def test_v2_link_id_renamed_or_moved_is_still_the_link(satchel: Cli, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="v2.txt", Body=b"v2")
    (entry,) = mint(satchel, f"s3://{bucket}/v2.txt", "--v2", "--max-uses", "1")
    url, link_id = entry["url"], entry["link"]["id"]
    pairs = _pairs(url)
    assert (LINK_ID, link_id) in pairs
    renamed = _with_query(url, [(LINK_ID.upper() if k == LINK_ID else k, v) for k, v in pairs])
    moved = _with_query(url, [(k, v) for k, v in pairs if k != LINK_ID])
    # Renamed: SigV2 signs x-amz-* query names lower-cased, so the signature holds and this is the link.
    assert fetch_curl("GET", renamed).body == b"v2"
    assert _show(satchel, link_id)["uses"] == 1
    for reply in (fetch_curl("GET", renamed), fetch_curl("GET", url),
                  fetch_curl("GET", moved, headers={LINK_ID: link_id})):  # a header carries the same value
        assert_error(reply, 403, "AccessDenied", "The link has no uses left.")
    # Two different values, each plausibly signed: refused, never resolved either way.
    ambiguous = _with_query(url, [*[(k, v) for k, v in pairs if k != LINK_ID], ("X-Amz-Satchel-Link-Id", "f" * 32)])
    assert_error(fetch_curl("GET", ambiguous, headers={LINK_ID: link_id}), 400, "InvalidArgument")


def test_v2_revoked_link_moved_to_a_header_is_refused_and_audited(satchel: Cli, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="moved.txt", Body=b"moved")
    (entry,) = mint(satchel, f"s3://{bucket}/moved.txt", "--v2")
    link_id = entry["link"]["id"]
    satchel("links", "revoke", link_id)
    moved = _with_query(entry["url"], [(k, v) for k, v in _pairs(entry["url"]) if k != LINK_ID])
    assert_error(fetch_curl("GET", moved, headers={LINK_ID: link_id}), 403, "AccessDenied",
                 "The link has been revoked.")

    def refused_use_audited() -> bool:
        events = json.loads(satchel("audit", "--bucket", bucket, "--json").stdout)["events"]
        return any(e["action"] == "use" and e["link_id"] == link_id and e["outcome"] == "refused" for e in events)

    assert eventually(refused_use_audited)


def test_v4_link_id_case_variants_are_signed_parameters(satchel: Cli, s3: Any, bucket: str,
                                                        satchel_server: ServerHandle) -> None:
    """SigV4 signs the query exactly: renaming a minted link's parameter breaks its signature. A URL its
    key's holder signs with another spelling is read by the same rule as SigV2 (any case names the link
    id), so it is that link, with that link's checks; two spellings with different values are refused."""
    s3.put_object(Bucket=bucket, Key="v4.txt", Body=b"v4")
    (entry,) = mint(satchel, f"s3://{bucket}/v4.txt", "--max-uses", "1")
    url, link_id = entry["url"], entry["link"]["id"]
    renamed = _with_query(url, [(LINK_ID.upper() if k == LINK_ID else k, v) for k, v in _pairs(url)])
    assert_error(fetch_curl("GET", renamed), 403, "SignatureDoesNotMatch")

    def signed(query: list[tuple[str, str]]) -> str:
        return _sign_v4(satchel_server, "GET", f"/{bucket}/v4.txt", query)

    assert fetch_curl("GET", signed([("X-Amz-Satchel-Link-Id", link_id)])).body == b"v4"
    assert _show(satchel, link_id)["uses"] == 1  # counted as the link
    assert_error(fetch_curl("GET", signed([("X-Amz-Satchel-Link-Id", link_id)])), 403, "AccessDenied",
                 "The link has no uses left.")
    assert_error(fetch_curl("GET", signed([(LINK_ID, link_id), ("X-Amz-Satchel-Link-Id", "f" * 32)])),
                 400, "InvalidArgument")


# --- 4: dates in the future ------------------------------------------------------------------------------
def test_v4_url_dated_ahead_does_not_survive_revoke_before_now(satchel: Cli, s3: Any, bucket: str,
                                                              satchel_server: ServerHandle) -> None:
    s3.put_object(Bucket=bucket, Key="ahead/a.txt", Body=b"ahead")
    v4 = _client(satchel_server, "s3v4")
    ahead = [v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "ahead/a.txt"}, ExpiresIn=600)]
    with botocore_clock(now_utc() + dt.timedelta(minutes=5)):
        ahead.append(v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "ahead/a.txt"},
                                               ExpiresIn=600))
    assert [fetch_curl("GET", u).status for u in ahead] == [200, 200]
    satchel("links", "revoke", "--before", "now", "--prefix", f"s3://{bucket}/ahead/")
    for url in ahead:
        assert_error(fetch_curl("GET", url), 403, "AccessDenied")


def test_post_policy_dated_2099_is_not_valid_yet(s3_factory: Any, bucket: str) -> None:
    client = s3_factory(signature_version="s3v4")
    with botocore_clock(dt.datetime(2099, 1, 1, tzinfo=dt.UTC)):
        form = presigned_post(client, bucket, key="future/${filename}", expires=3600)
    assert form["fields"]["x-amz-date"].startswith("2099")
    assert_error(post(form, b"from the future"), 403, "AccessDenied", "Request is not valid yet")
    with pytest.raises(s3_factory().exceptions.ClientError):
        s3_factory().head_object(Bucket=bucket, Key="future/photo 1.png")


# --- 5: object and prefix revocations reach bucket-level requests -----------------------------------------
def test_prefix_revocation_covers_presigned_listings_and_delete_objects(
    satchel: Cli, s3: Any, bucket: str, satchel_server: ServerHandle
) -> None:
    for key in ("secret/a.txt", "secret/b.txt", "public/c.txt"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    v4 = _client(satchel_server, "s3v4")
    listings = {prefix: v4.generate_presigned_url("list_objects_v2", Params={"Bucket": bucket, "Prefix": prefix})
                for prefix in ("", "secret/x", "se", "public/")}
    doc = (b'<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>secret/a.txt</Key></Object>'
           b"<Object><Key>public/c.txt</Key></Object></Delete>")
    delete = _sign_v4(satchel_server, "POST", f"/{bucket}", [("delete", "")])
    assert all(fetch_curl("GET", u).status == 200 for u in listings.values())
    satchel("links", "revoke", "--before", "now", "--prefix", f"s3://{bucket}/secret/")

    for prefix, url in listings.items():
        reply = fetch_curl("GET", url)
        if prefix == "public/":
            assert reply.status == 200 and b"public/c.txt" in reply.body, reply.describe()
        else:
            assert_error(reply, 403, "AccessDenied")
    md5 = base64.b64encode(hashlib.md5(doc).digest()).decode()  # noqa: S324 - S3's integrity header
    reply = fetch_requests("POST", delete, data=doc, headers={"Content-MD5": md5})
    assert reply.status == 200, reply.describe()
    assert b"<Deleted><Key>public/c.txt</Key></Deleted>" in reply.body
    assert b"<Key>secret/a.txt</Key><Code>AccessDenied</Code>" in reply.body, reply.body
    assert s3.get_object(Bucket=bucket, Key="secret/a.txt")["Body"].read() == b"x"


# --- 6: a SigV2 ceiling holds for the URL's whole life -------------------------------------------------------
def test_v2_url_too_long_for_the_ceiling_stays_refused(s3: Any, bucket: str, managed_server: SatchelProcess) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"v2")
    managed_server.admin("bucket", "link-lifetime", bucket, "60")
    v2 = _client(managed_server, "s3")
    url = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=62)
    expires = int(dict(_pairs(url))["Expires"])
    assert_error(fetch_curl("GET", url), 403, "AccessDenied")
    # Once fewer than 60 seconds are left, "now" would have let it through.
    time.sleep(max(0.0, expires - 59.5 - time.time()))
    assert_error(fetch_curl("GET", url), 403, "AccessDenied")
    short = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=50)
    assert fetch_curl("GET", short).body == b"v2"
    assert fetch_curl("GET", short).body == b"v2"  # its sighting, remembered, keeps it within the ceiling


def test_v2_first_sighting_is_shared_by_every_worker(tmp_path: Path) -> None:
    """With two workers, the worker that did not see the URL first must still measure from its first
    sighting: it reads the store, not only its own cache. Fresh connections spread over both."""
    server = SatchelProcess(tmp_path / "data", extra_args=["--workers", "2"])
    server.start()
    try:
        v2 = _client(server, "s3")
        v2.create_bucket(Bucket="shared-sighting")
        v2.put_object(Bucket="shared-sighting", Key="k", Body=b"v2")
        server.admin("bucket", "link-lifetime", "shared-sighting", "60")
        url = v2.generate_presigned_url("get_object", Params={"Bucket": "shared-sighting", "Key": "k"},
                                        ExpiresIn=62)
        expires = int(dict(_pairs(url))["Expires"])
        assert fetch_requests("GET", url).status == 403
        time.sleep(max(0.0, expires - 59.5 - time.time()))
        assert [fetch_requests("GET", url).status for _ in range(12)] == [403] * 12
    finally:
        server.stop()


# --- 13: only admitted uses count ----------------------------------------------------------------------------
def test_failed_uses_do_not_consume_a_one_time_link(satchel: Cli, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="once.txt", Body=b"once")
    (entry,) = mint(satchel, f"s3://{bucket}/once.txt", "--max-uses", "1")
    url, link_id = entry["url"], entry["link"]["id"]
    assert fetch_curl("HEAD", url).status == 403  # the method is signed: a GET link is no HEAD link
    etag = s3.head_object(Bucket=bucket, Key="once.txt")["ETag"]
    assert fetch_curl("GET", url, headers={"If-None-Match": etag}).status == 304
    s3.delete_object(Bucket=bucket, Key="once.txt")
    assert_error(fetch_curl("GET", url), 404, "NoSuchKey")
    assert _show(satchel, link_id)["uses"] == 0
    s3.put_object(Bucket=bucket, Key="once.txt", Body=b"back")
    assert fetch_curl("GET", url).body == b"back"
    assert _show(satchel, link_id)["uses"] == 1
    assert_error(fetch_curl("GET", url), 403, "AccessDenied", "The link has no uses left.")
    assert fetch_curl("HEAD", url).status == 403


def test_head_counts_only_through_a_head_link(satchel: Cli, s3: Any, bucket: str) -> None:
    """A preview HEAD cannot use a GET link (SigV4 and SigV2 sign the method), so a GET link counts
    its GETs; a link minted for HEAD counts its HEADs."""
    s3.put_object(Bucket=bucket, Key="peek.txt", Body=b"peek")
    (entry,) = mint(satchel, f"s3://{bucket}/peek.txt", "--method", "head", "--max-uses", "1")
    assert fetch_curl("HEAD", entry["url"]).status == 200
    assert fetch_curl("HEAD", entry["url"]).status == 403
    assert _show(satchel, entry["link"]["id"])["uses"] == 1


def test_refused_signer_does_not_consume_a_one_time_link(satchel: Cli, s3: Any, bucket: str,
                                                         managed_server: SatchelProcess,
                                                         member: Callable[[], Credentials]) -> None:
    writer = member()

    def grant() -> str:
        made = managed_server.admin("grant", "add", writer.user, bucket, "--permission", "read-write",
                                    "--prefix", "team/", "--share", "--json")
        return str(json.loads(made)["id"])

    grant_id = grant()
    (entry,) = mint(satchel, f"s3://{bucket}/team/up.bin", "--method", "put", "--max-uses", "1", creds=writer)
    managed_server.admin("grant", "remove", grant_id)
    assert eventually(lambda: fetch_curl("PUT", entry["url"], data=b"refused").status == 403)
    assert_error(fetch_curl("PUT", entry["url"], data=b"refused"), 403, "AccessDenied")
    assert _show(satchel, entry["link"]["id"])["uses"] == 0
    grant()
    assert eventually(lambda: fetch_curl("PUT", entry["url"], data=b"written").status == 200)
    assert s3.get_object(Bucket=bucket, Key="team/up.bin")["Body"].read() == b"written"
    assert _show(satchel, entry["link"]["id"])["uses"] == 1


def _race(calls: list[Callable[[], Reply]]) -> list[Reply]:
    replies: list[Reply | None] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i: int) -> None:
        start.wait(timeout=10)
        replies[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(r is not None for r in replies)
    return [r for r in replies if r is not None]


def test_concurrent_uses_of_a_one_time_link(satchel: Cli, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="race.bin", Body=b"r" * 200_000)
    (get,) = mint(satchel, f"s3://{bucket}/race.bin", "--max-uses", "1")
    replies = _race([lambda: fetch_requests("GET", get["url"]) for _ in range(4)])
    assert sorted(r.status for r in replies) == [200, 403, 403, 403], [r.describe()[:200] for r in replies]
    assert [r.body for r in replies if r.status == 200] == [b"r" * 200_000]
    (put,) = mint(satchel, f"s3://{bucket}/race-up.bin", "--method", "put", "--max-uses", "1")
    replies = _race([functools.partial(fetch_requests, "PUT", put["url"], data=b"writer %d" % i) for i in range(4)])
    assert sorted(r.status for r in replies) == [200, 403, 403, 403]
    assert s3.get_object(Bucket=bucket, Key="race-up.bin")["Body"].read().startswith(b"writer ")
    assert _show(satchel, put["link"]["id"])["uses"] == 1


# --- 14: DeleteObjects authorizes each key ------------------------------------------------------------------
def test_delete_objects_with_a_prefix_grant(s3: Any, s3_factory: Any, bucket: str, managed_server: SatchelProcess,
                                            member: Callable[[], Credentials]) -> None:
    writer = member()
    managed_server.grant(writer.user, bucket, "read-write", prefix="team/")
    for key in ("team/a", "team/b", "other/c"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    client = s3_factory(writer)
    answer = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in ("team/a", "team/b",
                                                                                            "other/c")]})
    assert sorted(d["Key"] for d in answer.get("Deleted", [])) == ["team/a", "team/b"]
    assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [("other/c", "AccessDenied")]
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"] for o in listed] == ["other/c"]
    with pytest.raises(client.exceptions.NoSuchBucket):
        client.delete_objects(Bucket="no-such-bucket-here", Delete={"Objects": [{"Key": "team/a"}]})


# --- a copy through a link reads its source through it too ------------------------------------------------
def test_copy_link_cannot_carry_a_revoked_or_ceiled_source_out(satchel: Cli, s3: Any, bucket: str,
                                                               managed_server: SatchelProcess) -> None:
    s3.put_object(Bucket=bucket, Key="secret/report.pdf", Body=b"TOP-SECRET")
    v4 = _client(managed_server, "s3v4")

    def copy(source_bucket: str, source: str, target_bucket: str, key: str) -> tuple[str, Callable[[], Reply]]:
        url = str(v4.generate_presigned_url("copy_object", ExpiresIn=3600, Params={
            "Bucket": target_bucket, "Key": key, "CopySource": f"{source_bucket}/{source}"}))
        return url, functools.partial(fetch_requests, "PUT", url,
                                      headers={"x-amz-copy-source": f"{source_bucket}/{source}"})

    _, first = copy(bucket, "secret/report.pdf", bucket, "inbox/first.pdf")
    _, second = copy(bucket, "secret/report.pdf", bucket, "inbox/second.pdf")
    assert first().status == 200
    satchel("links", "revoke", "--before", "now", "--object", f"s3://{bucket}/secret/report.pdf")
    assert_error(second(), 403, "AccessDenied")
    with pytest.raises(s3.exceptions.NoSuchKey):
        s3.get_object(Bucket=bucket, Key="inbox/second.pdf")

    # The source bucket's ceiling holds for a copy into a bucket without one.
    s3.put_object(Bucket=bucket, Key="open/doc.txt", Body=b"ceiled")
    target = f"{bucket}-dst"
    s3.create_bucket(Bucket=target)
    try:
        managed_server.admin("bucket", "link-lifetime", bucket, "60")
        _, long_copy = copy(bucket, "open/doc.txt", target, "doc.txt")
        reply = long_copy()
        assert_error(reply, 403, "AccessDenied")
        assert b"maximum of 60 seconds set on this bucket" in reply.body
        managed_server.admin("bucket", "link-lifetime", bucket, "off")
        assert eventually(lambda: long_copy().status == 200)
        assert s3.get_object(Bucket=target, Key="doc.txt")["Body"].read() == b"ceiled"
    finally:
        s3.delete_object(Bucket=target, Key="doc.txt")
        s3.delete_bucket(Bucket=target)


def test_a_link_refused_while_routed_is_audited_for_its_bucket(satchel: Cli, s3: Any, bucket: str) -> None:
    """Refused before authentication (a protection header, an unknown subresource): still one event per
    use, which the bucket's owner sees."""
    s3.put_object(Bucket=bucket, Key="probe.txt", Body=b"p")
    (entry,) = mint(satchel, f"s3://{bucket}/probe.txt", "--max-uses", "5")
    url, link_id = entry["url"], entry["link"]["id"]
    assert_error(fetch_curl("GET", url, headers={"x-amz-server-side-encryption": "aws:kms"}),
                 501, "NotImplemented")
    assert_error(fetch_curl("GET", url + "&uploads"), 501, "NotImplemented")
    events = json.loads(satchel("audit", "--bucket", bucket, "--json").stdout)["events"]
    uses = [e for e in events if e["link_id"] == link_id and e["action"] == "use"]
    assert [(e["status"], e["outcome"], e["key"]) for e in uses] == [(501, "refused", "probe.txt")] * 2
    assert _show(satchel, link_id)["uses"] == 0
