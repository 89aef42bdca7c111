"""The hostile catalogue of the front-ends that came after S3: PAR (``/p/``), Swift (``/auth``, ``/v1``) and
the web console (its management API calls and the share pages ``/s/{id}``).

One real ``satchel serve``, a small world in it (:func:`make_world`), and one runner (:func:`check`) for
the rows of ``catalogue_par.py``, ``catalogue_swift.py`` and ``catalogue_console.py``. A row is sent as
raw bytes (``wire.py``), so duplicated headers, invalid UTF-8 and lying lengths go out as written.

What each row must leave unchanged ("state") is read from the metadata store itself, read-only, so that it
covers every front-end the same way: buckets, objects (size, ETag, headers, metadata), uploads and parts,
minted links (uses, revocation), revocations, PARs (uses, last use, deletion), PAR uploads, Swift metadata
(account and container), TempURL keys, Swift tokens, users, access keys, grants, console sessions (not
their last-request time), share pages and blobs. Left out on purpose: the audit trail (checked on its
own: exactly one refused event for a link use, none otherwise), the first sightings of signed URLs
(``link_sightings``: a TempURL's first sighting stands in for its issue time, whatever its fate) and
the console's failure counters (``console_throttle``: counting wrong passwords and passphrases is their
job), and the last-use time of links and PARs (the moment of the last *admitted* try, which a write that
then fails moves; its use is given back, and the use counts are in the state).
"""

from __future__ import annotations

import base64
import hmac
import json
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from tests.clients import mgmt
from tests.clients.boto import make_client
from tests.clients.server import SatchelProcess, eventually
from tests.hostile import wire

BUCKET = "fe-hostile"
OBJECT_BYTES = b"hello front-ends\n"
NAMESPACE_OBJECTS = {"obj.txt": OBJECT_BYTES, "dir/a.txt": b"a", "dir/b.txt": b"b", "dir/c.txt": b"c",
                     "in/x.txt": b"x"}
#: The account's TempURL key (X-Account-Meta-Temp-URL-Key), known to the catalogue so it can sign rows.
TEMPURL_KEY = "catalogue-tempurl-key"
SWIFT_ACCOUNT = "AUTH_root"
PASSPHRASE = "correct horse battery staple"
#: Small limits so abuse rows are cheap: a zip of more than two objects is refused; wrong passphrases and
#: sign-ins are throttled after 20.
FAILURES = 20
CONFIG = ("max_header_bytes = 16384\nheader_timeout = 2.0\nbody_timeout = 1.0\nsend_timeout = 5.0\n"
          f"par_zip_max_entries = 2\nconsole_max_failures = {FAILURES}\nconsole_throttle_window = 600\n"
          "console_lockout = 600\naccess_log = true\n")

#: (table, columns left out) of the state snapshot.
_STATE_TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("accounts", ()), ("users", ()), ("access_keys", ()), ("buckets", ()), ("grants", ()), ("objects", ()),
    ("uploads", ()), ("parts", ()), ("blobs", ()), ("links", ("last_used",)), ("revocations", ()),
    ("par_requests", ("last_used",)),
    ("par_uploads", ()), ("swift_tokens", ()), ("swift_metadata", ()), ("tempurl_keys", ()),
    ("console_sessions", ("last_seen",)), ("console_shares", ()),
)


@dataclass(frozen=True)
class Row:
    id: str
    method: str
    #: Path and query, with ``{NAME}`` placeholders filled from :attr:`World.values`.
    target: str
    status: int
    #: What the answer says: OCI's JSON ``code``, the management API's ``error.code``, Swift's plain-text
    #: body or its HTML page's title, a share page's title (:func:`code_of`).
    code: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    #: A use of a link (PAR, TempURL, FormPost, share page): exactly one refused audit event.
    link: bool = False
    #: What that event's reason holds (default: ``code``).
    reason: str | None = None
    #: Send Content-Length from the body (False: the row's headers say it, or nothing does).
    auto_length: bool = True


