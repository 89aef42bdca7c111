"""Every comparison of a secret-derived value goes through ``hmac.compare_digest``: an AST scan of satchel/.

``==``, ``!=``, ``in`` and ``not in`` stop at the first differing byte, so the time they take tells a
prober how much of a forged signature, token or MAC was right. The scan finds every such comparison
whose operands name a secret-like value (a word of the name is one of :data:`WORDS`, e.g. ``signature``,
``token_hash``, ``SigningKey``), looking at variable and attribute names, subscripts (``q["Signature"]``)
and ``.get("...")`` keys. Each finding must be rewritten with ``hmac.compare_digest`` (or
``secrets.compare_digest``) or listed in :data:`ALLOWED` with the reason it is no secret. Identity tests
(``is None``) and lengths (``len(signature) != 64``) say nothing about a value's bytes and are not
comparisons of it. A stale allow-list entry fails the test too, so the list stays short and true.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import satchel

WORDS = frozenset({
    "sig", "sigs", "signature", "signatures", "secret", "secrets", "token", "tokens", "digest", "digests", "mac",
    "hmac", "hash", "hashes", "hashed", "password", "passwords",
})  # fmt: skip
_VALUE_COMPARISONS = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)

#: (module, function, comparison as ``ast.unparse`` writes it) -> why it compares no secret.
ALLOWED: dict[tuple[str, str, str], str] = {
    ("admin/auth.py", "authenticate", "result.payload_hash == 'UNSIGNED-PAYLOAD'"):
        "the payload mode the client declared in x-amz-content-sha256, not a secret",
    ("logs.py", "_redact_pair", "plain.strip().lower() in SECRET_QUERY_PARAMETERS"):
        "a query parameter's name against the names to redact; the value is never compared",
    ("server.py", "banner", "secret == SECRET_SHOWN_BEFORE"):
        "the startup banner choosing a placeholder sentence; no client input, no secret value on either side",
    ("signing/sigv4/chunked.py", "_on_trailer", "name == TRAILER_SIGNATURE"):
        "a trailer's header name (x-amz-trailer-signature); its value goes through compare_digest in _expect",
    ("config.py", "is_secret", "name in SECRET_SETTINGS"):
        "a setting's name against the names config show masks; the value is never compared",
    ("config.py", "_check_blob_settings",
     "(settings.blobs_access_key_id is None) != (settings.blobs_secret_access_key is None)"):
        "whether each upstream key is set at all (two booleans); the values are never compared",
    ("signing/formpost.py", "verify", "signature.algorithm not in allowed"):
        "the digest name a FormPost signature declares (sha1, sha256, sha512) against the allowed names",
    ("signing/tempurl.py", "verify", "signature.algorithm not in allowed"):
        "the digest name a TempURL signature declares against the allowed names",
    ("signing/tempurl.py", "parse_signature", "algorithm not in DIGEST_SIZES"):
        "the declared digest name against the supported ones",
    ("signing/tempurl.py", "parse_signature", "len(digest) != DIGEST_SIZES[algorithm]"):
        "a signature's length against its digest's size; its bytes go through compare_digest in verify",
}  # fmt: skip


def _words(name: str) -> list[str]:
    return [w.lower() for w in re.split(r"[_\-]|(?<=[a-z0-9])(?=[A-Z])", name) if w]


def sensitive(name: str) -> bool:
    words = _words(name)
    return any(w in WORDS for w in words) or ("signing" in words and "key" in words)


def _names(node: ast.AST) -> Iterator[str]:
    """The names an operand's value is read from; ``len(x)`` reads only x's length."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len":
        return
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, ast.Attribute):
        yield node.attr
    elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        yield node.slice.value
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
          and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
        yield node.args[0].value
    for child in ast.iter_child_nodes(node):
        yield from _names(child)


def comparison_sites(source: str, module: str) -> list[tuple[str, str, str]]:
    """(module, enclosing function, comparison) for every value comparison naming a secret-like value."""
    tree = ast.parse(source)
    enclosing: dict[int, str] = {}
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                enclosing[id(node)] = function.name  # inner functions come later in the walk and win
    sites = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare) or not any(isinstance(op, _VALUE_COMPARISONS) for op in node.ops):
            continue
        if any(sensitive(name) for operand in (node.left, *node.comparators) for name in _names(operand)):
            sites.append((module, enclosing.get(id(node), "<module>"), ast.unparse(node)))
    return sites


def _package_sites() -> list[tuple[str, str, str]]:
    root = Path(satchel.__file__).parent
    return [site for path in sorted(root.rglob("*.py"))
            for site in comparison_sites(path.read_text(encoding="utf-8"), path.relative_to(root).as_posix())]


def test_every_secret_comparison_is_constant_time() -> None:
    unlisted = [site for site in _package_sites() if site not in ALLOWED]
    assert not unlisted, (
        "comparisons of secret-like values with ==/!=/in (use hmac.compare_digest, or add the site to ALLOWED "
        "with the reason it is no secret):\n" + "\n".join(f"  {m} {f}(): {c}" for m, f, c in unlisted)
    )


def test_the_allow_list_has_no_stale_entries() -> None:
    stale = set(ALLOWED) - set(_package_sites())
    assert not stale, f"ALLOWED names comparisons that no longer exist: {sorted(stale)}"


def test_the_scan_finds_what_it_must() -> None:
    source = '''
def verify(provided, expected, query, tokens, link):
    if provided == expected: pass                      # not named: a limit of the heuristic, documented
    if query["X-Amz-Signature"] != expected: pass
    if query.get("signature") == expected: pass
    if link.token_hash in tokens: pass
    if signingKey == other: pass
    if len(signature) != 64: pass
    if secret is None: pass
    if hmac.compare_digest(signature, expected): pass
'''
    found = [comparison for _m, _f, comparison in comparison_sites(source, "x.py")]
    assert found == [
        "query['X-Amz-Signature'] != expected",
        "query.get('signature') == expected",
        "link.token_hash in tokens",
        "signingKey == other",
    ]
