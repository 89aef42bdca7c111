"""``satchel admin public-access-block``: an account's Block Public Access flags (AWS sets them through
s3control, which Satchel does not serve; a bucket's own are S3's PutPublicAccessBlock). What they do:
``core/publicaccess.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from satchel.cli.backends import admin_options, open_backend
from satchel.cli.options import CliState
from satchel.cli.output import emit_object

F = TypeVar("F", bound=Callable[..., Any])
_FLAGS = (("block_public_acls", "Refuse requests that make anything public (public ACLs, bucket public)."),
          ("ignore_public_acls", "Ignore public ACLs and public buckets when deciding access."),
          ("block_public_policy", "Refuse public bucket policies."),
          ("restrict_public_buckets", "Restrict buckets with a public policy to the account."))


@click.group("public-access-block")
def public_access_block_group() -> None:
    """An account's Block Public Access flags, ORed with each of its buckets' own."""


@public_access_block_group.command("show")
@click.argument("account")
@admin_options
@click.pass_obj
def show(state: CliState, account: str) -> None:
    """Show ACCOUNT's flags."""
    with open_backend(state) as backend:
        emit_object(state.json, backend.public_access_block(account), f"Block Public Access of {account}.")


def _flag_options(command: F) -> F:
    for name, text in reversed(_FLAGS):
        command = click.option(f"--{name.replace('_', '-')}", name, is_flag=True, help=text)(command)
    return command


@public_access_block_group.command("set")
@click.argument("account")
@_flag_options
@admin_options
@click.pass_obj
def set_flags(state: CliState, account: str, block_public_acls: bool, ignore_public_acls: bool,
              block_public_policy: bool, restrict_public_buckets: bool) -> None:
    """Set ACCOUNT's flags: those given are on, the others off (as S3's PutPublicAccessBlock)."""
    flags = {"block_public_acls": block_public_acls, "ignore_public_acls": ignore_public_acls,
             "block_public_policy": block_public_policy, "restrict_public_buckets": restrict_public_buckets}
    with open_backend(state) as backend:
        emit_object(state.json, backend.set_public_access_block(account, flags),
                    f"Block Public Access of {account} set.")


@public_access_block_group.command("delete")
@click.argument("account")
@admin_options
@click.pass_obj
def delete(state: CliState, account: str) -> None:
    """Remove ACCOUNT's flags (its buckets' own stay)."""
    with open_backend(state) as backend:
        emit_object(state.json, backend.set_public_access_block(account, None),
                    f"Block Public Access of {account} removed.")