def code_of(reply: wire.Reply) -> str:
    kind = reply.headers.get("content-type", "").lower()
    if 300 <= reply.status < 400:
        return reply.headers.get("location", "")
    if kind.startswith("application/json"):
        try:
            data = json.loads(reply.body)
        except ValueError:
            return ""
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            return str(data["error"].get("code", ""))
        return str(data.get("code", "")) if isinstance(data, dict) else ""
    if kind.startswith("text/html"):
        found = re.search(rb"<h1>(.*?)</h1>", reply.body)
        return found.group(1).decode("utf-8", "replace") if found else ""
    if kind.startswith(("application/xml", "text/xml")):  # a path the S3 front-end answers
        found = re.search(rb"<Code>([^<]*)</Code>", reply.body)
        return found.group(1).decode() if found else ""
    if kind.startswith("text/plain"):
        return reply.body.decode("utf-8", "replace").strip().replace("\r\n", " | ")
    return ""


@dataclass
class World:
    server: SatchelProcess
    #: Placeholder values: tokens, ids, cookies, paths.
    values: dict[str, str] = field(default_factory=dict)

    @property
    def db(self) -> Path:
        return self.server.data_dir / "meta.sqlite3"

    def fill(self, text: str) -> str:
        for name, value in self.values.items():
            text = text.replace("{" + name + "}", value)
        return text

    def _read(self, query: str) -> list[tuple[Any, ...]]:
        connection = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return connection.execute(query).fetchall()
        finally:
            connection.close()

    def snapshot(self) -> dict[str, Any]:
        connection = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            state = {}
            for table, left_out in _STATE_TABLES:
                names = [r[1] for r in connection.execute(f"PRAGMA table_info({table})") if r[1] not in left_out]
                rows = connection.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall()  # noqa: S608
                state[table] = sorted(rows, key=repr)
            return state
        finally:
            connection.close()

    def audit_dump(self) -> str:
        """Every audit event, every column, as text (for the secret scan)."""
        return repr(self._read("SELECT * FROM audit_events"))

    def audit_count(self) -> int:
        return int(self._read("SELECT count(*) FROM audit_events")[0][0])

    def newest_events(self, count: int) -> list[dict[str, Any]]:
        rows = self._read("SELECT outcome, status, reason, kind, action FROM audit_events "  # noqa: S608
                          f"ORDER BY time DESC, rowid DESC LIMIT {int(count)}")
        return [dict(zip(("outcome", "status", "reason", "kind", "action"), row, strict=True)) for row in rows]

    def flush(self) -> None:
        """Reading the audit trail through the API writes what the server buffered (events, and the use
        counts of links and PARs without a limit): the store is then current. Also proves the server answers."""
        mgmt.ok(mgmt.call(self.server, None, "GET", "/audit?limit=1"))


def build(world: World, row: Row) -> bytes:
    headers = [(name, world.fill(value)) for name, value in row.headers]
    body = world.fill(row.body.decode("latin-1")).encode("latin-1")
    prepared = wire.Prepared(row.method, world.fill(row.target), headers, body, auto_length=row.auto_length)
    return wire.to_bytes(prepared, world.server.host_port)


