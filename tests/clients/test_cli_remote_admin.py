"""``satchel admin --endpoint-url``: the admin commands over the management API, as real CLI processes
against a real ``satchel serve``.

Each remote command's effect is checked from outside (boto3 with the keys involved, or the offline CLI
on the same data dir), output of the offline and the remote command is compared on the same store,
a member gets the API's refusal (exit 1), and the commands that exist only on the data dir refuse an
endpoint (usage error, exit 2) instead of running locally.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from click.testing import CliRunner

from satchel.cli.main import cli
from tests.clients.boto import S3Factory, error_code
from tests.clients.server import Credentials, SatchelProcess, venv_tool


def _clean_env(**extra: str) -> dict[str, str]:
    """No AWS or Satchel setting of the caller's, so ~/.aws never leaks into a test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SATCHEL_"))}
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    env.update(extra)
    return env


class Remote:
    """``satchel admin --endpoint-url E ...`` as one user (its key in the environment, as the aws cli reads it)."""

    def __init__(self, endpoint: str, creds: Credentials) -> None:
        self.endpoint, self.creds = endpoint, creds

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = _clean_env(AWS_ACCESS_KEY_ID=self.creds.access_key, AWS_SECRET_ACCESS_KEY=self.creds.secret_key)
        result = subprocess.run([venv_tool("satchel"), "admin", "--endpoint-url", self.endpoint, *args],
                                env=env, input=stdin, capture_output=True, text=True, timeout=60, check=False)
        assert self.creds.secret_key not in result.stdout + result.stderr  # the caller's secret is never echoed
        return result

    def ok(self, *args: str, stdin: str | None = None) -> str:
        result = self.run(*args, stdin=stdin)
        assert result.returncode == 0, f"{args} exited {result.returncode}: {result.stdout}{result.stderr}"
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))


@pytest.fixture
def root(managed_server: SatchelProcess) -> Remote:
    return Remote(managed_server.endpoint, managed_server.root)


def offline(server: SatchelProcess, *args: str, json_output: bool = True) -> Any:
    """The offline command on the server's data dir, in-process (the subprocess path is the remote one's)."""
    result = CliRunner().invoke(cli, ["admin", *args, *(["--json"] if json_output else []),
                                      "--data-dir", str(server.data_dir)], env={"SATCHEL_ADMIN_ENDPOINT": None},
                                prog_name="satchel")
    assert result.exit_code == 0, result.output
    return json.loads(result.output) if json_output else result.output


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


# --- accounts ------------------------------------------------------------------------------------------
def test_accounts(managed_server: SatchelProcess, root: Remote, member: Callable[[], Credentials]) -> None:
    name = _name("acct")
    created = root.json("account", "create", name)
    assert created["name"] == name
    assert [a for a in offline(managed_server, "account", "list") if a["name"] == name] == [created]
    assert root.json("account", "list") == offline(managed_server, "account", "list")
    duplicate = root.run("account", "create", name)
    assert duplicate.returncode == 1 and duplicate.stderr.startswith("Error: ")
    refused = Remote(managed_server.endpoint, member()).run("account", "create", _name("acct"))
    assert refused.returncode == 1 and refused.stderr.startswith("Error: AccessDenied: ")

    # The API creates a user in the caller's account: naming another one is refused, not quietly ignored.
    elsewhere = root.run("user", "create", _name("u"), "--account", name)
    assert elsewhere.returncode == 1
    assert elsewhere.stderr.startswith(f"Error: over the API a user is created in the caller's own account, "
                                       f"not in '{name}'")

    assert root.json("account", "delete", name) == {"id": created["id"], "name": name, "deleted": True}
    assert name not in {a["name"] for a in offline(managed_server, "account", "list")}
    busy = root.run("account", "delete", "root")
    assert busy.returncode == 1 and busy.stderr.startswith("Error: Conflict: ")
    result = CliRunner().invoke(cli, ["admin", "account", "delete", "root", "--data-dir", str(managed_server.data_dir)],
                                env={"SATCHEL_ADMIN_ENDPOINT": None})
    assert result.exit_code == 1 and "cannot be deleted" in result.output


