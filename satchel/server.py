"""``satchel serve``: prepare the data directory, bootstrap on first start, print the banner, serve.

Bootstrap happens here, once, before any worker starts, so generated root credentials are printed
exactly once and workers never race to create them.
"""

from __future__ import annotations

import logging
import os
import sys

import uvicorn

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
        "Satchel is running.",
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
    uvicorn.run(
        "satchel.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers if settings.workers > 1 else None,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http="httptools",
        lifespan="on",
        access_log=settings.access_log,
        log_level=settings.log_level,
        server_header=False,
        date_header=True,
        timeout_keep_alive=30,
    )
