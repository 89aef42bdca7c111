"""The creator of a PAR: who may create one (the share right and every right it grants), and the same
decision re-made at every use — a creator who loses a right, is disabled or deleted stops the PAR; the
right coming back makes it work again (as on OCI). And the ``satchel par`` CLI end to end."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from typing import Any

import requests

from tests.clients import mgmt
from tests.clients.par import assert_refused, create, rfc3339
from tests.clients.server import Credentials, SatchelProcess, eventually, venv_tool

PROPAGATION = 5.0


def _grant(server: SatchelProcess, user: str, bucket: str, permission: str, *extra: str) -> str:
    made = server.admin("grant", "add", user, bucket, "--permission", permission, *extra, "--json")
    return str(json.loads(made)["id"])


def test_creation_needs_the_share_right_and_the_granted_rights(
        managed_server: SatchelProcess, s3: Any, bucket: str, member: Callable[[], Credentials]) -> None:
    s3.put_object(Bucket=bucket, Key="team/a.txt", Body=b"a")
    reader, sharer = member(), member()
    _grant(managed_server, reader.user, bucket, "read")  # may read, may not share
    _grant(managed_server, sharer.user, bucket, "read", "--prefix", "team/", "--share")

    def attempt(creds: Credentials, **fields: Any) -> Any:
        body = {"bucket": bucket, "name": "n", "timeExpires": rfc3339(600), **fields}
        return mgmt.call(managed_server, creds, "POST", "/pars", body)

    refused = attempt(reader, accessType="ObjectRead", objectName="team/a.txt")
    assert refused.status_code == 403 and "may not share" in refused.json()["error"]["message"]
    assert attempt(sharer, accessType="ObjectRead", objectName="team/a.txt").status_code == 200
    assert attempt(sharer, accessType="AnyObjectRead", objectName="team/").status_code == 200
    for fields in ({"accessType": "ObjectWrite", "objectName": "team/a.txt"},  # read grant: no write
                   {"accessType": "AnyObjectRead"},  # the whole bucket: wider than the grant's prefix
                   {"accessType": "AnyObjectRead", "objectName": "t"},  # a prefix reaching outside team/
                   {"accessType": "ObjectRead", "objectName": "other.txt"}):
        assert attempt(sharer, **fields).status_code == 403, fields
    # a member sees and deletes its own PARs, not the owner's
    mine = mgmt.ok(mgmt.call(managed_server, sharer, "GET", "/pars"))["pars"]
    assert len(mine) == 2 and {p["creator"] for p in mine} == {sharer.user}
    owners = create(managed_server, bucket=bucket, accessType="ObjectRead", objectName="team/a.txt")
    assert mgmt.call(managed_server, sharer, "GET", f"/pars/{bucket}/{owners['id']}").status_code == 404
    assert mgmt.call(managed_server, sharer, "DELETE", f"/pars/{bucket}/{owners['id']}").status_code == 404
    # the bucket's owner oversees every PAR of its bucket
    every = mgmt.ok(mgmt.call(managed_server, None, "GET", f"/pars?bucket={bucket}"))["pars"]
    assert len(every) == 3


def test_creator_losing_rights_stops_the_par(
        managed_server: SatchelProcess, s3: Any, bucket: str, member: Callable[[], Credentials]) -> None:
    s3.put_object(Bucket=bucket, Key="team/a.txt", Body=b"team data")
    sharer = member()
    grant_id = _grant(managed_server, sharer.user, bucket, "read", "--prefix", "team/", "--share")
    par = create(managed_server, sharer, bucket=bucket, accessType="ObjectRead", objectName="team/a.txt")
    assert requests.get(par["fullPath"], timeout=30).content == b"team data"
    managed_server.admin("grant", "remove", grant_id)
    assert eventually(lambda: requests.get(par["fullPath"], timeout=30).status_code == 404, timeout=PROPAGATION)
    assert_refused(requests.get(par["fullPath"], timeout=30))
    # the share right alone gone: still refused, with that reason in the audit trail
    _grant(managed_server, sharer.user, bucket, "read", "--prefix", "team/")
    assert eventually(lambda: _use_reason(managed_server, par).startswith(
        "NotAuthorizedOrNotFound: The creator may no longer share"), timeout=PROPAGATION)
    # rights back: it works again (OCI's rule: the PAR was never deleted)
    _grant(managed_server, sharer.user, bucket, "read", "--prefix", "team/", "--share")
    assert eventually(lambda: requests.get(par["fullPath"], timeout=30).status_code == 200, timeout=PROPAGATION)
    managed_server.admin("user", "disable", sharer.user)
    assert eventually(lambda: requests.get(par["fullPath"], timeout=30).status_code == 404, timeout=PROPAGATION)
    managed_server.admin("user", "enable", sharer.user)
    assert eventually(lambda: requests.get(par["fullPath"], timeout=30).status_code == 200, timeout=PROPAGATION)
    managed_server.admin("user", "delete", sharer.user)
    assert eventually(lambda: requests.get(par["fullPath"], timeout=30).status_code == 404, timeout=PROPAGATION)
    assert "no longer exists" in _last_reason(managed_server, par["id"])


def _use_reason(server: SatchelProcess, par: dict[str, Any]) -> str:
    """Use the PAR once; the reason its audit event gives."""
    requests.get(par["fullPath"], timeout=30)
    return _last_reason(server, par["id"])


def _last_reason(server: SatchelProcess, par_id: str) -> str:
    found = mgmt.ok(mgmt.call(server, None, "GET", f"/audit?link_id={par_id}&action=use"))["events"]
    return str(found[-1]["reason"] or "") if found else ""


def _cli(server: SatchelProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SATCHEL_"))}
    env.update(SATCHEL_ENDPOINT=server.endpoint, AWS_ACCESS_KEY_ID=server.access_key,
               AWS_SECRET_ACCESS_KEY=server.secret_key, AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    return subprocess.run([venv_tool("satchel"), "par", *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_cli_create_list_show_delete(managed_server: SatchelProcess, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="docs/report.pdf", Body=b"%PDF-1.4")
    made = _cli(managed_server, "create", bucket, "--object", "docs/report.pdf", "--access", "ObjectRead",
                "--expires", "30d", "--max-uses", "3", "--download", "--filename", "Q1.pdf", "--name", "for-bob")
    assert made.returncode == 0, made.stderr
    access_url = made.stdout.strip()
    assert access_url.startswith(managed_server.endpoint + "/p/") and "shown this once" in made.stderr
    reply = requests.get(access_url, timeout=30)
    assert reply.content == b"%PDF-1.4" and 'filename="Q1.pdf"' in reply.headers["Content-Disposition"]
    listed = _cli(managed_server, "list", bucket, "--json")
    (entry,) = json.loads(listed.stdout)["pars"]
    token = access_url.split("/")[4]
    assert token not in listed.stdout and entry["name"] == "for-bob" and entry["uses"] == 1
    table = _cli(managed_server, "list", bucket)
    assert entry["id"] in table.stdout and "1/3" in table.stdout
    shown = _cli(managed_server, "show", bucket, entry["id"])
    assert shown.returncode == 0 and "for-bob" in shown.stdout and token not in shown.stdout
    deleted = _cli(managed_server, "delete", bucket, entry["id"], "--json")
    assert json.loads(deleted.stdout)["state"] == "deleted"
    assert_refused(requests.get(access_url, timeout=30))
    prefix = _cli(managed_server, "create", bucket, "--prefix", "docs/", "--access", "AnyObjectRead", "--listing",
                  "--expires", "2031-01-01T00:00:00Z", "--json")
    answer = json.loads(prefix.stdout)
    assert answer["bucketListingAction"] == "ListObjects" and answer["timeExpires"] == "2031-01-01T00:00:00.000Z"
    assert requests.get(answer["fullPath"], timeout=30).json() == {"objects": [{"name": "docs/report.pdf"}]}
    for bad in (["create", bucket, "--access", "ObjectRead", "--expires", "1h"],  # no --object
                ["create", bucket, "--object", "k", "--access", "AnyObjectRead", "--expires", "1h"],
                ["create", bucket, "--object", "k", "--access", "ObjectRead", "--expires", "soon"],
                ["create", bucket, "--object", "k", "--access", "ObjectRead", "--expires", "1h", "--listing"]):
        assert _cli(managed_server, *bad).returncode == 2, bad
    assert json.loads(_cli(managed_server, "policy", bucket, "--json").stdout)["inlineActiveTypes"] is False
    changed = _cli(managed_server, "policy", bucket, "--inline-active", "on")
    assert changed.returncode == 0 and "inlineActiveTypes  yes" in changed.stdout
    missing = _cli(managed_server, "show", bucket, "0123")
    assert missing.returncode != 0 and "NotFound" in missing.stderr
