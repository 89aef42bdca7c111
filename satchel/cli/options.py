"""Options every command shares, and the state they fill.

``--data-dir`` and ``--config`` are accepted at every level (``satchel --data-dir D admin user list``
and ``satchel admin user list --data-dir D`` mean the same; the innermost wins). When neither is given,
:func:`satchel.config.load_settings` falls back to ``SATCHEL_DATA_DIR`` / ``SATCHEL_CONFIG`` and then to
the defaults, so the CLI reads the environment exactly as the server does.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from satchel.config import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class CliState:
    data_dir: Path | None = None
    config: Path | None = None
    json: bool = False

    def settings(self, **overrides: Any) -> Settings:
        """Settings from every source; CLI flags (``overrides``, None = not given) win."""
        try:
            return load_settings(self.config, data_dir=self.data_dir, **overrides)
        except (OSError, ValueError, tomllib.TOMLDecodeError) as exc:
            raise click.ClickException(f"cannot load settings: {exc}") from exc


def _remember(name: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        state = ctx.ensure_object(CliState)
        if value is not None and value is not False:
            setattr(state, name, value)
        return value

    return callback


def settings_options(fn: F) -> F:
    """``--data-dir`` and ``--config``, recorded in the shared :class:`CliState`."""
    fn = click.option(
        "--config", type=click.Path(dir_okay=False, path_type=Path), expose_value=False,
        callback=_remember("config"), help="TOML settings file [env: SATCHEL_CONFIG].",
    )(fn)
    fn = click.option(
        "--data-dir", type=click.Path(file_okay=False, path_type=Path), expose_value=False,
        callback=_remember("data_dir"),
        help="Data directory: metadata, blobs, master key [env: SATCHEL_DATA_DIR].",
    )(fn)
    return fn


def admin_options(fn: F) -> F:
    """What every admin leaf command takes: the settings options and ``--json``."""
    fn = click.option(
        "--json", "json_output", is_flag=True, expose_value=False, callback=_remember("json"),
        help="Print machine-readable JSON instead of a table.",
    )(fn)
    return settings_options(fn)
