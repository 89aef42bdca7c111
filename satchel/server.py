"""``satchel serve``: prepare the data directory, bootstrap on first start, print the banner, serve.

Bootstrap happens here, once, before any worker starts, so generated root credentials are printed
exactly once and workers never race to create them.
"""

from __future__ import annotations

import errno
import logging
import os
import shlex
import shutil
import ssl
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from satchel import metrics
from satchel.config import Settings
from satchel.core.errors import ServiceUnavailable
from satchel.core.identity import ROOT_NAME, BootstrapResult, bootstrap
from satchel.core.keycheck import explicit_missing, node_master_key
from satchel.core.masterkey import MasterKeyError, MasterKeyMissing, open_master_key
from satchel.core.models import Status
from satchel.logs import level_number
from satchel.meta import UnusableStore, open_store
from satchel.meta.store import Store
from satchel.supervisor import listen

#: Placeholders for a secret the banner must not print (not secrets themselves); shell-safe when pasted.
SECRET_FROM_ENV = '"$SATCHEL_ROOT_SECRET_KEY"'  # noqa: S105
SECRET_SHOWN_BEFORE = "YOUR_ROOT_SECRET"  # noqa: S105

log = logging.getLogger("satchel")


class ServeError(Exception):
    """A reason not to start, said before anything is printed or created (the CLI exits 1 with it)."""


def check_port(settings: Settings) -> None:
    """Fail early, in plain words, when the port cannot be bound.

    Checked before the first start creates credentials and before the banner tells anyone to connect:
    otherwise generated secrets would be printed for a server that never ran (or, worse, the banner
    would point at whatever already listens there). Binding and closing leaves a race with another
    process, which the worker or supervisor then reports on its own bind.
    """
    try:
        listen(settings.host, settings.port).close()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        hint = ""
        if exc.errno == errno.EADDRINUSE:
            hint = (" (is another Satchel or server running there?). Choose another port: "
                    f"satchel serve --port {settings.port + 100}, SATCHEL_PORT={settings.port + 100}, "
                    f"or make serve PORT={settings.port + 100}")
        raise ServeError(f"cannot listen on {settings.host}:{settings.port}: {reason}{hint}") from None