def check(world: World, state: dict[str, Any], baseline: dict[str, Any], row: Row) -> None:
    """Send one row and assert its answer, that nothing changed, its audit events and that the server answers."""
    if "snapshot" not in state:  # the previous row failed: take a fresh snapshot (state cannot be given back)
        time.sleep(0.3)  # what the failed row still had under way
        world.flush()
        state.update(snapshot=world.snapshot(), events=world.audit_count())
    before, events_before = state.pop("snapshot"), state.pop("events")
    reply = wire.exchange("127.0.0.1", world.server.port, build(world, row))
    assert (reply.status, code_of(reply)) == (row.status, row.code), \
        f"{reply.status} {code_of(reply)!r} {reply.body[:400]!r}"
    expected = events_before + (1 if row.link else 0)
    world.flush()  # also: the server still answers
    events = world.audit_count()
    deadline = time.monotonic() + 5
    while events < expected and time.monotonic() < deadline:
        # A 408 is sent by the transport at the body timeout, while the handler that records the use's event
        # is still unwinding: its event may come a moment after the answer.
        time.sleep(0.05)
        world.flush()
        events = world.audit_count()
    assert events == expected, f"{events - events_before} audit events, expected {expected - events_before}"
    if row.link:
        newest = world.newest_events(1)[0]
        assert newest["outcome"] != "allowed", newest
        assert newest["status"] == reply.status, newest  # the trail says what the client was told
        assert (row.reason or row.code) in (newest["reason"] or ""), newest
    after = world.snapshot()
    assert after == before, f"the request changed state: {_diff(before, after)}"
    state.update(snapshot=after, events=events)


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {table: {"gone": [r for r in before[table] if r not in after[table]],
                    "new": [r for r in after[table] if r not in before[table]]}
            for table in before if before[table] != after[table]}


# --- the world ------------------------------------------------------------------------------------------
def tempurl_sig(method: str, expires: int | str, path: str, *, algorithm: str = "sha256", prefix: bool = False,
                ip_range: str | None = None, key: str = TEMPURL_KEY) -> str:
    lines = [method, str(expires), ("prefix:" if prefix else "") + path]
    if ip_range:
        lines.insert(0, f"ip={ip_range}")
    return hmac.new(key.encode(), "\n".join(lines).encode(), algorithm).hexdigest()


def formpost_sig(path: str, redirect: str, size: str, count: str, expires: str, *, algorithm: str = "sha256",
                 key: str = TEMPURL_KEY) -> str:
    message = f"{path}\n{redirect}\n{size}\n{count}\n{expires}".encode()
    return hmac.new(key.encode(), message, algorithm).hexdigest()


def b64(hexdigest: str, *, urlsafe: bool = False, pad: bool = True) -> str:
    raw = bytes.fromhex(hexdigest)
    text = (base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)).decode()
    return text if pad else text.rstrip("=")


def _par(server: SatchelProcess, **fields: Any) -> dict[str, Any]:
    body = {"name": "catalogue", "bucket": BUCKET,
            "timeExpires": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + fields.pop("life", 86400))),
            **fields}
    return dict(mgmt.ok(mgmt.call(server, None, "POST", "/pars", body)))


