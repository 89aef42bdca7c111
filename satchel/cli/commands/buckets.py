"""``satchel bucket``: buckets through a running server's management API, as any user with a key.

    satchel bucket create NAME              # owned by you
    satchel bucket create NAME --contract   # owned by your account (contract): account admins only

A contract-owned bucket outlives the user who made it and every admin of the account controls it. S3
tools reach the same with the ``x-satchel-bucket-owner: account`` header on CreateBucket, which the aws
cli cannot send; this command calls ``POST /_satchel/api/buckets``, SigV4-signed like ``satchel links``.
"""

from __future__ import annotations

import json

import click

from satchel.cli.apiclient import api_options, api_state, connection_options
from satchel.cli.output import emit_object, timestamp


@click.group("bucket")
@connection_options
def bucket() -> None:
    """Create buckets through the management API (contract-owned ones too)."""


@bucket.command("create")
@click.argument("name")
@click.option("--contract", is_flag=True,
              help="Owned by your account (contract) instead of you; only account admins may.")
@api_options
def bucket_create(name: str, contract: bool) -> None:
    """Create the bucket NAME."""
    options = api_state()
    answer = options.client().post("/buckets", {"name": name, "owner": "account" if contract else "user"})
    if options.json:
        click.echo(json.dumps(answer, indent=2))
        return
    owner = "your account" if answer.get("owner") == "account" else "you"
    emit_object(False, {**answer, "created": timestamp(answer.get("created"))},
                f"Created bucket {answer.get('name')}, owned by {owner}.")
