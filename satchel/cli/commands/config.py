"""``satchel config``: what the settings are, and where each came from.

    $ SATCHEL_PORT=9100 satchel config show --config /etc/satchel.toml
    setting        value      source
    host           0.0.0.0    file /etc/satchel.toml
    port           9100       env SATCHEL_PORT
    metrics_token  ********   file /etc/satchel.toml
    ...

Settings are read exactly as ``satchel serve`` reads them (defaults < TOML file < ``SATCHEL_*`` variables <
flags), so an invalid one fails here as it would at start, naming the option and what it accepts.
Secrets (``metrics_token`` and any setting named after a token, secret or password) are masked.
"""

from __future__ import annotations

import tomllib
from dataclasses import fields

import click

from satchel.cli.options import CliState, admin_options
from satchel.cli.output import emit_rows
from satchel.config import Settings, load_settings_with_sources, markdown_table, show_value

COLUMNS = (("setting", "Setting"), ("value", "Value"), ("source", "Source"))


@click.group("config")
def config() -> None:
    """Show the effective settings."""


@config.command("show")
@admin_options
@click.pass_obj
def show(state: CliState) -> None:
    """Every setting's effective value and its source (default, file, env or flag), secrets masked."""
    try:
        settings, sources = load_settings_with_sources(state.config, data_dir=state.data_dir)
    except (OSError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise click.ClickException(f"cannot load settings: {exc}") from exc
    rows = [{"setting": f.name, "value": show_value(f.name, getattr(settings, f.name)), "source": sources[f.name]}
            for f in fields(Settings)]
    emit_rows(state.json, rows, COLUMNS, "Settings")


@config.command("table")
def table() -> None:
    """Print the Markdown table of every setting (flag, variable, TOML key, default, meaning), as in the README."""
    click.echo(markdown_table())