def make_world(server: SatchelProcess) -> World:
    world = World(server)
    values = world.values
    s3 = make_client(server)
    s3.create_bucket(Bucket=BUCKET)
    for key, data in NAMESPACE_OBJECTS.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    values["B"] = BUCKET
    values["S3UPLOAD"] = s3.create_multipart_upload(Bucket=BUCKET, Key="in/s3mp.bin")["UploadId"]
    # --- PARs: read one object (five uses), read and list dir/, write in/ (twice), and dead ones
    expiring = _par(server, accessType="ObjectRead", objectName="obj.txt", life=1)
    pars = {
        "R": _par(server, accessType="ObjectRead", objectName="obj.txt", maxUses=5),
        "L": _par(server, accessType="AnyObjectRead", objectName="dir/", bucketListingAction="ListObjects"),
        "W": _par(server, accessType="AnyObjectWrite", objectName="in/"),
        "W2": _par(server, accessType="AnyObjectWrite", objectName="in/"),
        "D": _par(server, accessType="ObjectRead", objectName="obj.txt"),
        "U": _par(server, accessType="ObjectRead", objectName="obj.txt", maxUses=1),
        "E": expiring,
    }
    for name, par in pars.items():
        parts = urlsplit(par["fullPath"]).path.split("/")
        values[f"T{name}"] = parts[2]
        values["NS"] = parts[4]
    values["TRCUT"] = values["TR"][:-1]
    mgmt.ok(mgmt.call(server, None, "DELETE", f"/pars/{BUCKET}/{pars['D']['id']}"))
    base = server.endpoint
    assert requests.get(f"{base}/p/{values['TU']}/n/{values['NS']}/b/{BUCKET}/o/obj.txt", timeout=10).status_code == 200
    started = requests.put(f"{base}/p/{values['TW']}/n/{values['NS']}/b/{BUCKET}/o/in/mp.bin",
                           headers={"opc-multipart": "true"}, timeout=10)
    values["PARUPLOAD"] = started.json()["uploadId"]
    # --- Swift: a token, the account's TempURL key, metadata on the container and the object
    auth = requests.get(f"{base}/auth/v1.0", headers={"X-Auth-User": "root:root", "X-Auth-Key": server.secret_key},
                        timeout=10)
    values["TOKEN"] = auth.headers["X-Auth-Token"]
    values["TOKENCUT"] = values["TOKEN"][:-1]
    values["SECRET"] = server.secret_key
    values["SECRETCUT"] = server.secret_key[:-1]
    swift = f"{base}/v1/{SWIFT_ACCOUNT}"
    token = {"X-Auth-Token": values["TOKEN"]}
    for url, headers in ((swift, {"X-Account-Meta-Temp-URL-Key": TEMPURL_KEY}),
                         (f"{swift}/{BUCKET}", {"X-Container-Meta-Colour": "blue"})):
        assert requests.post(url, headers={**token, **headers}, timeout=10).status_code == 204
    # --- console: a session (cookie and CSRF token), one signed out, share pages of a minted link
    console = requests.Session()
    signed = console.post(f"{base}/_satchel/api/session", json={"user": "root", "password": server.password},
                          timeout=10)
    values["COOKIE"] = str(console.cookies["satchel_session"])
    values["CSRF"] = signed.json()["csrf_token"]
    gone = requests.Session()
    gone_in = gone.post(f"{base}/_satchel/api/session", json={"user": "root", "password": server.password},
                        timeout=10)
    values["OLDCOOKIE"] = str(gone.cookies["satchel_session"])
    values["OLDCSRF"] = gone_in.json()["csrf_token"]
    assert gone.delete(f"{base}/_satchel/api/session", headers={"X-CSRF-Token": values["OLDCSRF"]},
                       timeout=10).status_code == 200
    link = mgmt.ok(mgmt.call(server, None, "POST", "/links",
                             {"bucket": BUCKET, "keys": ["obj.txt"], "max_uses": 5, "kind": "s3v4"}))
    values["LINK"] = link["links"][0]["link"]["id"]
    for name, passphrase in (("SHARE", None), ("SHAREP", PASSPHRASE), ("SHAREP2", PASSPHRASE),
                             ("SHARELOCKED", PASSPHRASE)):
        request = {"link_id": values["LINK"], **({"passphrase": passphrase} if passphrase else {})}
        made = mgmt.ok(mgmt.call(server, None, "POST", "/shares", request))
        values[name] = made["url"].rsplit("/", 1)[1]
    # The unlock cookie of another page (worth nothing on SHAREP).
    unlocked = requests.post(f"{base}/s/{values['SHAREP2']}", data={"passphrase": PASSPHRASE}, timeout=10,
                             allow_redirects=False)
    values["SHAREPCOOKIEOTHER"] = str(unlocked.cookies["satchel_share"])
    values.update(PASSWORD=server.password, PASSWORDCUT=server.password[:-1], CSRFCUT=values["CSRF"][:-1],
                  CSRFUPPER=values["CSRF"].upper(), SHARECUT=values["SHARE"][:-1], SHAREUPPER=values["SHARE"].upper(),
                  COOKIEFLIP=values["COOKIE"][:-1] + ("A" if values["COOKIE"][-1] != "A" else "B"))
    # Spend the locked page's tries with passphrases too long to be checked (no argon2 work).
    for _ in range(FAILURES):
        requests.post(f"{base}/s/{values['SHARELOCKED']}", data={"passphrase": "x" * 2000}, timeout=10)
    eventually(lambda: time.time() > _expiry(expiring), timeout=3)
    world.flush()
    return world


def _expiry(par: dict[str, Any]) -> float:
    return time.mktime(time.strptime(par["timeExpires"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
