"""``satchel serve``: run the server on this node's data directory."""

from __future__ import annotations

import click

from satchel.cli.options import CliState, settings_options


@click.command()
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1) [env: SATCHEL_HOST].")
@click.option("--port", type=int, default=None, help="Port to bind (default 9000) [env: SATCHEL_PORT].")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes (default 1) [env: SATCHEL_WORKERS].")
@click.option("--domain", default=None,
              help="Enables virtual-host style requests (bucket.DOMAIN) [env: SATCHEL_DOMAIN].")
@click.option("--public-url", default=None,
              help="Base URL put into links Satchel mints [env: SATCHEL_PUBLIC_URL].")
@settings_options
@click.pass_obj
def serve(state: CliState, host: str | None, port: int | None, workers: int | None, domain: str | None,
          public_url: str | None) -> None:
    """Serve the S3 API (presigned URLs, POST uploads, minted links) and the management API on one port.

    The first start creates the root account, user and access key and prints the generated secrets
    once (set SATCHEL_ROOT_ACCESS_KEY, SATCHEL_ROOT_SECRET_KEY, SATCHEL_ROOT_PASSWORD to choose them).
    A port already in use is reported before anything is created or printed (exit status 1).
    """
    settings = state.settings(host=host, port=port, workers=workers, domain=domain, public_url=public_url)
    # Imported here so that admin commands work (and start fast) without the server's dependencies.
    from satchel.server import ServeError, run

    try:
        run(settings)
    except ServeError as exc:
        raise click.ClickException(str(exc)) from None