# --- users and keys -----------------------------------------------------------------------------------
def test_user_and_key_lifecycle(managed_server: SatchelProcess, root: Remote, s3_factory: S3Factory) -> None:
    name = _name("ra")
    created = json.loads(root.ok("user", "create", name, "--account", "root", "--role", "member",
                                 "--password-stdin", "--json", stdin="correct horse battery staple\n"))
    assert (created["name"], created["account"], created["role"], created["status"]) == (name, "root", "member",
                                                                                          "active")
    assert created["password"] is True
    assert [u for u in offline(managed_server, "user", "list") if u["name"] == name] == [created]

    # The secret is printed once, exactly as offline; the key works for S3 at once.
    table = root.ok("key", "create", name)
    assert table.startswith(f"Created an access key for {name}. The secret is shown only this once:\n")
    fields = dict(line.split(None, 1) for line in table.splitlines()[1:])
    key = Credentials(fields["access_key_id"].strip(), fields["secret_access_key"].strip(), name)
    s3 = s3_factory(key)
    s3.list_buckets()
    listed = root.ok("key", "list", name)
    assert key.access_key in listed and key.secret_key not in listed

    assert root.json("key", "disable", key.access_key)["status"] == "disabled"
    with pytest.raises(ClientError):
        s3.list_buckets()
    assert root.json("key", "enable", key.access_key)["status"] == "active"
    s3.list_buckets()

    assert root.json("user", "disable", name)["status"] == "disabled"
    assert [u["status"] for u in offline(managed_server, "user", "list") if u["name"] == name] == ["disabled"]
    with pytest.raises(ClientError):
        s3.list_buckets()
    assert "Enabled user" in root.ok("user", "enable", name)

    assert root.json("key", "delete", key.access_key) == {"access_key_id": key.access_key, "deleted": True}
    assert offline(managed_server, "key", "list", name) == []
    deleted = root.json("user", "delete", name)
    assert deleted == {"id": created["id"], "name": name, "deleted": True}
    assert name not in {u["name"] for u in offline(managed_server, "user", "list")}


def test_offline_and_remote_agree(managed_server: SatchelProcess, root: Remote, bucket: str,
                                  member: Callable[[], Credentials]) -> None:
    """The same store, listed both ways: the same rows (the remote view is the caller's account)."""
    user = member()
    managed_server.grant(user.user, bucket, "read", prefix="docs/", share=True)
    offline(managed_server, "bucket", "link-lifetime", bucket, "600")
    for args in (("user", "list", "--account", "root"), ("key", "list", user.user),
                 ("grant", "list", "--bucket", bucket)):
        assert root.json(*args) == offline(managed_server, *args), args
    remote_buckets = [b for b in root.json("bucket", "list") if b["name"] == bucket]
    assert remote_buckets == [b for b in offline(managed_server, "bucket", "list") if b["name"] == bucket]
    assert remote_buckets[0]["max_link_lifetime"] == 600
    unknown = root.run("user", "list", "--account", "no-such-account")
    assert unknown.returncode == 1 and unknown.stderr == "Error: no account named 'no-such-account'\n"
    # Tables too, not only JSON.
    remote = root.ok("user", "list", "--account", "root")
    assert remote == offline(managed_server, "user", "list", "--account", "root", json_output=False)


# --- grants and buckets -------------------------------------------------------------------------------
def test_grants(managed_server: SatchelProcess, root: Remote, bucket: str, s3: Any, s3_factory: S3Factory,
                member: Callable[[], Credentials]) -> None:
    user = member()
    s3.put_object(Bucket=bucket, Key="docs/a.txt", Body=b"hello")
    theirs = s3_factory(user)
    with pytest.raises(ClientError):
        theirs.get_object(Bucket=bucket, Key="docs/a.txt")

    out = root.ok("grant", "add", user.user, bucket, "--permission", "read", "--prefix", "docs/", "--share")
    assert out.startswith(f"Granted read on {bucket}/docs/* to {user.user} with the right to share it.\n")
    assert theirs.get_object(Bucket=bucket, Key="docs/a.txt")["Body"].read() == b"hello"
    [grant] = root.json("grant", "list", "--user", user.user)
    assert (grant["bucket"], grant["prefix"], grant["share"]) == (bucket, "docs/", True)

    assert root.json("grant", "remove", grant["id"]) == {"id": grant["id"], "removed": True}
    assert offline(managed_server, "grant", "list", "--user", user.user) == []
    with pytest.raises(ClientError) as refused:
        theirs.get_object(Bucket=bucket, Key="docs/a.txt")
    assert error_code(refused.value) == "AccessDenied"


