"""Pure parts of pre-authenticated requests: the access URL router (a table), tokens, the error table, the
3500-byte URL limit and the store's exact use counting."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from satchel.core import errors as e
from satchel.core.models import AuditEvent, Bucket, Principal, Role
from satchel.core.par.manage import ParSpec, plan_par
from satchel.core.par.model import AccessType, ListingAction, Par
from satchel.core.par.use import listing_prefix
from satchel.meta.sqlite import SqliteStore
from satchel.par.errors import UNIFORM_MESSAGE, render
from satchel.par.headers import safe_inline
from satchel.par.router import Op, parse_target, route
from satchel.signing.tokens import new_token, same_hash, token_hash, well_formed

TOKEN = "A" * 43


@pytest.mark.parametrize(("method", "path", "op", "key"), [
    ("GET", f"/p/{TOKEN}/n/root/b/photos/o/", Op.ListObjects, ""),
    ("GET", f"/p/{TOKEN}/n/root/b/photos/o/a/b.jpg", Op.GetObject, "a/b.jpg"),
    ("HEAD", f"/p/{TOKEN}/n/root/b/photos/o/a%2Fb.jpg", Op.HeadObject, "a/b.jpg"),
    ("PUT", f"/p/{TOKEN}/n/root/b/photos/o/caf%C3%A9", Op.PutObject, "café"),
])
def test_routes(method: str, path: str, op: Op, key: str) -> None:
    endpoint = route(method, parse_target(path))
    assert (endpoint.op, endpoint.key, endpoint.bucket, endpoint.namespace, endpoint.token) == \
        (op, key, "photos", "root", TOKEN)


@pytest.mark.parametrize(("method", "path", "error"), [
    ("DELETE", f"/p/{TOKEN}/n/root/b/photos/o/a", e.AccessDenied),
    ("POST", f"/p/{TOKEN}/n/root/b/photos/o/a", e.AccessDenied),
    ("DELETE", f"/p/{TOKEN}/n/root/b/photos/o/", e.AccessDenied),
    ("HEAD", f"/p/{TOKEN}/n/root/b/photos/o/", e.AccessDenied),
    ("PUT", f"/p/{TOKEN}/n/root/b/photos/o/", e.InvalidArgument),
    ("GET", f"/p/{TOKEN}/n/root/b/photos/o/a/../b", e.InvalidArgument),
    ("GET", f"/p/{TOKEN}/n/root/b/photos/o/a/%2E%2E/b", e.InvalidArgument),
    ("GET", f"/p/{TOKEN}/n/root/b/photos/o/./b", e.InvalidArgument),
    ("GET", f"/p/{TOKEN}/n/root/b/photos/o/%FF", e.InvalidArgument),
    ("GET", f"/p/{TOKEN}/n/root/b/photos/o/a%0Ab", e.InvalidArgument),
    ("GET", f"/p/{TOKEN}/n/root/b/photos", e.AccessDenied),
    ("GET", f"/p/{TOKEN}/x/root/b/photos/o/a", e.AccessDenied),
    ("GET", "/p/", e.AccessDenied),
])
def test_refused_routes(method: str, path: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        route(method, parse_target(path))


@pytest.mark.parametrize(("method", "path", "op", "upload", "part"), [
    ("PUT", f"/p/{TOKEN}/n/root/b/photos/u/a/b.bin/id/UP-1/7", Op.UploadPart, "UP-1", 7),
    ("POST", f"/p/{TOKEN}/n/root/b/photos/u/a/id/b.bin/id/UP-1/", Op.CommitMultipartUpload, "UP-1", None),
    ("DELETE", f"/p/{TOKEN}/n/root/b/photos/u/a/b.bin/id/UP-1/", Op.AbortMultipartUpload, "UP-1", None),
])
def test_upload_routes(method: str, path: str, op: Op, upload: str, part: int | None) -> None:
    endpoint = route(method, parse_target(path))
    assert (endpoint.op, endpoint.upload_id, endpoint.part_number) == (op, upload, part)
    assert endpoint.key in ("a/b.bin", "a/id/b.bin")


@pytest.mark.parametrize(("method", "path"), [
    ("GET", f"/p/{TOKEN}/n/root/b/photos/u/a/id/UP/"), ("PUT", f"/p/{TOKEN}/n/root/b/photos/u/a/id/UP/"),
    ("POST", f"/p/{TOKEN}/n/root/b/photos/u/a/id/UP/1"), ("PUT", f"/p/{TOKEN}/n/root/b/photos/u/a/id/UP"),
    ("PUT", f"/p/{TOKEN}/n/root/b/photos/u/a/UP/1"),
])
def test_refused_upload_routes(method: str, path: str) -> None:
    with pytest.raises(e.AccessDenied):
        route(method, parse_target(path))


def test_opc_multipart_header() -> None:
    target = parse_target(f"/p/{TOKEN}/n/root/b/photos/o/k")
    assert route("PUT", target, {"opc-multipart": "TRUE"}).op is Op.CreateMultipartUpload
    assert route("PUT", target, {}).op is Op.PutObject
    with pytest.raises(e.InvalidArgument):
        route("PUT", target, {"opc-multipart": "false"})
    with pytest.raises(e.InvalidArgument):
        route("PUT", parse_target(f"/p/{TOKEN}/n/root/b/photos/u/k/id/U/0"))


def test_encoded_slash_never_moves_a_segment() -> None:
    target = parse_target(f"/p/{TOKEN}/n/root/b/photos%2Fo%2Fx/o/k")
    assert target.bucket == "photos/o/x" and target.key == "k"  # a bucket name no bucket has
    assert parse_target(f"/p/{TOKEN}/n/ro%2Fot/b/photos/o/a").namespace == "ro/ot"


def test_tokens() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(well_formed(t) and len(t) == 43 for t in tokens)
    token = next(iter(tokens))
    assert token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
    assert same_hash(token_hash(token), token_hash(token)) and not same_hash(token_hash(token), token_hash(TOKEN))
    for bad in ("", "A" * 42, "A" * 44, "A" * 42 + "/", "A" * 42 + "="):
        assert not well_formed(bad)


@pytest.mark.parametrize(("error", "code", "status"), [
    (e.AccessDenied("creator gone"), "NotAuthorizedOrNotFound", 404),
    (e.NoSuchKey(), "ObjectNotFound", 404),
    (e.InvalidArgument("x"), "InvalidParameter", 400),
    (e.PreconditionFailed(Condition="If-Match"), "IfMatchFailed", 412),
    (e.PreconditionFailed(Condition="If-None-Match"), "IfNoneMatchFailed", 412),
    (e.InvalidRange(), "InvalidRange", 416),
    (e.BadDigest(), "UnmatchedContentMD5", 400),
    (e.EntityTooLarge(), "RequestEntityTooLarge", 413),
    (e.SlowDown(), "ServiceUnavailable", 503),  # the server's side is short, not a throttled client
    (e.ServiceUnavailable(), "ServiceUnavailable", 503),
    (ValueError("bug"), "InternalServerError", 500),
    (e.Conflict(), "InternalServerError", 500),  # unmapped: loud
])
def test_error_table(error: Exception, code: str, status: int) -> None:
    got_status, body = render(error)
    assert got_status == status and f'"code": "{code}"' in body.decode()
    if code == "NotAuthorizedOrNotFound":
        assert UNIFORM_MESSAGE in body.decode() and "creator gone" not in body.decode()


def _store(store: SqliteStore) -> tuple[SqliteStore, Principal, Bucket]:
    """The shared store fixture (each engine: ``tests/unit/conftest.py``) with an admin and a bucket."""
    account = store.create_account("acme")
    user = store.create_user(account.id, "ann", Role.ADMIN)
    bucket = store.create_bucket(Bucket("b1", account.id, user.id, 0.0))
    return store, Principal(user), bucket


def test_url_limit_3500_bytes(store: SqliteStore) -> None:
    store, principal, _ = _store(store)
    try:
        spec = ParSpec(bucket="b1", name="n", access_type=AccessType.OBJECT_READ, expires=2e9,
                       object_name="é" * 400)
        par, path = plan_par(store, principal, spec, endpoint="https://s3.example.com", now=1e9, server_max=0)
        assert path.startswith("/p/") and path.endswith("/n/acme/b/b1/o/" + "%C3%A9" * 400)
        assert par.namespace == "acme" and par.token_hash not in path
        long_endpoint = "https://" + "x" * 1100 + ".example.com"
        with pytest.raises(e.InvalidArgument, match="at most 3500"):
            plan_par(store, principal, spec, endpoint=long_endpoint, now=1e9, server_max=0)
        with pytest.raises(e.InvalidArgument, match="timeExpires may be at most 60"):
            plan_par(store, principal, spec, endpoint="http://x", now=1e9, server_max=60)
    finally:
        store.close()


def test_consume_is_exact_and_stops_when_deleted(store: SqliteStore) -> None:
    store, principal, bucket = _store(store)
    try:
        spec = ParSpec(bucket="b1", name="n", access_type=AccessType.ANY_OBJECT_READ, expires=2e9, max_uses=2)
        par, _ = plan_par(store, principal, spec, endpoint="http://x", now=1e9, server_max=0)
        assert store.create_par(par, AuditEvent(time=1e9, action="mint", outcome="allowed")) is None
        assert store.live_par_count(bucket.id, 1e9) == 1
        assert store.consume_par(par.id, 1e9 + 1) is not None
        assert store.consume_par(par.id, 1e9 + 2) is not None
        assert store.consume_par(par.id, 1e9 + 3) is None
        assert store.live_par_count(bucket.id, 1e9) == 0  # used up: no longer blocks the bucket
        assert store.consume_par(par.id, 3e9) is None  # expired
        gone = store.delete_par(par.id, 5.0)
        assert store.delete_par(par.id, 6.0).deleted == gone.deleted == 5.0
        with pytest.raises(e.NotFound):
            store.delete_par("nope", 1.0)
        # a PAR for a bucket deleted meanwhile is never stored
        orphan = Par(**{**{f: getattr(par, f) for f in Par.__slots__}, "id": "other", "token_hash": "h",
                        "bucket_id": "gone"})
        assert store.create_par(orphan, AuditEvent(time=1e9, action="mint", outcome="allowed")) == "bucket"
    finally:
        store.close()


@pytest.mark.parametrize(("own", "asked", "acted"), [
    ("in/", "", "in/"), ("in/", "in/deep/", "in/deep/"), ("in/", "i", "in/"), ("in/", "out/", None),
    (None, "x", "x"), (None, "", ""),
])
def test_listing_prefix(own: str | None, asked: str, acted: str | None) -> None:
    par = Par("id", "h", "n", "u", "ns", "b", "bid", own, AccessType.ANY_OBJECT_READ, ListingAction.LIST_OBJECTS,
              0.0, 1.0)
    assert listing_prefix(par, asked) == acted


def test_access_types() -> None:
    reads = {t for t in AccessType if t.reads}
    writes = {t for t in AccessType if t.writes}
    assert {t.value for t in reads} == {"ObjectRead", "ObjectReadWrite", "AnyObjectRead", "AnyObjectReadWrite"}
    assert {t.value for t in writes} == {"ObjectWrite", "ObjectReadWrite", "AnyObjectWrite", "AnyObjectReadWrite"}


class _Rows:
    """A store stand-in for the archive's collection: ``n`` objects of ``size`` bytes."""

    def __init__(self, n: int, size: int) -> None:
        from satchel.core.models import ObjectSummary

        self.rows = [ObjectSummary(f"k{i:05d}", size, "e", 0.0, None) for i in range(n)]

    def list_objects(self, bucket: str, *, prefix: str = "", after: str | None = None, limit: int = 1000) -> list[Any]:
        start = 0 if after is None else next(i for i, r in enumerate(self.rows) if r.key == after) + 1
        return self.rows[start:start + limit]


