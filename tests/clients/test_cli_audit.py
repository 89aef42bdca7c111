"""What ``satchel audit`` and ``satchel links`` print, end to end against ``satchel serve``: ``--limit`` keeps
the newest events, a link revoked twice has one revocation (one time, one event), and people read ISO 8601
times while ``--json`` keeps the API's epoch seconds for scripts."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.clients.server import Credentials, ServerHandle, eventually
from tests.clients.test_cli_links import _clean_env, _run

Cli = Callable[..., subprocess.CompletedProcess[str]]
EPOCH = re.compile(r"\b1[0-9]{9}(\.[0-9]+)?\b")  # epoch seconds between 2001 and 2286
ISO = re.compile(r"\b20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z\b")


@pytest.fixture
def satchel(satchel_server: ServerHandle) -> Cli:
    def run(*args: str, creds: Credentials | None = None) -> subprocess.CompletedProcess[str]:
        who = creds or satchel_server.root
        proc = _run(list(args), _clean_env(SATCHEL_ENDPOINT=satchel_server.endpoint,
                                           AWS_ACCESS_KEY_ID=who.access_key, AWS_SECRET_ACCESS_KEY=who.secret_key))
        assert proc.returncode == 0, f"satchel {' '.join(args)}: {proc.stderr}"
        return proc

    return run


def satchel_time(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def minted(satchel: Cli, url: str) -> dict[str, Any]:
    (entry,) = json.loads(satchel("presign", url, "--json").stdout)["links"]
    return dict(entry["link"])


def events(satchel: Cli, *filters: str) -> list[dict[str, Any]]:
    return list(json.loads(satchel("audit", *filters, "--json").stdout)["events"])


def test_limit_keeps_the_newest_events(satchel: Cli, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    ids = [minted(satchel, f"s3://{bucket}/k")["id"] for _ in range(4)]
    assert eventually(lambda: len(events(satchel, "--bucket", bucket)) == 4)
    assert [e["link_id"] for e in events(satchel, "--bucket", bucket, "--limit", "2")] == ids[2:]
    assert [e["link_id"] for e in events(satchel, "--bucket", bucket, "--limit", "1")] == ids[3:]
    newest = events(satchel, "--bucket", bucket)[-1]
    table = satchel("audit", "--bucket", bucket, "--limit", "1").stdout
    assert table.count(" mint ") == 1 and ISO.search(table)
    assert ISO.search(table).group() == satchel_time(newest["time"])  # type: ignore[union-attr]


def test_revoking_twice_is_one_revocation(satchel: Cli, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    link_id = minted(satchel, f"s3://{bucket}/k")["id"]
    first = json.loads(satchel("links", "revoke", link_id, "--json").stdout)
    again = json.loads(satchel("links", "revoke", link_id, "--json").stdout)
    assert first["state"] == again["state"] == "revoked"
    assert again["revoked"] == first["revoked"]
    assert "is revoked (since " in satchel("links", "revoke", link_id).stdout
    assert [e["action"] for e in events(satchel, "--link-id", link_id)] == ["mint", "revoke"]


def test_people_read_iso_times_and_scripts_get_epochs(satchel: Cli, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="team/k", Body=b"x")
    link = minted(satchel, f"s3://{bucket}/team/k")
    satchel("links", "revoke", link["id"])
    revocation = satchel("links", "revoke", "--prefix", f"s3://{bucket}/team/")
    assert eventually(lambda: len(events(satchel, "--bucket", bucket)) == 3)
    for args in (("audit", "--bucket", bucket), ("links", "list", "--bucket", bucket), ("links", "show", link["id"]),
                 ("links", "revocations"), ("links", "revoke", link["id"])):
        shown = satchel(*args).stdout
        assert ISO.search(shown), (args, shown)
        assert not EPOCH.search(shown), (args, shown)
    assert ISO.search(revocation.stdout) and not EPOCH.search(revocation.stdout)
    # --json is the API's answer: epoch seconds, as the OpenAPI document declares them.
    assert all(isinstance(e["time"], float) for e in events(satchel, "--bucket", bucket))
    assert isinstance(json.loads(satchel("links", "show", link["id"], "--json").stdout)["created"], float)


def test_attacker_chosen_text_is_shown_not_obeyed(satchel: Cli, satchel_server: ServerHandle, bucket: str) -> None:
    """Issue 9 (cli, point 1): an anonymous request with a forged signature writes an audit event whose key
    carries terminal escapes, a newline and Rich markup; ``satchel audit`` shows them as text, never obeys them."""
    key = "x\x1b[2K\n[green]F[/green][link=/e]c[/link]\x9b1m"
    url = f"{satchel_server.endpoint}/{bucket}/{quote(key)}"
    reply = requests.get(url, params={"AWSAccessKeyId": "AK", "Signature": "AAAA", "Expires": "9999999999"},
                         timeout=10)
    assert reply.status_code == 403
    assert eventually(lambda: any(e["key"] == key for e in events(satchel, "--bucket", bucket)))
    shown = satchel("audit", "--bucket", bucket).stdout
    assert "\x1b" not in shown and "\x9b" not in shown
    # The Bucket/key column (folded over lines), read back: the key as visible text, markup not interpreted.
    rows = [line.split("\u2502") for line in shown.splitlines() if "\u2502" in line]
    assert {len(cells) for cells in rows} == {11}, shown  # every line has the table's 11 columns: no forged row
    column = "".join(cells[5].strip() for cells in rows)
    assert column == f"{bucket}/x\\x1b[2K\\x0a[green]F[/green][link=/e]c[/link]\\x9b1m", shown
    # --json is for scripts: the key exactly as stored, escaped by the JSON encoder.
    assert any(e["key"] == key for e in events(satchel, "--bucket", bucket))