def check_tls(settings: Settings) -> None:
    """A certificate and key that do not load fail the start here, in plain words, before the banner."""
    if settings.tls_cert is None or settings.tls_key is None:
        return
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(settings.tls_cert, settings.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ServeError(f"cannot use tls_cert {settings.tls_cert} with tls_key {settings.tls_key}: {exc}") from None


def check_master_key_file(settings: Settings) -> None:
    """A ``master_key_file`` that is missing or unusable fails the start before the data dir or the
    metadata is created (whether it is the metadata's key is checked once the store is open)."""
    if settings.master_key_file is None:
        return
    try:
        open_master_key(settings.master_key_file, create=False, follow_symlinks=True)
    except MasterKeyMissing:
        raise ServeError(explicit_missing(settings.master_key_file)) from None
    except (MasterKeyError, OSError) as exc:
        raise ServeError(str(exc)) from None


def prepare_data_dir(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.data_dir, 0o700)


@dataclass(frozen=True)
class RootHint:
    """What the banner may say about the root credentials: the key id always (it is not a secret), the
    secret only when this very start generated it (it is shown once, like the root password)."""

    access_key_id: str | None
    secret_access_key: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    secret_from_env: bool = False
    #: The metadata database was down: nothing is known about root yet (not even whether it exists).
    unknown: bool = False


def root_hint(store: Store, result: BootstrapResult | None) -> RootHint:
    if result is not None:
        return RootHint(
            result.access_key_id,
            result.secret_access_key if result.generated_secret_access_key else None,
            result.password if result.generated_password else None,
            secret_from_env=not result.generated_secret_access_key,
        )
    root = store.get_user_by_name(ROOT_NAME)
    keys = store.list_access_keys(root.id) if root is not None else []
    active = [k for k in keys if k.status is Status.ACTIVE]
    return RootHint(active[0].access_key_id if active else None)


def first_start(store: Store, settings: Settings) -> None:
    """The first start's set-up, run by a worker that opened a store ``satchel serve`` could not reach:
    the root account once across workers and nodes (``bootstrap`` is safe against that race), its
    generated secrets printed once, as the banner does, by the worker that made them (stdout, never the
    log). The key is proven against the metadata's check first, as ``run`` does, before anything is sealed."""
    result = bootstrap(store, settings, os.environ, master_key=node_master_key(store, settings))
    if result is not None:
        print(banner(settings, root_hint(store, result), satchel_command()), flush=True)
    else:
        _wait_for_root(store)


def _wait_for_root(store: Store, timeout: float = 10.0) -> None:
    """Another process (a worker, another node) is making the root account: wait until its key exists, so
    this node does not turn ready and answer root's first requests InvalidAccessKeyId meanwhile (a
    client does not retry that). Bounded: a first start that crashed half-way is resumed by the next."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        root = store.get_account_by_name(ROOT_NAME)
        users = store.list_users(root.id) if root is not None else []
        if any(store.list_access_keys(user.id) for user in users if user.name == ROOT_NAME):
            return
        time.sleep(0.05)
    log.warning("the root account was still being made by another process after %g s; serving anyway", timeout)


def satchel_command() -> str:
    """How the user who started this server can type the ``satchel`` command again (``make serve`` runs
    ``.venv/bin/satchel``, which is not on PATH)."""
    script = Path(sys.argv[0])
    if script.name != "satchel":
        return f"{sys.executable} -m satchel"
    found = shutil.which("satchel")
    if found is not None and Path(found).resolve() == script.resolve():
        return "satchel"
    try:
        return str(script.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(script.resolve())


def banner(settings: Settings, hint: RootHint, command: str = "satchel") -> str:
    """What to type next. Only what answers on this port is listed (no Swift yet)."""
    endpoint = settings.endpoint
    lines = [
        "",
        "Satchel is starting.",
        f"  S3 endpoint    : {endpoint}",
        f"  Web console    : {endpoint}/_satchel/console/ (sign in as a user with a password)",
        f"  Management API : {endpoint}/_satchel/api/openapi.json (its OpenAPI document)",
        f"  Health         : {endpoint}/_satchel/health (probes: /_satchel/health/live, /_satchel/health/ready)",
        f"  Metrics        : {endpoint}/_satchel/metrics (Prometheus; loopback, or the metrics_token)",
        f"  Data dir       : {settings.data_dir.resolve()}",
        f"  Master key     : {settings.master_key_path.absolute()} (every node of a deployment needs this same key)",
        f"  Region         : {settings.region}",
    ]
    if hint.secret_access_key or hint.password or hint.secret_from_env:
        lines += ["", "First start: the root account and its admin user 'root' were created."]
    if hint.secret_access_key or hint.password:
        lines.append("Generated secrets are shown only this once:")
        lines.append(f"  Access key id           : {hint.access_key_id}")
        if hint.secret_access_key:
            lines.append(f"  Secret access key       : {hint.secret_access_key}")
        if hint.password:
            lines.append(f"  Password (root)         : {hint.password}")
    secret = hint.secret_access_key or (SECRET_FROM_ENV if hint.secret_from_env else SECRET_SHOWN_BEFORE)
    key_id = hint.access_key_id or "YOUR_ACCESS_KEY_ID"
    data_dir = shlex.quote(str(settings.data_dir.resolve()))
    lines += [
        "",
        "Use it with the aws cli:",
        f"  export AWS_ACCESS_KEY_ID={key_id} AWS_SECRET_ACCESS_KEY={secret} AWS_DEFAULT_REGION={settings.region}",
        f"  aws --endpoint-url {endpoint} s3 ls",
    ]
    if secret == SECRET_SHOWN_BEFORE:
        lines.append("  (YOUR_ROOT_SECRET: the secret printed at the first start, or the SATCHEL_ROOT_SECRET_KEY "
                     "it was given; never shown again)")
    if hint.unknown:
        lines.append("  (YOUR_ACCESS_KEY_ID: root's, read once the metadata database answers; a first start "
                     "prints root's generated secrets then)")
    elif key_id != hint.access_key_id:
        lines.append("  (YOUR_ACCESS_KEY_ID: root has no active key; make one with: admin key create root)")
    lines += [
        "",
        f"Administer it and share links with the satchel command ({command}"
        + (", from this directory):" if not Path(command).is_absolute() and "/" in command else "):"),
        f"  {command} admin user list --data-dir {data_dir}",
        f"  SATCHEL_ENDPOINT={endpoint} {command} presign s3://BUCKET/KEY --expires-in 1h",
        "",
    ]
    return "\n".join(lines)


def run(settings: Settings) -> None:
    logging.basicConfig(level=level_number(settings.log_level),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    check_port(settings)
    check_tls(settings)
    check_master_key_file(settings)
    prepare_data_dir(settings)
    try:
        store = open_store(settings)
    except UnusableStore as exc:  # a database that refuses us, a bad URL: waiting would not help
        raise ServeError(str(exc)) from None
    except ServiceUnavailable as exc:
        # PostgreSQL down (a fleet restarting after a power cut, the database last up): serve anyway,
        # unready, and let the workers open it when it answers (app.py), then do the first start's set-up.
        log.warning("%s This node starts unready and opens it when it answers.", exc.message)
        hint = RootHint(None, unknown=True)
    else:
        try:
            try:
                key = node_master_key(store, settings)
            except (MasterKeyError, OSError) as exc:
                raise ServeError(str(exc)) from None
            hint = root_hint(store, bootstrap(store, settings, os.environ, master_key=key))
        finally:
            store.close()
    print(banner(settings, hint, satchel_command()), flush=True)
    os.environ.update(settings.to_env())
    # Before any worker imports prometheus_client: that is when it picks multiprocess mode.
    directory = metrics.metrics_dir(settings.data_dir)
    metrics.reset_dir(directory)
    os.environ[metrics.MULTIPROC_ENV] = str(directory)
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
            "--workers", str(settings.workers), "--stop-timeout", str(settings.shutdown_timeout + 15), "--", *worker]
