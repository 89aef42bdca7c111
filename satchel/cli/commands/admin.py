"""``satchel admin``: node administration (accounts, users, keys, grants, buckets, garbage collection,
schema, backups) on the data directory, whether or not a server is running on it; or, with
``--endpoint-url``, the commands the management API has, on a running server (see
:mod:`satchel.cli.backends`)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from satchel.cli.backends import admin_options, node_only, open_backend, remote_options
from satchel.cli.commands.grants import grant_group
from satchel.cli.commands.keys import key_group
from satchel.cli.commands.publicaccess import public_access_block_group
from satchel.cli.commands.users import user_group
from satchel.cli.options import CliState, settings_options
from satchel.cli.output import emit_object, emit_rows
from satchel.cli.printable import printable
from satchel.cli.session import admin_store, describe
from satchel.core import identity
from satchel.core.models import Sharing

if TYPE_CHECKING:
    from satchel.backup import BackupReport
    from satchel.blobs.s3upstream import Upstream
    from satchel.config import Settings

ACCOUNT_COLUMNS = (("name", "Name"), ("id", "Id"), ("created", "Created"))
CORS_COLUMNS = (("ID", "Id"), ("AllowedOrigins", "Origins"), ("AllowedMethods", "Methods"),
                ("AllowedHeaders", "Headers"), ("ExposeHeaders", "Expose"), ("MaxAgeSeconds", "Max age"))
#: A CORS configuration holds at most 100 rules: a file larger than this is not one.
MAX_CORS_FILE = 1024 * 1024
BUCKET_COLUMNS = (("name", "Name"), ("account", "Account"), ("owner", "Owner"), ("public_read", "Public"),
                  ("sharing", "Sharing"), ("created", "Created"))


@click.group("admin")
@settings_options
@remote_options
def admin() -> None:
    """Manage this node's accounts, users, keys, grants and buckets.

    Every command accepts --json for machine-readable output and exits with status 1 and a message on
    stderr when something is wrong (unknown name, duplicate, ...).

    By default the commands work on the data dir (--data-dir). With --endpoint-url URL (or
    SATCHEL_ADMIN_ENDPOINT) the account, user, key, grant and bucket commands run on that server through
    its management API instead, signed with the caller's access key (found as the aws cli finds it,
    --profile and --region as for `satchel links`): the server decides what the caller may see and change.
    init, gc, migrate, migrate-to, backup, verify and restore exist only on the data dir and refuse an
    endpoint.
    """


@admin.command("init")
@admin_options
@click.pass_obj
@node_only
def init(state: CliState) -> None:
    """Create a node in the data dir before its first start (as `satchel serve` would on its first start).

    The root account, user and key are created and generated credentials printed once, on stderr. Every
    other admin command refuses a data dir that holds no node, so a wrong directory never yields a fresh
    store the running server does not see.
    """
    settings = state.settings()
    with admin_store(settings, create=True) as store:
        emit_object(state.json, {"data_dir": str(settings.data_dir.resolve()),
                                 "accounts": len(identity.list_accounts(store))},
                    f"Satchel node in {settings.data_dir.resolve()}.")


# --- accounts -----------------------------------------------------------------------------------------
@admin.group("account")
def account_group() -> None:
    """Accounts ("contracts"): own users and contract-owned buckets."""


@account_group.command("create")
@click.argument("name")
@admin_options
@click.pass_obj
def account_create(state: CliState, name: str) -> None:
    """Create the account NAME."""
    with open_backend(state) as backend:
        row = backend.create_account(name)
        emit_object(state.json, row, f"Created account {row['name']}.")


@account_group.command("delete")
@click.argument("name")
@admin_options
@click.pass_obj
def account_delete(state: CliState, name: str) -> None:
    """Delete the account NAME (refused while it has users or buckets, and for root)."""
    with open_backend(state) as backend:
        emit_object(state.json, backend.delete_account(name), f"Deleted account {name}.")


@account_group.command("list")
@admin_options
@click.pass_obj
def account_list(state: CliState) -> None:
    """List accounts."""
    with open_backend(state) as backend:
        emit_rows(state.json, backend.accounts(), ACCOUNT_COLUMNS, "Accounts")


# --- buckets ------------------------------------------------------------------------------------------
@admin.group("bucket")
def bucket_group() -> None:
    """Bucket settings: public read, link policy (lifetime ceiling, sharing), owner and CORS rules."""


@bucket_group.command("list")
@click.option("--account", "account_name", default=None, help="Only the buckets of this account.")
@admin_options
@click.pass_obj
def bucket_list(state: CliState, account_name: str | None) -> None:
    """List buckets with their owner and public flag (over the API: those the caller may see)."""
    with open_backend(state) as backend:
        emit_rows(state.json, backend.buckets(account_name), BUCKET_COLUMNS, "Buckets")


@bucket_group.command("public")
@click.argument("switch", type=click.Choice(["on", "off"]))
@click.argument("bucket")
@admin_options
@click.pass_obj
def bucket_public(state: CliState, switch: str, bucket: str) -> None:
    """Turn public-read of BUCKET on or off (on: anyone may list it and download its objects)."""
    with open_backend(state) as backend:
        emit_object(state.json, backend.set_public(bucket, switch == "on"), f"Public read of {bucket} is {switch}.")


@bucket_group.command("link-lifetime")
@click.argument("bucket")
@click.argument("seconds")
@admin_options
@click.pass_obj
def bucket_link_lifetime(state: CliState, bucket: str, seconds: str) -> None:
    """Cap the lifetime of links to BUCKET at SECONDS (or "off"), enforced when links are used."""
    if seconds != "off" and not seconds.isdigit():
        raise click.BadParameter("SECONDS must be a whole number of seconds or 'off'", param_hint="SECONDS")
    with open_backend(state) as backend:
        emit_object(state.json, backend.set_link_lifetime(bucket, None if seconds == "off" else int(seconds)),
                    f"Link lifetime ceiling of {bucket}: {seconds}.")


@bucket_group.command("sharing")
@click.argument("bucket")
@click.argument("who", type=click.Choice([s.value for s in Sharing]))
@admin_options
@click.pass_obj
def bucket_sharing(state: CliState, bucket: str, who: str) -> None:
    """Who may hand out links to BUCKET: "grant" (default: owner, account admins and grants with --share)
    or "any" (AWS's rule: whoever may read, or write, may sign a link for it). Checked when links are used."""
    with open_backend(state) as backend:
        emit_object(state.json, backend.set_sharing(bucket, who), f"Sharing of {bucket}: {who}.")


@bucket_group.command("owner")
@click.argument("bucket")
@click.argument("user", required=False)
@click.option("--contract", is_flag=True, help="Make BUCKET contract-owned (its account's administrators control it).")
@admin_options
@click.pass_obj
def bucket_owner(state: CliState, bucket: str, user: str | None, contract: bool) -> None:
    """Hand BUCKET to USER (a user of the bucket's account), or make it contract-owned with --contract.
    Links the old owner signed are judged at each use against the old owner's rights, which no longer
    include control."""
    if (user is None) == (not contract):
        raise click.UsageError("name the new owner USER or pass --contract (one of them)")
    with open_backend(state) as backend:
        row = backend.set_owner(bucket, user)
        emit_object(state.json, row, f"Owner of {bucket}: {row['owner'] or 'its account (contract-owned)'}.")


@bucket_group.group("cors")
def cors_group() -> None:
    """A bucket's CORS rules (which web pages may call it from a browser), in S3's CORSConfiguration as
    JSON: the shape of `aws s3api put-bucket-cors --cors-configuration` and boto3's put_bucket_cors."""


@cors_group.command("show")
@click.argument("bucket")
@admin_options
@click.pass_obj
def cors_show(state: CliState, bucket: str) -> None:
    """Print BUCKET's CORS rules (exit 1 when it has none)."""
    with open_backend(state) as backend:
        _emit_cors(state, backend.cors(bucket), f"CORS rules of {bucket}")


@cors_group.command("set")
@click.argument("bucket")
@click.argument("file", type=click.File("rb"))
@admin_options
@click.pass_obj
def cors_set(state: CliState, bucket: str, file: BinaryIO) -> None:
    """Replace BUCKET's CORS rules with the CORSConfiguration in FILE (- for stdin), e.g.
    {"CORSRules": [{"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET"]}]}."""
    configuration = file.read(MAX_CORS_FILE + 1)
    if len(configuration) > MAX_CORS_FILE:
        raise click.BadParameter(f"more than {MAX_CORS_FILE} bytes", param_hint="FILE")
    with open_backend(state) as backend:
        _emit_cors(state, backend.set_cors(bucket, configuration), f"CORS rules of {bucket} replaced")


@cors_group.command("delete")
@click.argument("bucket")
@admin_options
@click.pass_obj
def cors_delete(state: CliState, bucket: str) -> None:
    """Remove BUCKET's CORS rules: browsers' cross-origin calls are refused again."""
    with open_backend(state) as backend:
        backend.delete_cors(bucket)
        emit_object(state.json, {"bucket": bucket, "cors": False}, f"Removed the CORS rules of {bucket}.")


def _emit_cors(state: CliState, configuration: dict[str, Any], title: str) -> None:
    if state.json:
        click.echo(json.dumps(configuration, indent=2))
        return
    rules = [{key: ", ".join(value) if isinstance(value, list) else value for key, value in rule.items()}
             for rule in configuration.get("CORSRules", [])]
    emit_rows(False, rules, CORS_COLUMNS, title)


# --- garbage collection -------------------------------------------------------------------------------
@admin.command("gc")
@click.option("--write-grace", "grace", type=click.FloatRange(min=0), default=None,
              help="Remove what unfinished writes (temporary files, upstream multipart uploads) left once this "
                   "many seconds old (never before orphan_grace), instead of max_upload_seconds + body_timeout + "
                   "orphan_grace. Only when no upload can be in progress: every node stopped.")
@admin_options
@click.pass_obj
@node_only
def gc(state: CliState, grace: float | None) -> None:
    """Delete dead blobs and crash orphans now (workers also do it periodically)."""
    from satchel.blobs import open_blobs
    from satchel.core.gc import collect_garbage, write_grace

    settings = state.settings()
    with admin_store(settings) as store:
        blobs = open_blobs(settings)
        try:
            report = asyncio.run(collect_garbage(store, blobs, now=time.time(),
                                                 orphan_grace=settings.orphan_grace,
                                                 write_grace=write_grace(settings) if grace is None else grace))
        finally:
            blobs.close()
        emit_object(state.json, {"dead_deleted": report.dead_deleted, "orphans_deleted": report.orphans_deleted},
                    "Garbage collection done.")


# --- schema, backups ----------------------------------------------------------------------------------
@admin.command("migrate")
@admin_options
@click.pass_obj
@node_only
def migrate(state: CliState) -> None:
    """Apply the schema migrations this node's metadata lacks (the server also does it at start)."""
    from satchel.meta import SQLITE_FILE
    from satchel.meta.schema import MIGRATIONS

    settings = state.settings()
    if settings.metadata_url == "sqlite":
        before = _schema_version(settings.data_dir / SQLITE_FILE)
    else:
        from satchel.meta.postgres_db import read_schema_version

        before = read_schema_version(settings.metadata_url, timeout=settings.postgres_timeout)
    with admin_store(settings):
        pass  # opening the store migrates it, in one transaction
    after = len(MIGRATIONS)
    emit_object(state.json, {"before": before, "after": after, "applied": after - before},
                f"Schema version {before} -> {after}: {after - before} migrations applied.")


def _schema_version(path: Path) -> int:
    """The version a metadata file has, read without migrating it (0 before the first)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT version FROM schema_version").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return 0
    return int(row[0]) if row else 0


@contextlib.contextmanager
def _backup_errors() -> Iterator[None]:
    from satchel.backup import BackupError

    try:
        yield
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None


def _local_blobs_only(settings: Settings) -> None:
    """``verify`` of a node and ``restore`` work on blob files in the data dir."""
    if settings.blobs_url is not None:
        raise click.ClickException(f"blobs live in {settings.blobs_url} (blobs_url): this command handles blobs "
                                   "in the data directory only (`satchel admin backup` then `verify DIR` checks "
                                   "a deployment's blobs; `restore` makes a single node)")


def _emit_report(state: CliState, where: tuple[str, Path], report: BackupReport, sentence: str) -> None:
    emit_object(state.json, {where[0]: str(where[1]), "blobs": report.blobs, "bytes": report.bytes},
                f"{sentence}: {report.blobs} blobs ({report.bytes} bytes).")


@admin.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--parallel", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Blobs copied at a time.")
@admin_options
@click.pass_obj
@node_only
def backup_command(state: CliState, directory: Path, parallel: int) -> None:
    """Back up the node into the new DIRECTORY while it serves: one consistent snapshot of the
    metadata, the master key, every blob the snapshot references and a manifest of their sizes and
    SHA-256. DIRECTORY holds the master key: keep it as private as the data dir.

    A deployment of several nodes (metadata_url = postgresql://…, blobs_url = s3://…) is backed up
    from any one node's configuration, in the same format: the metadata read from one PostgreSQL
    snapshot, the blobs streamed from the upstream bucket. `satchel admin restore` makes a single node
    of it, and `satchel admin migrate-to` takes that back to PostgreSQL and an upstream. A blob the
    snapshot references but that is gone (deleted by live traffic more than blobs_delete_delay ago, or
    lost) fails the backup, naming it: raise blobs_delete_delay above the backup's duration.
    """
    from satchel import backup, backupsources
    from satchel.meta import SQLITE_FILE

    settings = state.settings()

    def progress(line: str) -> None:
        click.echo(line, err=True)

    postgres = settings.metadata_url != "sqlite"
    source = {"metadata": "postgresql" if postgres else "sqlite", "blobs": settings.blobs_url or "data dir"}
    with contextlib.ExitStack() as stack, _backup_errors():
        snapshot: backup.Snapshot
        if postgres:
            snapshot = functools.partial(backupsources.postgres_snapshot, settings.metadata_url,
                                         timeout=settings.postgres_timeout, progress=progress)
            referenced = backupsources.postgres_referenced(settings.metadata_url, timeout=settings.postgres_timeout)
        else:
            snapshot = stack.enter_context(admin_store(settings)).backup_to
            referenced = backupsources.sqlite_referenced(settings.data_dir / SQLITE_FILE)
        blobs: backup.BlobSource
        if settings.blobs_url is None:
            blobs = stack.enter_context(backupsources.LocalBlobs.held(settings.data_dir / "blobs"))
        else:
            from satchel.blobs.s3upstream import Location

            upstream = stack.enter_context(_upstream(settings, threads=parallel))
            blobs = backupsources.UpstreamBlobs(Location.parse(settings.blobs_url), upstream.client)
        report = backup.backup(snapshot, blobs, settings.master_key_path, directory,
                               referenced_now=referenced, source=source, parallel=parallel, progress=progress)
    _emit_report(state, ("directory", directory), report, f"Backed up into {directory}")


@admin.command("verify")
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path), required=False)
@admin_options
@click.pass_obj
@node_only
def verify_command(state: CliState, directory: Path | None) -> None:
    """Check the backup in DIRECTORY: every blob its metadata references present, with the right size
    and SHA-256, single-part objects' also against their ETag (MD5). Without DIRECTORY, check the node in
    --data-dir: every referenced blob present with its size, single-part objects against their ETag (MD5).
    Exit status 1 and one line per problem otherwise."""
    from satchel import backup

    if directory is None:
        _local_blobs_only(state.settings())
        if state.settings().metadata_url != "sqlite":
            raise click.ClickException("verify without DIRECTORY checks a single node's data dir: back the "
                                       "deployment up (`satchel admin backup DIR`), then `verify DIR`")
    what = directory if directory is not None else state.settings().data_dir
    with _backup_errors():
        report = backup.verify(what) if directory is not None else backup.verify_node(
            what, state.settings().master_key_path)
    for problem in report.problems:
        click.echo(problem, err=True)
    if report.problems:
        raise click.ClickException(f"{len(report.problems)} problems in {what}")
    _emit_report(state, ("directory", what), report, f"{what} is whole")


@admin.command("restore")
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
@admin_options
@click.pass_obj
@node_only
def restore_command(state: CliState, directory: Path) -> None:
    """Verify the backup in DIRECTORY, then restore it into --data-dir, which must hold no node yet.
    Start the server on that data dir afterwards."""
    from satchel import backup

    settings = state.settings()
    _local_blobs_only(settings)
    if settings.metadata_url != "sqlite":
        raise click.ClickException("restore makes a single node (SQLite in --data-dir): run it without "
                                   "metadata_url, then `satchel admin migrate-to` to go back to PostgreSQL")
    with _backup_errors():
        report = backup.restore(directory, settings.data_dir, settings.master_key_file)
    _emit_report(state, ("data_dir", settings.data_dir), report, f"Restored into {settings.data_dir}")


@admin.command("migrate-to")
@click.option("--metadata-url", required=True, help="The empty PostgreSQL database (postgresql://…) to copy the "
              "metadata into (its tables are created when absent).")
@click.option("--blobs-url", default=None, help="s3://bucket/prefix to copy the blobs into (the bucket must exist); "
              "the blobs_* settings (keys, region, part size) are read as `satchel serve` reads them. "
              "Without it the blobs stay in the data dir.")
@click.option("--blobs-endpoint-url", default=None, help="The upstream S3 endpoint (https://host:port).")
@click.option("--blobs-region", default=None, help="The upstream's region [default: the blobs_region setting].")
@admin_options
@click.pass_obj
@node_only
def migrate_to_command(state: CliState, metadata_url: str, blobs_url: str | None, blobs_endpoint_url: str | None,
                       blobs_region: str | None) -> None:
    """Copy this stopped single node (its SQLite metadata and its blobs) to PostgreSQL and, with
    --blobs-url, an upstream S3 bucket, for a deployment of several nodes (docs/deployment.md).

    Refused while a server runs on the data dir, when the database is not empty, and when the node's
    schema version is not this Satchel's. Blobs go first (each checked by size and MD5; those already
    upstream are skipped, so an interrupted run can simply be run again), then the metadata in one
    transaction; then row counts and blobs are checked on the target. The master key is not copied:
    every node of the new deployment needs the file the command names (in its data dir, or where
    master_key_file names); its check travels with the metadata, so a node with another key refuses to start.
    """
    from satchel import migrateto

    if not metadata_url.startswith(("postgresql://", "postgres://")):
        raise click.BadParameter("must be a postgresql:// URL", param_hint="--metadata-url")
    if state.settings().metadata_url != "sqlite":
        raise click.ClickException("this node's metadata_url is not sqlite: migrate-to copies a single node's "
                                   "SQLite metadata and data-dir blobs")
    settings = state.settings(metadata_url=metadata_url, blobs_url=blobs_url, blobs_endpoint_url=blobs_endpoint_url,
                              blobs_region=blobs_region)
    data_dir = settings.data_dir

    def progress(line: str) -> None:
        click.echo(line, err=True)

    with _migration_errors(), _blob_target(settings) as target:
        report = migrateto.migrate_to(data_dir, metadata_url, target, timeout=settings.postgres_timeout,
                                      progress=progress, key_path=settings.master_key_path)
    for problem in report.problems:
        click.echo(problem, err=True)
    if report.problems:
        raise click.ClickException(f"{len(report.problems)} problems on the target: see above")
    key = settings.master_key_path.resolve()
    summary = {"tables": {t: rows for t, (rows, _copied) in report.tables.items()}, "blobs": report.blobs,
               "blobs_copied": report.blobs_copied, "blobs_skipped": report.blobs_skipped, "bytes": report.bytes,
               "master_key": str(key)}
    lines = [f"  {t:<28} {rows}" for t, (rows, _copied) in report.tables.items()]
    if state.json:
        emit_object(True, summary, "")
        return
    for line in ("Metadata copied (rows per table, the same on both sides):", *lines,
                 f"Blobs: {report.blobs} ({report.bytes} bytes; {report.blobs_copied} copied, "
                 f"{report.blobs_skipped} already there)." if target is not None else "Blobs: left in the data dir.",
                 f"The master key is {key}: give every node of the new deployment this same file (mode 0600), "
                 "in its data dir or where master_key_file names; without it no node can read the access keys "
                 "or SSE-S3 objects, and a node with another key refuses to start.",
                 "Start the nodes with metadata_url" + (" and blobs_url" if target is not None else "")
                 + " set; keep this data dir until they serve everything."):
        click.echo(printable(line))


@contextlib.contextmanager
def _migration_errors() -> Iterator[None]:
    import psycopg
    from botocore.exceptions import BotoCoreError, ClientError

    from satchel.core.errors import SatchelError
    from satchel.migrateto import MigrationError

    try:
        yield
    except MigrationError as exc:
        raise click.ClickException(str(exc)) from None
    except SatchelError as exc:  # PostgreSQL unreachable
        raise click.ClickException(f"the target database: {describe(exc)}") from None
    except psycopg.Error as exc:
        raise click.ClickException(f"the target database: {exc}; nothing was committed: run the command "
                                   "again") from None
    except (ClientError, BotoCoreError) as exc:
        raise click.ClickException(f"the upstream blob store: {exc}; run the command again once it answers "
                                   "(blobs already copied are skipped)") from None


@contextlib.contextmanager
def _blob_target(settings: Settings) -> Iterator[Any]:
    """The upstream bucket the blobs go to, as ``satchel serve`` would open it (None: blobs stay)."""
    if settings.blobs_url is None:
        yield None
        return
    from satchel.blobs.s3 import MAX_PARTS
    from satchel.blobs.s3upstream import Location
    from satchel.migrateto import Target

    location = Location.parse(settings.blobs_url)
    with _upstream(settings) as upstream:
        yield Target(location.bucket, location.prefix, upstream.client,
                     max(settings.blobs_part_size, -(-settings.max_put_size // MAX_PARTS)))


@contextlib.contextmanager
def _upstream(settings: Settings, *, threads: int = 1) -> Iterator[Upstream]:
    """One client of the upstream S3 cluster, configured as ``satchel serve`` configures it, for
    ``threads`` threads at a time."""
    from satchel.blobs.s3upstream import Upstream

    upstream = Upstream(
        endpoint_url=settings.blobs_endpoint_url, region=settings.blobs_region,
        access_key_id=settings.blobs_access_key_id, secret_access_key=settings.blobs_secret_access_key,
        threads=threads, connect_timeout=settings.blobs_connect_timeout, read_timeout=settings.blobs_read_timeout,
        attempts=settings.blobs_attempts)
    try:
        yield upstream
    finally:
        upstream.close()


admin.add_command(user_group)
admin.add_command(key_group)
admin.add_command(grant_group)
admin.add_command(public_access_block_group)
