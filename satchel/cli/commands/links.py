"""``satchel links``: the registry of links Satchel minted, and revocation of any link by issue time.

    satchel links list [--bucket B] [--prefix P] [--active] [--limit N]
    satchel links show LINK_ID
    satchel links revoke LINK_ID
    satchel links revoke [--before now|ISO-8601|EPOCH] (--object s3://b/k | --prefix s3://b/p |
                                                        --bucket B | --access-key AKID | --user NAME)
    satchel links revocations

``revoke LINK_ID`` kills one minted link at once (again: nothing changes, nothing more is logged).
``revoke --before T`` refuses, from now on, every link *issued before T* [default: now] in the scope:
minted ones and those signed offline by SDKs (SigV4 query and presigned POST carry their issue time);
links issued afterwards work. A SigV4 URL or POST policy is dated by its signer, possibly ahead:
``--before T`` also covers those dated up to 15 minutes (the allowed clock skew) after T. SigV2 URLs
carry no issue time: the moment Satchel first saw one stands in for it, so one handed out before T but
first used after T is not reached: revoke those by disabling or deleting the access key that signed
them (``satchel admin key disable``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import click

from satchel.cli.apiclient import ApiOptions, api_options, api_state, connection_options, path_segment
from satchel.cli.commands.audit import parse_moment
from satchel.cli.commands.presign import parse_s3_url
from satchel.cli.output import Row, emit_object, emit_rows, timestamp

LINK_COLUMNS = (("id", "Id"), ("key", "Key"), ("version_id", "Version"), ("method", "Method"), ("kind", "Kind"),
                ("expires", "Expires"), ("uses", "Uses/max"), ("state", "State"))
REVOCATION_COLUMNS = (("id", "Id"), ("scope", "Scope"), ("bucket", "Bucket"), ("target", "Target"),
                      ("before", "Before"), ("created", "Created"), ("created_by", "By"))
_TIMES = ("created", "expires", "last_used", "revoked", "before")


def _times(row: Mapping[str, Any]) -> Row:
    return {name: timestamp(value) if name in _TIMES and value is not None else value for name, value in row.items()}


def link_row(link: Mapping[str, Any]) -> Row:
    limit = link.get("max_uses")
    return {**_times(link), "uses": f"{link.get('uses', 0)}/{'-' if limit is None else limit}"}


def _emit(options: ApiOptions, answer: Any, row: Row, message: str) -> None:
    if options.json:
        click.echo(json.dumps(answer, indent=2))
    else:
        emit_object(False, row, message)


@click.group("links")
@connection_options
def links() -> None:
    """List, inspect and revoke the links Satchel minted; revoke any link by issue time."""


@links.command("list")
@click.option("--bucket", default=None, help="Only links to this bucket.")
@click.option("--prefix", default=None, help="Only links to keys starting with this prefix.")
@click.option("--active", is_flag=True, help="Only links that still work (not expired, revoked or used up).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N links [server default].")
@api_options
def links_list(bucket: str | None, prefix: str | None, active: bool, limit: int | None) -> None:
    """List minted links you may manage, newest first."""
    options = api_state()
    query = {"bucket": bucket, "prefix": prefix, "active": True if active else None, "limit": limit}
    answer = options.client().get("/links", query)
    if options.json:
        click.echo(json.dumps(answer, indent=2))
        return
    rows = [link_row(link) for link in (answer.get("links", []) if isinstance(answer, dict) else [])]
    emit_rows(False, rows, LINK_COLUMNS, "Links")


@links.command("show")
@click.argument("link_id")
@api_options
def links_show(link_id: str) -> None:
    """Show one minted link: signer, object, lifetime, uses, state."""
    options = api_state()
    answer = options.client().get(f"/links/{path_segment(link_id)}")
    _emit(options, answer, link_row(answer), f"Link {link_id}:")


_SCOPES = ("object", "prefix", "bucket", "access_key", "user")


def revocation_request(scopes: Mapping[str, str | None], before: float | None) -> dict[str, Any]:
    """The ``POST /_satchel/api/revocations`` body for exactly one given scope option."""
    given = [(name, value) for name, value in scopes.items() if value is not None]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --object, --prefix, --bucket, --access-key, --user "
                               "(or a LINK_ID alone)")
    name, value = given[0]
    assert value is not None
    body: dict[str, Any] = {"scope": name.replace("_", "-"), "target": value}
    if name in ("object", "prefix"):
        try:
            url = parse_s3_url(value)
        except ValueError as exc:
            raise click.UsageError(f"--{name}: {exc}") from exc
        if name == "object" and not url.key:
            raise click.UsageError(f"--object {value} names no object")
        body.update(bucket=url.bucket, target=url.key)
    elif name == "bucket" and value.startswith("s3://"):
        try:
            body["target"] = parse_s3_url(value).bucket
        except ValueError as exc:
            raise click.UsageError(f"--bucket: {exc}") from exc
    if before is not None:
        body["before"] = before
    return body


def _before(text: str | None) -> float | None:
    """None for "now": the server's clock decides, so a skewed client clock cannot spare fresh links."""
    if text is None or text.strip().lower() == "now":
        return None
    try:
        return parse_moment(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--before'") from exc


@links.command("revoke")
@click.argument("link_id", required=False)
@click.option("--before", default=None, metavar="TIME",
              help="Refuse links issued before TIME: now, ISO-8601 or epoch seconds [default: now].")
@click.option("--object", "object_url", default=None, metavar="S3_URL", help="Scope: one object (s3://b/k).")
@click.option("--prefix", "prefix_url", default=None, metavar="S3_URL", help="Scope: a key prefix (s3://b/p).")
@click.option("--bucket", default=None, help="Scope: a whole bucket.")
@click.option("--access-key", default=None, metavar="AKID", help="Scope: every link signed with this key.")
@click.option("--user", default=None, metavar="NAME", help="Scope: every link signed by this user.")
@api_options
def links_revoke(link_id: str | None, before: str | None, object_url: str | None, prefix_url: str | None,
                 bucket: str | None, access_key: str | None, user: str | None) -> None:
    """Revoke the minted link LINK_ID, or every link issued before a moment in one scope."""
    scopes = {"object": object_url, "prefix": prefix_url, "bucket": bucket, "access_key": access_key, "user": user}
    options = api_state()
    if link_id is not None:
        if before is not None or any(value is not None for value in scopes.values()):
            raise click.UsageError("LINK_ID revokes one link: it takes no --before or scope option")
        answer = options.client().delete(f"/links/{path_segment(link_id)}")
        # Revoking twice is harmless: the first revocation time stays, and only that one is audited.
        _emit(options, answer, link_row(answer), f"Link {link_id} is revoked (since {link_row(answer)['revoked']}).")
        return
    body = revocation_request(scopes, _before(before))
    answer = options.client().post("/revocations", body)
    row = _times(answer)
    _emit(options, answer, row, f"Links issued before {row.get('before')} in {body['scope']} "
                                f"{body['target'] or body.get('bucket')!r} are refused from now on.")


@links.command("revocations")
@api_options
def links_revocations() -> None:
    """List revocations by issue time that you made or administer."""
    options = api_state()
    answer = options.client().get("/revocations")
    if options.json:
        click.echo(json.dumps(answer, indent=2))
        return
    rows = [_times(r) for r in (answer.get("revocations", []) if isinstance(answer, dict) else [])]
    emit_rows(False, rows, REVOCATION_COLUMNS, "Revocations")
