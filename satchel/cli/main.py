"""The ``satchel`` command line (also ``python -m satchel``).

    satchel serve [--host H] [--port P] [--workers N] [--domain D] [--public-url URL]
    satchel admin account create NAME | list
    satchel admin user create NAME --account ACCOUNT [--role admin|member] [--password-stdin]
    satchel admin user list [--account A] | disable NAME | enable NAME | delete NAME
    satchel admin key create USER | list [USER] | disable ID | enable ID | delete ID
    satchel admin grant add USER BUCKET --permission read|read-write [--prefix P]
    satchel admin grant list [--user U] [--bucket B] | remove GRANT_ID
    satchel admin bucket list [--account A] | public on|off BUCKET
    satchel admin gc

Every command takes ``--data-dir`` (env ``SATCHEL_DATA_DIR``) and ``--config FILE`` (env
``SATCHEL_CONFIG``); admin commands take ``--json``.
"""

from __future__ import annotations

import click

from satchel.cli.commands.admin import admin
from satchel.cli.commands.serve import serve
from satchel.cli.options import settings_options


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="satchel", prog_name="satchel")
@settings_options
def cli() -> None:
    """Satchel: a self-hosted S3-compatible object store for sharing private objects."""


cli.add_command(serve)
cli.add_command(admin)


def main() -> None:
    cli(prog_name="satchel")
