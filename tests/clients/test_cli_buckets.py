"""``satchel bucket create [--contract]`` and ``POST /_satchel/api/buckets``: real CLI processes and signed API
calls against a real server. Who may make a contract-owned bucket is core's decision; these tests only
check that both tools reach it and report it."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from satchel.cli.apiclient import ApiClient, ApiError, Secret
from tests.clients.boto import empty_and_delete, unique_bucket
from tests.clients.server import Credentials, SatchelProcess, ServerHandle
from tests.clients.test_cli_links import _clean_env, _run

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def satchel(satchel_server: ServerHandle) -> Cli:
    def run(*args: str, creds: Credentials | None = None) -> subprocess.CompletedProcess[str]:
        who = creds or satchel_server.root
        return _run(list(args), _clean_env(SATCHEL_ENDPOINT=satchel_server.endpoint,
                                           AWS_ACCESS_KEY_ID=who.access_key, AWS_SECRET_ACCESS_KEY=who.secret_key))

    return run


@pytest.fixture
def names(s3: Any) -> Iterator[Callable[[], str]]:
    """Fresh bucket names; whatever the test created under them is removed afterwards."""
    made: list[str] = []

    def fresh() -> str:
        made.append(unique_bucket("cli"))
        return made[-1]

    yield fresh
    existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    for name in made:
        if name in existing:
            empty_and_delete(s3, name)


def admin_buckets(server: SatchelProcess) -> dict[str, dict[str, Any]]:
    return {b["name"]: b for b in json.loads(server.admin("bucket", "list", "--json"))}


def test_account_admin_creates_a_contract_owned_bucket(satchel: Cli, managed_server: SatchelProcess, s3: Any,
                                                       names: Callable[[], str]) -> None:
    name = names()
    proc = satchel("bucket", "create", name, "--contract", "--json")
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert (answer["name"], answer["owner"], answer["owner_user"]) == (name, "account", None)
    listed = admin_buckets(managed_server)[name]
    assert listed["contract_owned"] is True and listed["owner"] is None and listed["account"] == "root"
    s3.put_object(Bucket=name, Key="k", Body=b"usable through S3")

    human = satchel("bucket", "create", name, "--contract")
    assert human.returncode == 1 and "BucketAlreadyOwnedByYou" in human.stderr


def test_member_may_not_create_a_contract_owned_bucket(satchel: Cli, managed_server: SatchelProcess,
                                                       member: Callable[[], Credentials],
                                                       names: Callable[[], str]) -> None:
    bob = member()
    refused = satchel("bucket", "create", names(), "--contract", creds=bob)
    assert refused.returncode == 1 and refused.stderr.startswith("Error: AccessDenied"), refused.stderr
    name = names()
    own = satchel("bucket", "create", name, creds=bob)
    assert own.returncode == 0 and "owned by you" in own.stdout, own.stderr
    assert admin_buckets(managed_server)[name]["owner"] == bob.user


def test_api_refuses_bad_input_with_exact_errors(satchel_server: ServerHandle, satchel: Cli,
                                                 names: Callable[[], str]) -> None:
    root = satchel_server.root
    api = ApiClient(satchel_server.endpoint, satchel_server.region, Secret(root.access_key, root.secret_key))
    for body, code in (({"name": "Bad_Name"}, "InvalidBucketName"), ({"name": "_satchel"}, "InvalidBucketName"),
                       ({"name": names(), "owner": "me"}, "InvalidArgument"),
                       ({"name": names(), "owners": "account"}, "InvalidArgument"), ({}, "InvalidArgument")):
        with pytest.raises(ApiError) as caught:
            api.post("/buckets", body)
        assert (caught.value.code, caught.value.status) == (code, 400), body
    bad = satchel("bucket", "create", "Bad_Name")
    assert bad.returncode == 1 and "InvalidBucketName" in bad.stderr


def test_openapi_documents_bucket_creation(satchel_server: ServerHandle) -> None:
    with urllib.request.urlopen(satchel_server.endpoint + "/_satchel/api/openapi.json", timeout=5) as response:
        document = json.load(response)
    operation = document["paths"]["/_satchel/api/buckets"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/BucketRequest")
    request = document["components"]["schemas"]["BucketRequest"]
    assert request["properties"]["owner"]["enum"] == ["user", "account"]