def test_bucket_settings(managed_server: SatchelProcess, root: Remote, bucket: str, s3: Any) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"public")
    url = f"{managed_server.endpoint}/{bucket}/k"
    assert root.json("bucket", "public", "on", bucket)["public_read"] is True
    assert requests.get(url, timeout=10).content == b"public"
    assert "Public read of" in root.ok("bucket", "public", "off", bucket)
    assert requests.get(url, timeout=10).status_code == 403

    assert root.json("bucket", "link-lifetime", bucket, "120")["max_link_lifetime"] == 120
    assert root.json("bucket", "sharing", bucket, "any")["sharing"] == "any"
    [row] = [b for b in offline(managed_server, "bucket", "list") if b["name"] == bucket]
    assert (row["max_link_lifetime"], row["sharing"], row["public_read"]) == (120, "any", False)
    assert root.json("bucket", "link-lifetime", bucket, "off")["max_link_lifetime"] is None


def test_bucket_owner(managed_server: SatchelProcess, root: Remote, bucket: str,
                      member: Callable[[], Credentials]) -> None:
    user, other = member(), member()
    row = root.json("bucket", "owner", bucket, user.user)
    assert (row["owner"], row["contract_owned"]) == (user.user, False)
    [stored] = [b for b in offline(managed_server, "bucket", "list") if b["name"] == bucket]
    assert stored == row
    refused = Remote(managed_server.endpoint, user).run("bucket", "owner", bucket, other.user)
    assert refused.returncode == 1 and refused.stderr.startswith("Error: AccessDenied: ")
    assert root.ok("bucket", "owner", bucket, "--contract").startswith(
        f"Owner of {bucket}: its account (contract-owned).\n")
    [stored] = [b for b in offline(managed_server, "bucket", "list") if b["name"] == bucket]
    assert (stored["owner"], stored["contract_owned"]) == (None, True)
    both = root.run("bucket", "owner", bucket, user.user, "--contract")
    assert both.returncode == 2


