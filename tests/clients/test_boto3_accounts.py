"""Contract-owned buckets and account administrators through boto3, and clock skew on header auth."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.clients.boto import error_code, unique_bucket
from tests.clients.server import Credentials, SatchelProcess
from tests.clients.test_presign_wire import botocore_clock

S3Factory = Callable[..., Any]


def contract_owned(client: Any) -> Any:
    """Ask CreateBucket for an account-owned bucket (Satchel's header; not an x-amz one, so unsigned)."""

    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-satchel-bucket-owner"] = "account"

    client.meta.events.register("before-sign.s3.CreateBucket", add_header)
    return client


def test_account_admins_act_on_every_bucket_of_their_account(
    managed_server: SatchelProcess, s3_factory: S3Factory, member: Callable[[], Credentials]
) -> None:
    admin_name = f"adm{dt.datetime.now().strftime('%H%M%S%f')}"
    admin = managed_server.create_user(admin_name, role="admin")
    alice, bob = member(), member()
    root_admin = contract_owned(s3_factory())
    shared = unique_bucket("contract")
    root_admin.create_bucket(Bucket=shared)
    owned_by_alice = unique_bucket("alice")
    s3_factory(alice).create_bucket(Bucket=owned_by_alice)

    second_admin = s3_factory(admin)
    for name in (shared, owned_by_alice):
        second_admin.put_object(Bucket=name, Key="from-admin", Body=b"admin")
        assert second_admin.get_object(Bucket=name, Key="from-admin")["Body"].read() == b"admin"
        assert name in [b["Name"] for b in second_admin.list_buckets()["Buckets"]]

    # A member has nothing on a contract-owned bucket, or on another member's, without a grant.
    bob_client = s3_factory(bob)
    for name in (shared, owned_by_alice):
        with pytest.raises(ClientError) as denied:
            bob_client.get_object(Bucket=name, Key="from-admin")
        assert error_code(denied.value) == "AccessDenied"
    # ... and may not create contract-owned buckets.
    with pytest.raises(ClientError) as refused:
        contract_owned(bob_client).create_bucket(Bucket=unique_bucket("nope"))
    assert error_code(refused.value) == "AccessDenied"

    # The owner of a user-owned bucket has full control; another admin deletes the contract bucket.
    s3_factory(alice).delete_object(Bucket=owned_by_alice, Key="from-admin")
    second_admin.delete_object(Bucket=shared, Key="from-admin")
    second_admin.delete_bucket(Bucket=shared)


@pytest.mark.parametrize("minutes", [-16, 16])
def test_header_auth_outside_fifteen_minutes_is_skewed(s3: Any, bucket: str, minutes: int) -> None:
    with botocore_clock(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)), pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket=bucket)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with botocore_clock(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)), pytest.raises(ClientError) as exc:
        s3.list_objects_v2(Bucket=bucket)
    assert error_code(exc.value) == "RequestTimeTooSkewed"


def test_header_auth_within_fifteen_minutes_is_fine(s3: Any, bucket: str) -> None:
    with botocore_clock(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)):
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
