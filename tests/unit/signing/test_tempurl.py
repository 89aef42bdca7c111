"""TempURL signing: Swift's own vectors (test/unit/common/middleware/test_tempurl.py, openstack/swift@d57c078),
URLs made by python-swiftclient's ``generate_temp_url``, and one row per refusal."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
from swiftclient.utils import generate_temp_url

from satchel.signing import tempurl
from satchel.signing.tempurl import Request, TempUrlInvalid

NOW = 1_400_000_000
KEY = b"correcthorsebatterystaple"
PATH = "/v1/AUTH_acme/photos/cat.jpg"
ALL = tempurl.DEFAULT_ALLOWED_DIGESTS


def _request(method: str = "GET", obj: str = "cat.jpg", *, container: str = "photos",
             client: str = "192.0.2.7") -> Request:
    return Request(method, "AUTH_acme", container, obj, client)


def _params(url: str) -> tempurl.TempUrlParams:
    params = tempurl.parse_query(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    assert params is not None
    return params


# --- Swift's fixed vectors (TestTempURL.test_get_hmacs) -------------------------------------------------------


@pytest.mark.parametrize(("method", "algorithm", "ip_range", "expected"), [
    ("GET", "sha1", None, "026d7f7cc25256450423c7ad03fc9f5ffc1dab6d"),
    ("GET", "sha512", None, "240866478d94bbe683ab1d25fba52c7d0df21a609514fe6a493dc30f951d2748abc51da0cbc633cd1e0acf"
                            "6fadd3af3aedff00ee3d3434dc6a4c423e74adfc4a"),
    ("GET", "sha512", "127.0.0.1", "b713f99a66911cdf41dbcdff16db3efbd1ca89340a2086cc2ed88f0d3a74c7159e7687a312b12345"
                                   "d3721b7b94e36c2753d7cc01e9a91cc318c5081d788f2cfe"),
])
def test_swift_hmac_vectors(method: str, algorithm: str, ip_range: str | None, expected: str) -> None:
    message = tempurl.hmac_message(method, 1, "/v1/a/c/o", ip_range=ip_range)
    assert tempurl.sign(b"abc", message, algorithm).hex() == expected


def test_message_layout() -> None:
    assert tempurl.hmac_message("GET", 5, "/v1/a/c/p", prefix=True, ip_range="10.0.0.0/8") == \
        b"ip=10.0.0.0/8\nGET\n5\nprefix:/v1/a/c/p"


# --- python-swiftclient ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("digest", ["sha1", "sha256", "sha512"])
@pytest.mark.parametrize("iso8601", [False, True])
def test_generate_temp_url_verifies(digest: str, iso8601: bool) -> None:
    url = generate_temp_url(PATH, NOW + 3600, KEY.decode(), "GET", absolute=True, iso8601=iso8601, digest=digest)
    params = _params(url)
    assert params.signature.algorithm == digest and params.expires == NOW + 3600
    assert tempurl.verify(params, _request(), [b"other", KEY], allowed=ALL, now=NOW) == 1
    # Our generator writes what swiftclient writes.
    assert dict(parse_qsl(urlsplit(url).query))["temp_url_sig"] == \
        tempurl.generate(KEY, "GET", NOW + 3600, PATH, algorithm=digest)


def test_generate_temp_url_prefix_and_ip_range() -> None:
    url = generate_temp_url("/v1/AUTH_acme/photos/2024/", NOW + 60, KEY.decode(), "GET", absolute=True, prefix=True,
                            ip_range="192.0.2.0/24")
    params = _params(url)
    assert params.prefix == "2024/" and params.ip_range == "192.0.2.0/24"
    assert tempurl.verify(params, _request(obj="2024/a/b.jpg"), [KEY], allowed=ALL, now=NOW) == 0
    with pytest.raises(TempUrlInvalid, match="outside the signed prefix"):
        tempurl.verify(params, _request(obj="2023/b.jpg"), [KEY], allowed=ALL, now=NOW)
    with pytest.raises(TempUrlInvalid, match="outside the signed range"):
        tempurl.verify(params, _request(obj="2024/b.jpg", client="198.51.100.1"), [KEY], allowed=ALL, now=NOW)


def test_head_accepts_get_put_post_signatures() -> None:
    for signed in ("HEAD", "GET", "PUT", "POST"):
        params = _params(generate_temp_url(PATH, NOW + 60, KEY.decode(), signed, absolute=True))
        assert tempurl.verify(params, _request("HEAD"), [KEY], allowed=ALL, now=NOW) == 0
    params = _params(generate_temp_url(PATH, NOW + 60, KEY.decode(), "DELETE", absolute=True))
    with pytest.raises(TempUrlInvalid):
        tempurl.verify(params, _request("HEAD"), [KEY], allowed=ALL, now=NOW)
    params = _params(generate_temp_url(PATH, NOW + 60, KEY.decode(), "HEAD", absolute=True))
    with pytest.raises(TempUrlInvalid):
        tempurl.verify(params, _request("GET"), [KEY], allowed=ALL, now=NOW)


# --- signature spellings ---------------------------------------------------------------------------------------


def _mac(algorithm: str) -> bytes:
    return hmac.digest(KEY, tempurl.hmac_message("GET", NOW + 60, PATH), algorithm)


@pytest.mark.parametrize("spell", [
    lambda m: m.hex(), lambda m: m.hex().upper(),
    lambda m: "sha512:" + base64.b64encode(m).decode(),
    lambda m: "sha512:" + base64.b64encode(m).decode().rstrip("="),
    lambda m: "sha512:" + base64.urlsafe_b64encode(m).decode(),
    lambda m: "SHA512:" + base64.urlsafe_b64encode(m).decode().rstrip("="),
])
def test_signature_spellings_are_one_signature(spell: object) -> None:
    mac = _mac("sha512")
    signature = tempurl.parse_signature(spell(mac))  # type: ignore[operator]
    assert signature == tempurl.Signature("sha512", mac)
    # One URL, one first sighting: a new spelling is not a new link.
    assert signature.fingerprint == tempurl.parse_signature(mac.hex()).fingerprint


@pytest.mark.parametrize("value", [
    "", "abc", "g" * 40, "a" * 41, "sha384:" + "A" * 64, "md5:AAAA", "sha256:" + "A" * 10,
    "sha256:" + base64.b64encode(b"x" * 32).decode() + "!", "sha256:" + "+" * 20 + "-" * 23,
    "sha1:" + base64.b64encode(b"x" * 32).decode(), "sha256:A",
])
def test_unreadable_signatures(value: str) -> None:
    with pytest.raises(TempUrlInvalid):
        tempurl.parse_signature(value)


# --- expiry ---------------------------------------------------------------------------------------------------


def test_expires_forms() -> None:
    assert tempurl.parse_expires("1400003600") == 1400003600
    iso = time.strftime(tempurl.EXPIRES_ISO8601_FORMAT, time.gmtime(1400003600))
    assert iso == "2014-05-13T17:53:20Z" and tempurl.parse_expires(iso) == 1400003600


@pytest.mark.parametrize("value", ["", "-1", "+5", " 5", "1_000", "١٢", "2014-05-13T17:53:20+0000",
                                   "2014-05-13 17:53:20Z", "2014-13-13T17:53:20Z", "9" * 30, "bad"])
def test_unreadable_expires(value: str) -> None:
    with pytest.raises(TempUrlInvalid):
        tempurl.parse_expires(value)


# --- the query ------------------------------------------------------------------------------------------------


def test_not_a_tempurl() -> None:
    assert tempurl.parse_query([("format", "json")]) is None


@pytest.mark.parametrize("query", [
    [("temp_url_sig", "a" * 64)],
    [("temp_url_expires", "5")],
    [("temp_url_sig", ""), ("temp_url_expires", "5")],
    [("temp_url_sig", "a" * 64), ("temp_url_expires", "5"), ("temp_url_expires", "6")],
    [("temp_url_sig", "a" * 64), ("temp_url_expires", "5"), ("filename", "x" * 5000)],
])
def test_refused_queries(query: list[tuple[str, str]]) -> None:
    with pytest.raises(TempUrlInvalid):
        tempurl.parse_query(query)


def test_query_is_cut_down() -> None:
    params = tempurl.parse_query([("temp_url_sig", "a" * 64), ("temp_url_expires", "5"), ("multipart-manifest", "get"),
                                  ("filename", "x.txt"), ("inline", ""), ("temp_url_ip_range", "10.0.0.1")])
    assert params is not None and params.inline and params.filename == "x.txt"
    assert params.query("S") == [("temp_url_sig", "S"), ("temp_url_expires", "5"), ("filename", "x.txt"),
                                 ("inline", "")]


# --- refusals ---------------------------------------------------------------------------------------------------


def _signed(method: str = "GET", path: str = PATH, expires: int = NOW + 60,
            algorithm: str = "sha256") -> tempurl.TempUrlParams:
    sig = tempurl.generate(KEY, method, expires, path, algorithm=algorithm)
    params = tempurl.parse_query([("temp_url_sig", sig), ("temp_url_expires", str(expires))])
    assert params is not None
    return params


@pytest.mark.parametrize(("params", "request_", "keys", "allowed", "reason"), [
    (_signed(expires=NOW - 1), _request(), [KEY], ALL, "expired"),
    (_signed(), _request("PUT"), [KEY], ALL, "does not match"),
    (_signed(), _request("COPY"), [KEY], ALL, "cannot be used"),
    (_signed(), _request(obj="dog.jpg"), [KEY], ALL, "does not match"),
    (_signed(), _request(container="other"), [KEY], ALL, "does not match"),
    (_signed(), _request(obj=""), [KEY], ALL, "names an object"),
    (_signed(), _request(obj="/"), [KEY], ALL, "names an object"),
    (_signed(), _request(), [], ALL, "no TempURL key"),
    (_signed(), _request(), [b"rotated"], ALL, "does not match"),
    (_signed(algorithm="sha1"), _request(), [KEY], ("sha256", "sha512"), "not allowed"),
])
def test_refusals(params: tempurl.TempUrlParams, request_: Request, keys: list[bytes], allowed: tuple[str, ...],
                  reason: str) -> None:
    with pytest.raises(TempUrlInvalid, match=reason):
        tempurl.verify(params, request_, keys, allowed=allowed, now=NOW)


def test_expires_is_inclusive() -> None:
    assert tempurl.verify(_signed(expires=NOW), _request(), [KEY], allowed=ALL, now=NOW) == 0


def test_tampered_signature() -> None:
    good = _signed()
    bad = tempurl.TempUrlParams(tempurl.Signature("sha256", bytes(32)), good.expires, good.expires_text)
    with pytest.raises(TempUrlInvalid, match="does not match"):
        tempurl.verify(bad, _request(), [KEY], allowed=ALL, now=NOW)


@pytest.mark.parametrize(("ip_range", "client"), [("10.0.0.1/24", "10.0.0.1"), ("nonsense", "10.0.0.1"),
                                                  ("10.0.0.0/24", None), ("10.0.0.0/24", "::1")])
def test_ip_range_refusals(ip_range: str, client: str | None) -> None:
    with pytest.raises(TempUrlInvalid):
        tempurl.check_ip_range(ip_range, client)


def test_odd_object_names_sign_decoded() -> None:
    path = "/v1/AUTH_acme/photos/a\r\nb ü?#%"
    sig = tempurl.generate(KEY, "GET", NOW + 5, path)
    params = tempurl.parse_query([("temp_url_sig", sig), ("temp_url_expires", str(NOW + 5))])
    assert params is not None
    assert tempurl.verify(params, _request(obj="a\r\nb ü?#%"), [KEY], allowed=ALL, now=NOW) == 0


# --- response headers (Swift's test_tempurl expectations) -------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"inline": False, "filename": None, "stored": None, "object_name": "o"},
     "attachment; filename=\"o\"; filename*=UTF-8''o"),
    ({"inline": False, "filename": 'bob "killer".txt', "stored": None, "object_name": "o"},
     "attachment; filename=\"bob %22killer%22.txt\"; filename*=UTF-8''bob%20%22killer%22.txt"),
    ({"inline": True, "filename": 'bob "killer".txt', "stored": None, "object_name": "o"},
     "inline; filename=\"bob %22killer%22.txt\"; filename*=UTF-8''bob%20%22killer%22.txt"),
    ({"inline": True, "filename": None, "stored": "attachment", "object_name": "o"}, "inline"),
    ({"inline": False, "filename": None, "stored": 'attachment; filename="fu\nbar"', "object_name": "o"},
     'attachment; filename="fu%0Abar"'),
    ({"inline": False, "filename": None, "stored": None, "object_name": "a\r\nb"},
     "attachment; filename=\"a%0D%0Ab\"; filename*=UTF-8''a%0D%0Ab"),
    ({"inline": False, "filename": None, "stored": None, "object_name": "dir/o/"},
     "attachment; filename=\"o\"; filename*=UTF-8''o"),
    ({"inline": False, "filename": "/i/want/this/just/as/it/is/", "stored": None, "object_name": "o"},
     "attachment; filename=\"/i/want/this/just/as/it/is/\"; filename*=UTF-8''/i/want/this/just/as/it/is/"),
])
def test_content_disposition(kwargs: dict[str, object], expected: str) -> None:
    assert tempurl.content_disposition(**kwargs) == expected  # type: ignore[arg-type]


def test_expires_header() -> None:
    assert tempurl.expires_header(1400003600) == time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(1400003600))


def test_header_scrubbing() -> None:
    assert tempurl.disallowed_header("PUT", ["Content-Type", "X-Object-Manifest"]) == "X-Object-Manifest"
    assert tempurl.disallowed_header("GET", ["X-Object-Manifest"]) is None
    assert tempurl.removed_request_header("X-Timestamp") and not tempurl.removed_request_header("X-Object-Meta-A")
    assert tempurl.scrub_response_headers([("X-Object-Meta-Secret", "1"), ("X-Object-Meta-Public-Tag", "2"),
                                           ("ETag", "e")]) == [("X-Object-Meta-Public-Tag", "2"), ("ETag", "e")]


def test_allowed_digests_setting() -> None:
    assert tempurl.allowed_digests("sha256 sha512") == {"sha256", "sha512"}
    assert tempurl.allowed_digests("SHA1,sha256") == {"sha1", "sha256"}
    for bad in ("", "md5", "sha256 sha384"):
        with pytest.raises(ValueError):
            tempurl.allowed_digests(bad)


def test_signature_text_matches_swiftclient() -> None:
    mac = hashlib.sha512(b"x").digest()
    assert tempurl.signature_text(mac, "sha512") == "sha512:" + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def test_query_keeps_the_prefix_and_drops_empty_choices() -> None:
    params = tempurl.parse_query([("temp_url_sig", "a" * 64), ("temp_url_expires", "5"), ("temp_url_prefix", "p/"),
                                  ("filename", "")])
    assert params is not None
    assert params.query("S") == [("temp_url_sig", "S"), ("temp_url_expires", "5"), ("temp_url_prefix", "p/")]


def test_temp_url_builder() -> None:
    url = tempurl.temp_url("http://h:1/", "acme", "c", "a b?.txt", key=KEY, method="GET", expires=NOW + 5)
    assert url.startswith("http://h:1/v1/AUTH_acme/c/a%20b%3F.txt?temp_url_sig=")
    assert url.endswith(f"&temp_url_expires={NOW + 5}")
    both = tempurl.temp_url("http://h", "acme", "c", "o", key=KEY, method="GET", expires=NOW, inline=True,
                            filename="x y")
    assert both.endswith("&filename=x%20y&inline")


def test_writes_without_refused_headers() -> None:
    assert tempurl.disallowed_header("PUT", ["Content-Type", "X-Object-Meta-A"]) is None
    assert tempurl.disallowed_header("PUT", ["X-Copy-From"]) == "X-Copy-From"
