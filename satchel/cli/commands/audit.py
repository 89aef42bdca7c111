"""``satchel audit``: every link minted, used (allowed or refused, with the reason) and revoked.

Events come from ``GET /_satchel/api/audit`` in time order; members see the events of links they may
manage, account admins those of their account. ``--limit N`` keeps the *newest* N (as ``tail -n`` does;
older ones: ``--until`` the time of the oldest shown). Examples::

    $ satchel audit --bucket reports --since 24h                 # the last day on one bucket
    $ satchel audit --outcome refused --since 2025-01-01T00:00Z  # every refusal since new year
    $ satchel audit --link-id LNK... --json                      # one link's whole story, for a script

Times (``--since``, ``--until``) are ISO-8601 (a time without a zone is UTC), epoch seconds, or a
duration ago: ``90s``, ``15m``, ``1h``, ``7d``. The table prints times as ISO 8601 in UTC
(``2026-12-06T17:15:35Z``); ``--json`` prints the API's answer unchanged, times as epoch seconds (numbers
a script can compare and subtract without parsing).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
from collections.abc import Mapping
from typing import Any, TextIO

import click

from satchel.cli.apiclient import api_options, api_state
from satchel.cli.commands.presign import parse_duration
from satchel.cli.options import CliState, settings_options
from satchel.cli.output import Row, emit_rows, timestamp

#: Events read per query while exporting.
EXPORT_PAGE = 5000
EVENT_COLUMNS = (
    ("time", "Time"), ("action", "Action"), ("outcome", "Outcome"), ("kind", "Kind"), ("user", "User"),
    ("object", "Bucket/key"), ("method", "Method"), ("status", "Status"), ("bytes", "Bytes"),
    ("client_ip", "Client"), ("reason", "Reason"),
)


def parse_moment(text: str, now: float | None = None) -> float:
    """Epoch seconds from ISO-8601 (naive = UTC), epoch seconds, ``now``, or a duration ago (``1h``)."""
    value = text.strip()
    current = time.time() if now is None else now
    if value.lower() == "now":
        return current
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return current - parse_duration(value)
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not a time: use ISO-8601 (2025-01-31T12:00:00Z), epoch seconds, "
                         "now, or a duration ago such as 15m, 1h, 7d") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def moment_option(_ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """A click callback turning ``--since``/``--until`` into epoch seconds."""
    if value is None:
        return None
    try:
        return parse_moment(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from exc


def event_row(event: Mapping[str, Any]) -> Row:
    bucket, key = event.get("bucket"), event.get("key")
    target = f"{bucket}/{key}" if bucket and key else bucket
    if target and event.get("version_id"):  # versioning: the version the request or link named
        target += f"?versionId={event['version_id']}"
    return {**event, "time": timestamp(event.get("time")), "object": target}


@click.group("audit", invoke_without_command=True)
@click.option("--since", callback=moment_option, default=None, metavar="TIME", help="Events at or after this time.")
@click.option("--until", callback=moment_option, default=None, metavar="TIME", help="Events before this time.")
@click.option("--bucket", default=None, help="Only this bucket.")
@click.option("--prefix", default=None, help="Only keys starting with this prefix.")
@click.option("--user", default=None, help="Only links signed by this user.")
@click.option("--kind", default=None, help="Only this link kind (s3v4, s3v2, post, ...).")
@click.option("--outcome", type=click.Choice(["allowed", "refused"]), default=None, help="Only this outcome.")
@click.option("--action", type=click.Choice(["mint", "use", "revoke"]), default=None, help="Only this action.")
@click.option("--link-id", default=None, help="Only the events of this minted link.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="The newest N events [server default: 1000].")
@api_options
@click.pass_context
def audit(ctx: click.Context, since: float | None, until: float | None, bucket: str | None, prefix: str | None,
          user: str | None, kind: str | None, outcome: str | None, action: str | None, link_id: str | None,
          limit: int | None) -> None:
    """Show link events: mints, uses (allowed or refused, with the reason) and revocations.

    `satchel audit export` writes the node's whole trail (or a time range of it) as JSON lines."""
    if ctx.invoked_subcommand is not None:
        return
    options = api_state()
    query = {"since": since, "until": until, "bucket": bucket, "prefix": prefix, "user": user, "kind": kind,
             "outcome": outcome, "action": action, "link_id": link_id, "limit": limit}
    answer = options.client().get("/audit", query)
    if options.json:
        click.echo(json.dumps(answer, indent=2))
        return
    events = answer.get("events", []) if isinstance(answer, dict) else []
    emit_rows(False, [event_row(e) for e in events], EVENT_COLUMNS, "Events")


@audit.command("export")
@click.option("--since", callback=moment_option, default=None, metavar="TIME", help="Events at or after this time.")
@click.option("--until", callback=moment_option, default=None, metavar="TIME", help="Events before this time.")
@click.option("--format", "output_format", type=click.Choice(["jsonl"]), default="jsonl", show_default=True,
              help="One JSON object per line, the management API's event fields, oldest first.")
@click.option("--output", "-o", type=click.File("w"), default="-", help="File to write (default: stdout).")
@settings_options
@click.pass_obj
def export(state: CliState, since: float | None, until: float | None, output_format: str, output: TextIO) -> None:
    """Export every audit event of the node in --data-dir (all buckets and users: an operator's
    command, reading the store directly like `satchel admin`), e.g. before audit_retention_days prunes
    them: ``satchel audit export --since 30d --format jsonl -o audit.jsonl``."""
    from satchel.admin.schemas import event_json
    from satchel.cli.session import admin_store

    settings = state.settings()
    count = 0
    with admin_store(settings) as store:
        names = functools.lru_cache(maxsize=4096)(store.user_name)

        def user_name(user_id: str | None) -> str | None:
            return names(user_id) if user_id is not None else None

        after: tuple[float, str] | None = None
        while True:
            events = store.export_audit(since, until, after, EXPORT_PAGE)
            for event in events:
                output.write(json.dumps(event_json(event, user_name), separators=(",", ":")) + "\n")
            count += len(events)
            if len(events) < EXPORT_PAGE:
                break
            after = (events[-1].time, events[-1].id)
    click.echo(f"{count} events exported.", err=True)
