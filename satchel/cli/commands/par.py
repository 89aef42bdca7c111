"""``satchel par``: pre-authenticated requests (OCI's PARs): URLs anyone can use with curl, wget or a
browser, with no credentials and no signing, until they expire or are deleted.

    satchel par create BUCKET [--object KEY | --prefix P] --access TYPE --expires 7d|RFC3339 [--name N]
                       [--listing] [--max-uses N] [--download [--filename F] | --view] [--ip-range CIDR]
    satchel par list [BUCKET] [--prefix P] [--active] [--limit N]
    satchel par show BUCKET PAR_ID
    satchel par delete BUCKET PAR_ID
    satchel par policy BUCKET [--inline-active on|off]

TYPE is one of ObjectRead, ObjectWrite, ObjectReadWrite (one object: --object), AnyObjectRead,
AnyObjectWrite, AnyObjectReadWrite (the whole bucket, or every object under --prefix). ``create`` prints
the access URL once: Satchel stores only a hash of its token, so no later command can show it again.
The same endpoint and credential sources as ``satchel presign`` (``--endpoint-url`` / SATCHEL_ENDPOINT,
the aws cli's credential chain, ``--profile``).
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Mapping
from typing import Any

import click

from satchel.cli.apiclient import api_options, api_state, connection_options, path_segment
from satchel.cli.commands.presign import parse_duration
from satchel.cli.output import Row, emit_object, emit_rows, notice
from satchel.cli.printable import printable

ACCESS_TYPES = ("ObjectRead", "ObjectWrite", "ObjectReadWrite", "AnyObjectRead", "AnyObjectWrite",
                "AnyObjectReadWrite")
PAR_COLUMNS = (("id", "Id"), ("bucketName", "Bucket"), ("name", "Name"), ("accessType", "Access"),
               ("objectName", "Object/prefix"), ("timeExpires", "Expires"), ("uses", "Uses/max"),
               ("timeLastUsed", "Last use"), ("creator", "Creator"), ("state", "State"))


def expiry(text: str, now: float | None = None) -> str:
    """``--expires``: a duration from now (15m, 24h, 7d, seconds) or an RFC 3339 date-time with a zone."""
    try:
        seconds = parse_duration(text)
    except ValueError:
        seconds = None
    if seconds is not None:
        moment = datetime.datetime.fromtimestamp((time.time() if now is None else now) + seconds, datetime.UTC)
        return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
    try:
        parsed = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise click.BadParameter(f"{text!r} is neither a duration (15m, 24h, 7d) nor an RFC 3339 date-time with a "
                                 "time zone (2030-01-31T12:00:00Z)", param_hint="'--expires'")
    return text.strip()


def par_request(bucket: str, *, object_name: str | None, prefix: str | None, access: str, expires: str,
                name: str | None, listing: bool, max_uses: int | None, download: bool, view: bool,
                filename: str | None, ip_range: str | None) -> dict[str, Any]:
    """The ``POST /_satchel/api/pars`` body; usage errors for options that do not go together."""
    any_object = access.startswith("AnyObject")
    if object_name is not None and prefix is not None:
        raise click.UsageError("--object and --prefix exclude each other")
    if not any_object and object_name is None:
        raise click.UsageError(f"{access} needs --object KEY")
    if any_object and object_name is not None:
        raise click.UsageError(f"{access} reaches many objects: give --prefix (or nothing for the whole bucket)")
    if listing and not (any_object and "Read" in access):
        raise click.UsageError("--listing goes with AnyObjectRead or AnyObjectReadWrite")
    if download and view:
        raise click.UsageError("--download and --view exclude each other")
    if filename is not None and not download:
        raise click.UsageError("--filename goes with --download")
    body: dict[str, Any] = {
        "bucket": bucket, "name": name or f"{access.lower()}-{int(time.time())}", "accessType": access,
        "timeExpires": expires, "bucketListingAction": "ListObjects" if listing else "Deny",
    }
    optional = {"objectName": object_name if object_name is not None else prefix, "maxUses": max_uses,
                "mode": "download" if download else "view" if view else None, "filename": filename,
                "allowedIpRange": ip_range}
    body.update({key: value for key, value in optional.items() if value is not None})
    return body


def par_row(par: Mapping[str, Any]) -> Row:
    limit = par.get("maxUses")
    return {**par, "uses": f"{par.get('uses', 0)}/{'-' if limit is None else limit}"}


@click.group("par")
@connection_options
def par() -> None:
    """Create, list, show and delete pre-authenticated requests (access URLs that need no credentials)."""


@par.command("create")
@click.argument("bucket")
@click.option("--object", "object_name", default=None, metavar="KEY", help="The one object (Object* types).")
@click.option("--prefix", default=None, help="AnyObject* types: only objects whose name starts with this.")
@click.option("--access", type=click.Choice(ACCESS_TYPES), required=True, help="What the URL allows.")
@click.option("--expires", required=True, metavar="WHEN",
              help="A duration from now (15m, 24h, 7d) or an RFC 3339 date-time (2030-01-31T12:00:00Z).")
@click.option("--name", default=None, help="A name for it [default: the access type and the time].")
@click.option("--listing", is_flag=True, help="Allow listing (GET …/o/): AnyObjectRead(Write) only.")
@click.option("--max-uses", type=click.IntRange(min=1), default=None, help="Refuse the URL after N uses.")
@click.option("--download", is_flag=True, help="Make browsers save objects (Content-Disposition: attachment).")
@click.option("--filename", default=None, help="With --download: the name the file is saved as.")
@click.option("--view", is_flag=True, help="Make browsers show objects (inline; HTML, SVG, XML are saved anyway).")
@click.option("--ip-range", default=None, metavar="CIDR", help="Only clients in this range (203.0.113.0/24).")
@api_options
def par_create(bucket: str, object_name: str | None, prefix: str | None, access: str, expires: str,
               name: str | None, listing: bool, max_uses: int | None, download: bool, filename: str | None,
               view: bool, ip_range: str | None) -> None:
    """Create a pre-authenticated request on BUCKET and print its URL (shown this once only)."""
    body = par_request(bucket, object_name=object_name, prefix=prefix, access=access, expires=expiry(expires),
                       name=name, listing=listing, max_uses=max_uses, download=download, view=view,
                       filename=filename, ip_range=ip_range)
    options = api_state()
    answer = options.client().post("/pars", body)
    if options.json:
        click.echo(json.dumps(answer, indent=2))
        return
    if not isinstance(answer, dict) or not isinstance(answer.get("fullPath"), str):
        raise click.ClickException("InvalidResponse: the answer has no access URL")
    click.echo(printable(answer["fullPath"]))
    notice(f"Pre-authenticated request {answer.get('id')} created; its URL is shown this once only.")


@par.command("list")
@click.argument("bucket", required=False)
@click.option("--prefix", default=None, help="Only those whose object name or prefix starts with this.")
@click.option("--active", is_flag=True, help="Only those that still work (not expired, deleted or used up).")
@click.option("--limit", type=click.IntRange(min=1, max=1000), default=None, help="At most N [server default].")
@api_options
def par_list(bucket: str | None, prefix: str | None, active: bool, limit: int | None) -> None:
    """List the pre-authenticated requests you may manage, newest first (never their URLs)."""
    options = api_state()
    answer = options.client().get("/pars", {"bucket": bucket, "prefix": prefix, "active": True if active else None,
                                            "limit": limit})
    if options.json:
        click.echo(json.dumps(answer, indent=2))
        return
    rows = [par_row(p) for p in (answer.get("pars", []) if isinstance(answer, dict) else [])]
    emit_rows(False, rows, PAR_COLUMNS, "Pre-authenticated requests")


def _one(method: str, bucket: str, par_id: str) -> tuple[Any, bool]:
    options = api_state()
    path = f"/pars/{path_segment(bucket)}/{path_segment(par_id)}"
    client = options.client()
    return (client.get(path) if method == "GET" else client.delete(path)), options.json


def _emit(as_json: bool, answer: Any, message: str) -> None:
    if as_json:
        click.echo(json.dumps(answer, indent=2))
    else:
        emit_object(False, par_row(answer if isinstance(answer, dict) else {}), message)


@par.command("show")
@click.argument("bucket")
@click.argument("par_id")
@api_options
def par_show(bucket: str, par_id: str) -> None:
    """Show one pre-authenticated request: scope, access, expiry, uses, creator, state (never its URL)."""
    answer, as_json = _one("GET", bucket, par_id)
    _emit(as_json, answer, f"Pre-authenticated request {par_id}:")


@par.command("delete")
@click.argument("bucket")
@click.argument("par_id")
@api_options
def par_delete(bucket: str, par_id: str) -> None:
    """Delete a pre-authenticated request: its URL stops working at once."""
    answer, as_json = _one("DELETE", bucket, par_id)
    _emit(as_json, answer, f"Pre-authenticated request {par_id} is deleted.")


@par.command("policy")
@click.argument("bucket")
@click.option("--inline-active", type=click.Choice(["on", "off"]), default=None,
              help="on: PARs show HTML, SVG and XML inline (only if you trust every writer of the bucket); "
                   "off: they are attachments [the default].")
@api_options
def par_policy(bucket: str, inline_active: str | None) -> None:
    """Show or change BUCKET's PAR policy."""
    options = api_state()
    path = f"/buckets/{path_segment(bucket)}/par-policy"
    client = options.client()
    if inline_active is None:
        answer = client.get(path)
    else:
        answer = client.call("PUT", path, body={"inlineActiveTypes": inline_active == "on"})
    if options.json:
        click.echo(json.dumps(answer, indent=2))
    else:
        emit_object(False, answer if isinstance(answer, dict) else {}, f"PAR policy of {bucket}:")