def test_bucket_cors(managed_server: SatchelProcess, root: Remote, bucket: str, s3: Any, tmp_path: Path) -> None:
    rules = {"CORSRules": [{"ID": "app", "AllowedOrigins": ["https://app.example.com"],
                            "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["content-type"],
                            "ExposeHeaders": ["etag"], "MaxAgeSeconds": 600}]}
    path = tmp_path / "cors.json"
    path.write_text(json.dumps(rules))
    assert root.json("bucket", "cors", "set", bucket, str(path)) == rules
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == rules["CORSRules"]
    assert root.json("bucket", "cors", "show", bucket) == offline(managed_server, "bucket", "cors", "show", bucket)
    table = root.ok("bucket", "cors", "show", bucket)
    assert "https://app.example.com" in table and "GET, PUT" in table

    assert root.json("bucket", "cors", "delete", bucket) == {"bucket": bucket, "cors": False}
    with pytest.raises(ClientError) as gone:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_code(gone.value) == "NoSuchCORSConfiguration"
    missing = root.run("bucket", "cors", "show", bucket)
    assert missing.returncode == 1 and missing.stderr.startswith("Error: NoSuchCORSConfiguration: ")

    # Offline reads the same file the same way; a bad rule is refused with S3's words, nothing changes.
    offline(managed_server, "bucket", "cors", "set", bucket, str(path))
    assert root.json("bucket", "cors", "show", bucket) == rules
    path.write_text(json.dumps({"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]}))
    bad = root.run("bucket", "cors", "set", bucket, str(path))
    assert bad.returncode == 1 and "PATCH" in bad.stderr
    assert root.json("bucket", "cors", "show", bucket) == rules


# --- refusals and errors ------------------------------------------------------------------------------
def test_member_is_refused(managed_server: SatchelProcess, bucket: str, member: Callable[[], Credentials]) -> None:
    user, other = member(), member()
    remote = Remote(managed_server.endpoint, user)
    for args in (("user", "create", _name("x"), "--account", "root"), ("user", "disable", other.user),
                 ("key", "list", other.user), ("key", "disable", other.access_key),
                 ("bucket", "public", "on", bucket), ("grant", "add", user.user, bucket, "--permission", "read")):
        result = remote.run(*args)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert result.stdout == ""
        assert result.stderr.startswith("Error: AccessDenied: "), (args, result.stderr)
    # What it may see of itself, it sees.
    assert [u["name"] for u in remote.json("user", "list")] == [user.user]
    assert offline(managed_server, "key", "list", other.user)[0]["status"] == "active"


def test_api_errors_exit_1_with_the_message(managed_server: SatchelProcess, root: Remote,
                                            member: Callable[[], Credentials]) -> None:
    user = member()
    duplicate = root.run("user", "create", user.user, "--account", "root")
    assert duplicate.returncode == 1 and duplicate.stderr.startswith("Error: ") and user.user in duplicate.stderr
    unknown = root.run("grant", "remove", "no-such-grant")
    assert unknown.returncode == 1 and unknown.stderr.startswith("Error: ")
    result = Remote("http://127.0.0.1:9", managed_server.root).run("user", "list")
    assert result.returncode == 1 and "ConnectionError" in result.stderr


# --- choosing the backend -----------------------------------------------------------------------------
@pytest.mark.parametrize("args", [["init"], ["gc"], ["migrate"], ["backup", "somewhere"], ["verify"],
                                  ["restore", "."]])
@pytest.mark.parametrize("where", ["leaf", "group", "env"])
def test_node_only_commands_refuse_an_endpoint(tmp_path: Path, args: list[str], where: str) -> None:
    flag = ["--endpoint-url", "http://127.0.0.1:9"]
    argv = ["admin", *args, *flag] if where == "leaf" else ["admin", *flag, *args] if where == "group" else [
        "admin", *args]
    env = {"SATCHEL_ADMIN_ENDPOINT": "http://127.0.0.1:9"} if where == "env" else {}
    result = CliRunner().invoke(cli, [*argv, "--data-dir", str(tmp_path / "d")], env=env, prog_name="satchel")
    assert result.exit_code == 2, result.output
    assert f"`satchel admin {args[0]}` works on the node's data dir only" in result.output
    assert not (tmp_path / "d").exists()  # nothing ran locally


def test_data_dir_and_endpoint_exclude_each_other(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["admin", "user", "list", "--data-dir", str(tmp_path),
                                      "--endpoint-url", "http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "--data-dir and --config name a local node, --endpoint-url a remote one" in result.output


@pytest.mark.parametrize("args", [["user", "list"], ["gc"]])
def test_profile_without_endpoint_is_a_usage_error(tmp_path: Path, args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["admin", *args, "--profile", "ops", "--data-dir", str(tmp_path / "d")],
                                env={"SATCHEL_ADMIN_ENDPOINT": None})
    assert result.exit_code == 2, result.output
    assert "--profile and --region choose how to call a server: they need --endpoint-url" in result.output
    assert not (tmp_path / "d").exists()


def test_satchel_endpoint_does_not_make_admin_remote(managed_server: SatchelProcess, tmp_path: Path) -> None:
    """SATCHEL_ENDPOINT is for the user commands; the admin CLI stays on the data dir with it set."""
    result = CliRunner().invoke(cli, ["admin", "user", "list", "--json", "--data-dir", str(managed_server.data_dir)],
                                env={"SATCHEL_ENDPOINT": "http://127.0.0.1:9", "SATCHEL_ADMIN_ENDPOINT": None})
    assert result.exit_code == 0, result.output
    assert "root" in {u["name"] for u in json.loads(result.output)}


def test_admin_endpoint_variable_and_profile(managed_server: SatchelProcess, tmp_path: Path) -> None:
    """SATCHEL_ADMIN_ENDPOINT names the server; the key comes from a named profile, as for the aws cli."""
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[ops]\naws_access_key_id = {managed_server.access_key}\n"
                           f"aws_secret_access_key = {managed_server.secret_key}\n")
    env = _clean_env(SATCHEL_ADMIN_ENDPOINT=managed_server.endpoint, AWS_SHARED_CREDENTIALS_FILE=str(credentials))
    result = subprocess.run([venv_tool("satchel"), "admin", "--profile", "ops", "user", "list", "--json"], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "root" in {u["name"] for u in json.loads(result.stdout)}
    assert managed_server.secret_key not in result.stdout + result.stderr
