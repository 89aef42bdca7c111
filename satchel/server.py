"""``satchel serve``: prepare the data directory, bootstrap on first start, print the banner, serve.

Bootstrap happens here, once, before any worker starts, so generated root credentials are printed
exactly once and workers never race to create them.
"""

from __future__ import annotations

import logging
import os
import sys

from satchel.config import Settings
from satchel.core.identity import bootstrap
from satchel.meta import open_store


def prepare_data_dir(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.data_dir, 0o700)


def banner(settings: Settings, generated: dict[str, str] | None) -> str:
    endpoint = settings.endpoint
    lines = [
        "",
        "Satchel is starting.",
        f"  S3 endpoint : {endpoint}",
        f"  Console     : {endpoint}/_satchel/console/",
        f"  Health      : {endpoint}/_satchel/health",
        f"  Data dir    : {settings.data_dir.resolve()}",
        f"  Region      : {settings.region}",
    ]
    if generated:
        lines.append("")
        lines.append("First start: the root account and its admin user 'root' were created.")
        lines.append("Generated secrets are shown only this once:")
        for name, value in generated.items():
            lines.append(f"  {name:<22}: {value}")
    lines += [
        "",
        "Configure the aws cli:",
        "  export AWS_ACCESS_KEY_ID=<access key> AWS_SECRET_ACCESS_KEY=<secret key> AWS_DEFAULT_REGION="
        + settings.region,
        f"  aws --endpoint-url {endpoint} s3 ls",
        "",
    ]
    return "\n".join(lines)


def run(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    prepare_data_dir(settings)
    store = open_store(settings)
    try:
        result = bootstrap(store, settings, os.environ)
    finally:
        store.close()
    generated: dict[str, str] | None = None
    if result is not None:
        generated = {"Access key id": result.access_key_id}
        if result.generated_secret_access_key:
            generated["Secret access key"] = result.secret_access_key
        if result.generated_password:
            generated["Console password (root)"] = result.password
    print(banner(settings, generated), flush=True)
    os.environ.update(settings.to_env())
    # Replace this process with a bare worker (or, for several, the supervisor): they then carry only
    # the server (not Satchel's CLI, rich, argon2 and the bootstrap code), about 25 MB less per
    # process, and the PID stays the one that was started.
    argv = serve_argv(settings)
    os.execv(sys.executable, argv)  # noqa: S606 - our own interpreter, argv built from settings


def serve_argv(settings: Settings) -> list[str]:
    """The command line that serves these settings (passed through the environment)."""
    worker = [sys.executable, "-m", "satchel.worker"]
    if settings.workers <= 1:
        return worker
    return [sys.executable, "-m", "satchel.supervisor", "--host", settings.host, "--port", str(settings.port),
            "--workers", str(settings.workers), "--", *worker]
