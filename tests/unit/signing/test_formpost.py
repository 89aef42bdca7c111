"""FormPost signatures, as Swift's test_formpost.py builds them (``hmac_msg`` and ``_make_sig_env_body``),
and one row per refusal."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from satchel.signing import formpost
from satchel.signing.formpost import FormInvalid, FormUnauthorized

NOW = 1_400_000_000
KEY = b"abc"
PATH = "/v1/AUTH_test/container/prefix/"


def _swift_hmac_msg(path: str, redirect: str, max_file_size: int, max_file_count: int, expires: int) -> bytes:
    # test_formpost.hmac_msg, verbatim in substance.
    return ("%s\n%s\n%s\n%s\n%s" % (path, redirect, max_file_size, max_file_count, expires)).encode()  # noqa: UP031


def _attributes(signature: str, *, redirect: str = "", size: str = "1024", count: str = "10",
                expires: str = str(NOW + 60)) -> dict[str, str]:
    attrs = {"max_file_size": size, "max_file_count": count, "expires": expires, "signature": signature}
    if redirect:
        attrs["redirect"] = redirect
    return attrs


def _spec(attrs: dict[str, str]) -> formpost.FormSpec:
    return formpost.parse_attributes(attrs, max_put_size=5 * 1024**3)


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
@pytest.mark.parametrize("redirect", ["", "http://brim.net"])
def test_swift_signatures_verify(algorithm: str, redirect: str) -> None:
    mac = hmac.new(KEY, _swift_hmac_msg(PATH, redirect, 1024, 10, NOW + 60), algorithm)
    for signature in (mac.hexdigest(), f"{algorithm}:" + base64.b64encode(mac.digest()).decode()):
        spec = _spec(_attributes(signature, redirect=redirect))
        assert formpost.verify(spec, PATH, [b"other", KEY], allowed=("sha1", "sha256", "sha512"), now=NOW) == 1


def test_generate_matches_swift() -> None:
    expected = hmac.new(KEY, _swift_hmac_msg(PATH, "", 5, 2, NOW), hashlib.sha256).hexdigest()
    assert formpost.generate(KEY, PATH, "", 5, 2, NOW) == expected


def _good(**kwargs: str) -> dict[str, str]:
    signature = formpost.generate(KEY, PATH, kwargs.get("redirect", ""), 1024, 10, NOW + 60)
    return _attributes(signature, **kwargs)


@pytest.mark.parametrize(("attrs", "path", "keys", "allowed", "message", "reason"), [
    (_attributes(formpost.generate(KEY, PATH, "", 1024, 10, NOW - 1), expires=str(NOW - 1)), PATH, [KEY],
     ("sha256",), "form expired", "expired"),
    (_good(), "/v1/AUTH_test/container/other/", [KEY], ("sha256",), "invalid signature", "does not match"),
    (_good(), PATH, [b"rotated"], ("sha256",), "invalid signature", "does not match"),
    (_good(), PATH, [], ("sha256",), "invalid signature", "no TempURL key"),
    (_good(), PATH, [KEY], ("sha512",), "invalid signature", "not allowed"),
    (_attributes(formpost.generate(KEY, PATH, "", 1024, 10, NOW + 60), redirect="http://evil.example"),
     PATH, [KEY], ("sha256",), "invalid signature", "does not match"),
    (_attributes("nonsense"), PATH, [KEY], ("sha256",), "invalid signature", "hex"),
])
def test_unauthorized(attrs: dict[str, str], path: str, keys: list[bytes], allowed: tuple[str, ...], message: str,
                      reason: str) -> None:
    with pytest.raises(FormUnauthorized, match=message) as raised:
        formpost.verify(_spec(attrs), path, keys, allowed=allowed, now=NOW)
    assert reason in raised.value.reason


def test_tampered_limits_are_refused() -> None:
    attrs = _good()
    attrs["max_file_size"] = "1025"
    with pytest.raises(FormUnauthorized):
        formpost.verify(_spec(attrs), PATH, [KEY], allowed=("sha256",), now=NOW)
    attrs = _good()
    attrs["max_file_size"] = "01024"  # the same number, another text: Swift signs the text
    with pytest.raises(FormUnauthorized):
        formpost.verify(_spec(attrs), PATH, [KEY], allowed=("sha256",), now=NOW)


@pytest.mark.parametrize(("change", "message"), [
    ({"max_file_size": ""}, "max_file_size is missing"),
    ({"signature": ""}, "signature is missing"),
    ({"max_file_size": "1e3"}, "max_file_size not an integer"),
    ({"max_file_count": "-1"}, "max_file_count not an integer"),
    ({"expires": "soon"}, "expired not an integer"),
    ({"max_file_size": str(6 * 1024**3)}, "largest upload"),
    ({"max_file_count": "100000"}, "max_file_count above"),
    ({"x_delete_after": "60"}, "x_delete_after is not supported"),
    ({"x_delete_at": "1400000100"}, "x_delete_at is not supported"),
])
def test_invalid(change: dict[str, str], message: str) -> None:
    attrs = _good()
    attrs.update(change)
    with pytest.raises(FormInvalid, match=message):
        _spec(attrs)


def test_redirect_location() -> None:
    assert formpost.redirect_location("http://brim.net", 201, "") == "http://brim.net?status=201&message="
    assert formpost.redirect_location("http://brim.net?a=b", 400, "max file count exceeded") == \
        "http://brim.net?a=b&status=400&message=max%20file%20count%20exceeded"
    assert b'href="http://x?a=1&amp;b=&quot;"' in formpost.redirect_body('http://x?a=1&b="')


def test_object_name() -> None:
    assert formpost.object_name("inbox/", "a.txt") == "inbox/a.txt"
    assert formpost.object_name("", "") == "filename"