@pytest.mark.parametrize(("n", "size", "refused"), [
    (2500, 0, False), (3000, 0, False), (3001, 0, "objects"), (10, 100, False), (11, 100, "bytes"),
])
def test_archive_ceilings(n: int, size: int, refused: str | bool) -> None:
    from types import SimpleNamespace

    from satchel.par.archive import collect

    node: Any = SimpleNamespace(store=_Rows(n, size))
    if refused:
        with pytest.raises(e.InvalidArgument, match=f"more than .* {refused}"):
            collect(node, "b", "", max_entries=3000, max_bytes=1000)
    else:
        assert len(collect(node, "b", "", max_entries=3000, max_bytes=1000)) == n


@pytest.mark.parametrize(("value", "inline"), [
    ("text/plain", True), ("text/plain; charset=utf-8", True), ("IMAGE/PNG", True), ("application/pdf", True),
    ("text/plain,text/html", False), ("*/*,text/html", False), ('text/plain;a=",",text/html', False),
    ("text/html", False), ("image/svg+xml", False), ("text/rdf", False), ("", False), ("garbage", False),
    ("text/plain;", True), ("text/plain; a", False), ("*/*", False),
])
def test_only_allow_listed_single_media_types_are_inline(value: str, inline: bool) -> None:
    assert safe_inline(value) is inline
