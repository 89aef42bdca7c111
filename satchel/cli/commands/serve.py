"""``satchel serve``: run the server on this node's data directory.

Every setting is a flag here, generated from :class:`~satchel.config.Settings` (its ``#:`` comments are
the help), so a new setting is settable from the command line as soon as it exists; ``--data-dir`` and
``--config`` are every command's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

import click

from satchel.cli.options import CliState, settings_options
from satchel.config import CHOICES, Settings, flag, setting_docs, show_value

#: Settings every command takes already (``cli/options.py``).
_SHARED = frozenset({"data_dir"})


def setting_flags(fn: Callable[..., Any]) -> Callable[..., Any]:
    """One option per setting, None when not given (so the environment and the TOML file still count);
    values are checked by ``load_settings``, which names the option and what it accepts."""
    docs = setting_docs()
    for f in reversed(fields(Settings)):
        if f.name in _SHARED:
            continue
        help_text = docs.get(f.name, "").replace("``", "")
        if f.name in CHOICES:
            help_text += f" One of: {', '.join(CHOICES[f.name])}."
        help_text += f" [default: {show_value(f.name, f.default)}; env: SATCHEL_{f.name.upper()}]"
        if str(f.type) == "bool":
            fn = click.option(flag(f.name), f.name, default=None, help=help_text)(fn)
        else:
            fn = click.option(flag(f.name), f.name, default=None, metavar="VALUE", help=help_text)(fn)
    return fn


@click.command()
@setting_flags
@settings_options
@click.pass_obj
def serve(state: CliState, /, **flags: Any) -> None:
    """Serve the S3 API (presigned URLs, POST uploads, minted links), the management API, health and
    metrics on one port.

    The first start creates the root account, user and access key and prints the generated secrets
    once (set SATCHEL_ROOT_ACCESS_KEY, SATCHEL_ROOT_SECRET_KEY, SATCHEL_ROOT_PASSWORD to choose them),
    and the master key DATA_DIR/master.key unless --master-key-file names the deployment's. Every start
    proves the key against the metadata's key check: another key, or none where secrets exist, is refused.
    A port already in use, or a setting Satchel cannot use, is reported before anything is created or
    printed (exit status 1).
    """
    settings = state.settings(**flags)
    # Imported here so that admin commands work (and start fast) without the server's dependencies.
    from satchel.server import ServeError, run

    try:
        run(settings)
    except ServeError as exc:
        raise click.ClickException(str(exc)) from None
