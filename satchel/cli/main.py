"""The ``satchel`` command line (also ``python -m satchel``).

    satchel serve [--host H] [--port P] [--workers N] [--domain D] [--public-url URL]
    satchel admin init                                   (a node before its first start; never implicit)
    satchel admin account create NAME | list | delete NAME
    satchel admin user create NAME --account ACCOUNT [--role admin|member] [--password-stdin]
    satchel admin user list [--account A] | disable NAME | enable NAME | delete NAME
    satchel admin key create USER | list [USER] | disable ID | enable ID | delete ID
    satchel admin grant add USER BUCKET --permission read|read-write [--prefix P]
    satchel admin grant list [--user U] [--bucket B] | remove GRANT_ID
    satchel admin bucket list [--account A] | public on|off BUCKET | owner BUCKET USER|--contract
    satchel admin bucket cors show BUCKET | set BUCKET FILE | delete BUCKET
    satchel admin gc
    satchel admin migrate-to --metadata-url postgresql://… [--blobs-url s3://bucket/prefix --blobs-endpoint-url URL]
    satchel presign s3://bucket/key [...] [--expires-in 1h] [--method GET|PUT|HEAD|DELETE]
                    [--download [--filename NAME] | --view] [--max-uses N] [--version-id V] [--v2] [--prefix]
    satchel tempurl s3://container/object [...] [--expires-in 1h] [--method GET|PUT|HEAD|DELETE]
                    [--download [--filename NAME] | --view] [--prefix]
    satchel bucket create NAME [--contract]
    satchel links list [--bucket B] [--prefix P] [--active] [--limit N] | show ID | revoke ID | revocations
    satchel links revoke [--before T] --object s3://b/k | --prefix s3://b/p | --bucket B | --access-key ID | --user U
    satchel par create BUCKET [--object KEY | --prefix P] --access TYPE --expires 7d|RFC3339 [--listing] ...
    satchel par list [BUCKET] | show BUCKET ID | delete BUCKET ID
    satchel audit [--since T] [--until T] [--bucket B] [--prefix P] [--user U] [--kind K] [--outcome O] ...
    satchel config show [--json] | table

Every command takes ``--data-dir`` (env ``SATCHEL_DATA_DIR``) and ``--config FILE`` (env
``SATCHEL_CONFIG``); admin commands take ``--json`` and refuse a data dir that holds no node (only
``admin init`` creates one); with ``--endpoint-url`` (env ``SATCHEL_ADMIN_ENDPOINT``) the account, user,
key, grant and bucket commands run through a server's management API instead (see
``satchel.cli.backends``). ``presign``, ``tempurl``, ``bucket``, ``links``, ``par`` and ``audit`` are clients of a
running server's management API: they take ``--endpoint-url`` (env ``SATCHEL_ENDPOINT``), ``--profile``,
``--region`` and ``--json``, and find credentials the way the aws cli does.
"""

from __future__ import annotations

import click

from satchel.cli.commands.admin import admin
from satchel.cli.commands.audit import audit
from satchel.cli.commands.buckets import bucket
from satchel.cli.commands.config import config
from satchel.cli.commands.links import links
from satchel.cli.commands.par import par
from satchel.cli.commands.presign import presign
from satchel.cli.commands.serve import serve
from satchel.cli.commands.tempurl import tempurl
from satchel.cli.options import settings_options


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="satchel", prog_name="satchel")
@settings_options
def cli() -> None:
    """Satchel: a self-hosted S3-compatible object store for sharing private objects."""


cli.add_command(serve)
cli.add_command(admin)
cli.add_command(presign)
cli.add_command(tempurl)
cli.add_command(links)
cli.add_command(audit)
cli.add_command(bucket)
cli.add_command(par)
cli.add_command(config)


def main() -> None:
    cli(prog_name="satchel")
