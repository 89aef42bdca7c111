"""Typed settings, loaded once: defaults < TOML file (``--config``) < ``SATCHEL_*`` variables < CLI flags.

Every setting is listed in the README's configuration table; the names here are the TOML keys and,
upper-cased with a ``SATCHEL_`` prefix, the environment variables.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from satchel.signing.tempurl import allowed_digests

#: The log levels uvicorn knows, most verbose last.
LOG_LEVEL_NAMES = ("critical", "error", "warning", "info", "debug", "trace")
#: Settings that take one of a few words (compared case-insensitively): the accepted words.
CHOICES: dict[str, tuple[str, ...]] = {
    "log_level": LOG_LEVEL_NAMES,
    "log_format": ("text", "json"),
    "sqlite_synchronous": ("full", "normal", "extra", "off"),
}
POSITIVE = ("port", "workers", "max_header_bytes", "header_timeout", "body_timeout", "send_timeout",
            "keepalive_timeout", "max_connections",
            "max_link_lifetime", "max_put_size", "gc_interval", "par_zip_max_entries", "par_zip_max_bytes",
            "par_max_open_uploads", "par_max_per_user",
            "swift_token_lifetime", "console_session_idle", "console_session_lifetime", "console_max_failures",
            "console_throttle_window",
            "webhook_queue_max", "webhook_queue_max_per_account", "webhook_queue_max_per_user",
            "webhook_dead_max_per_bucket",
            "webhook_max_inflight_per_endpoint", "webhook_max_inflight_per_user", "webhook_max_per_user",
            "webhook_timeout", "webhook_max_attempts",
            "webhook_max_age", "webhook_retry_delay", "webhook_retry_max_delay", "webhook_poll_interval",
            "lifecycle_interval", "lifecycle_day")
NOT_NEGATIVE = ("orphan_grace", "shutdown_timeout", "abandoned_upload_age", "audit_retention_days",
                "max_par_lifetime", "console_lockout", "max_upload_seconds", "event_loop_lag_interval")
#: Settings whose values ``satchel config show`` masks (and any whose name ends in token, secret or password:
#: ``swift_token_lifetime`` is no secret).
SECRET_SETTINGS = frozenset({"metrics_token", "blobs_secret_access_key"})
_BOOL_WORDS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False,
               "off": False}


class SettingError(ValueError):
    """A setting with a value Satchel cannot use; the message names the option and what it accepts."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name} {problem} (flag --{name.replace('_', '-')}, variable SATCHEL_{name.upper()}, "
                         f"TOML key {name})")
        self.name = name


def is_secret(name: str) -> bool:
    return name in SECRET_SETTINGS or name.endswith(("_token", "_secret", "_password"))


@dataclass(frozen=True)
class Settings:
    #: Address to bind; loopback by default so a fresh install is never exposed by accident.
    host: str = "127.0.0.1"
    #: TCP port to listen on (HTTP, or HTTPS with ``tls_cert``).
    port: int = 9000
    #: Where SQLite metadata, blobs and the node master key live (the directory is kept 0700).
    data_dir: Path = Path("./satchel-data")
    #: Worker processes; 1 keeps memory low, the number of cores maximises throughput.
    workers: int = 1
    #: Region that SigV4 credential scopes must name.
    region: str = "us-east-1"
    #: Enables virtual-host style requests (``bucket.DOMAIN``) when set.
    domain: str | None = None
    #: Base URL put into links Satchel mints (reverse proxy, custom domain); unset: ``http(s)://host:port``.
    public_url: str | None = None
    #: Server-wide ceiling on a link's lifetime, enforced at use time (seconds).
    max_link_lifetime: int = 604800
    # --- Swift TempURL and FormPost (signing/tempurl.py) ---
    #: Digests TempURL and FormPost signatures may use. sha1 is deprecated (as in Swift) and kept for
    #: vStorage-era tools and Ceph RGW, which sign with it: ``"sha256 sha512"`` switches it off.
    tempurl_digests: str = "sha1 sha256 sha512"
    #: Metadata store: ``sqlite`` (``data_dir/meta.sqlite3``, one node) or a ``postgresql://user@host/db``
    #: URL (libpq form; a password is best kept in ``~/.pgpass`` or ``PGPASSWORD``): many nodes, one database.
    metadata_url: str = "sqlite"
    # --- the node master key (core/masterkey.py, core/keycheck.py) ---
    #: The master key file (32 bytes, mode 0400 or 0600, nothing for group or others), which seals access-key
    #: secrets, SSE-S3 data keys, webhook and TempURL keys. Every node of a deployment needs the same one:
    #: mount one secret file on each. Unset: ``data_dir/master.key``, created by a fresh node's first start;
    #: a file named here is never created (missing, the node does not start), and may be a symlink.
    master_key_file: Path | None = None
    # --- PostgreSQL metadata store (metadata_url = postgresql://…) ---
    #: Most connections each worker process holds to PostgreSQL.
    postgres_pool_size: int = 10
    #: Seconds to wait for PostgreSQL (connecting, a pooled connection) before answering 503.
    postgres_timeout: float = 3.0
    #: Largest single PUT / POST / part in bytes (S3: 5 GiB).
    max_put_size: int = 5 * 1024**3
    #: Seconds a crash-orphaned blob must age before the garbage collector may delete it. What an unfinished
    #: write left (a temporary file, an upstream multipart upload) waits longer: max_upload_seconds +
    #: body_timeout + orphan_grace (the write grace, core/gc.py), so no live upload is ever collected.
    orphan_grace: int = 3600
    #: SQLite ``synchronous`` pragma: FULL survives power loss, NORMAL only process crashes.
    sqlite_synchronous: str = "FULL"
    #: Largest request line plus header block, in bytes; a longer one gets 431 before it is buffered
    #: (nginx: ``large_client_header_buffers``).
    max_header_bytes: int = 64 * 1024
    #: Seconds a client has to send a whole request line and header block, counted from the
    #: connection's start or the request's first byte (nginx: ``client_header_timeout``).
    header_timeout: float = 60.0
    #: Seconds a client may go without sending any of a request body we are ready to read
    #: (nginx: ``client_body_timeout``).
    body_timeout: float = 60.0
    #: Seconds a client may go without reading any of a response we are sending (nginx: ``send_timeout``).
    send_timeout: float = 60.0
    # --- idle and surplus connections (issue 15, slow and abusive clients) ---
    #: Seconds a kept-alive connection may sit idle between requests before it is closed
    #: (nginx: ``keepalive_timeout``).
    keepalive_timeout: float = 30.0
    #: Connections one worker keeps open at once (nginx: ``worker_connections``). A connection beyond it
    #: closes the connection idle longest between requests, if any; else it is answered 503 SlowDown.
    max_connections: int = 1024
    # --- in-flight uploads (core/inflight.py, core/receive.py) ---
    #: Seconds one upload's body (a PUT, a part, a POST or FormPost file, a PAR write) may take in all,
    #: however steadily it comes: past it the upload is refused (RequestTimeout) and nothing is stored, so
    #: no client holds a write, and the admission it got when it started, open for ever. 0: no limit. It also
    #: bounds when the garbage collector may remove an unfinished write (see orphan_grace); with 0, that
    #: is after abandoned_upload_age (never when 0 too).
    max_upload_seconds: float = 6 * 3600.0
    #: One of :data:`LOG_LEVEL_NAMES` (uvicorn's names; ``trace`` adds its protocol-level lines).
    log_level: str = "info"
    #: Log one line per request (off by default: it costs throughput). Link secrets (signatures, tokens,
    #: minted link ids, in a URL or the management API's paths and ``link_id``) are redacted from it, as
    #: from every log line.
    access_log: bool = False
    # --- pre-authenticated requests (core/par/, par/) ---------------------------------------------
    #: Longest lifetime (seconds) a PAR may have, from its creation, enforced at creation and at every use;
    #: 0: no limit (OCI's rule: a PAR's expiry is required but unbounded; it stays revocable).
    max_par_lifetime: int = 0
    #: Most objects one ``?format=zip`` archive of a PAR's scope may hold.
    par_zip_max_entries: int = 10000
    #: Most bytes of content one ``?format=zip`` archive of a PAR's scope may hold.
    par_zip_max_bytes: int = 50 * 1024**3
    #: Most multipart uploads one PAR may have open (started, neither committed nor aborted) at once.
    par_max_open_uploads: int = 100
    #: Most usable PARs (not deleted, expired or used up) one user may have at once; beyond: 400.
    par_max_per_user: int = 10000
    #: Reverse proxies (addresses or CIDR ranges, separated by spaces or commas) whose ``X-Forwarded-For``
    #: and ``X-Forwarded-Proto`` are believed; empty (the default): none, every client is its TCP peer.
    #: Client addresses feed PAR ``allowedIpRange``, TempURL ``temp_url_ip_range``, ``aws:SourceIp``, the
    #: audit trail, access logs, metrics' loopback rule and sign-in throttling: list only your own proxies.
    trusted_proxies: str = ""
    # --- Encryption at rest (satchel/core/sse.py) ---
    #: Accept SSE-C keys over plain HTTP. AWS refuses them (the key would cross the network in clear), and so
    #: does Satchel by default: a request is secure when Satchel serves TLS itself, or when a proxy listed in
    #: ``trusted_proxies`` says ``X-Forwarded-Proto: https``. Set only when a TLS proxy you do not list fronts
    #: Satchel on a private network.
    sse_c_allow_http: bool = False
    # --- Swift API (satchel/swift/) ---
    #: Seconds a TempAuth token (``GET /auth/v1.0``) lives; Swift's tempauth default is one day.
    swift_token_lifetime: int = 86400

    # --- operations: logs, metrics, TLS, lifecycle, retention (issue 13) ---
    #: ``text`` lines, or ``json``: one JSON object per line (access lines carry request id, principal,
    #: operation, bucket, status, bytes and duration), secrets redacted either way.
    log_format: str = "text"
    #: Bearer token that non-loopback clients must send to read ``/_satchel/metrics``; unset: loopback only.
    #: Set it in the TOML file or the environment rather than as a flag, which ``ps`` shows.
    metrics_token: str | None = None
    #: PEM certificate chain: serve HTTPS (with ``tls_key``); re-read on SIGHUP.
    tls_cert: Path | None = None
    #: PEM private key of ``tls_cert``.
    tls_key: Path | None = None
    #: Seconds in-flight requests get to finish on SIGTERM before their connections are closed.
    shutdown_timeout: float = 30.0
    #: Seconds between background garbage collection passes (dead and orphan blobs, abandoned uploads).
    gc_interval: float = 300.0
    # --- event-loop lag probe (satchel/looplag.py; issue 14's benchmark) ---
    #: Seconds between two wake-ups of each worker's event-loop lag probe, whose lateness goes to the
    #: ``satchel_event_loop_lag_seconds`` histogram (a loop blocked by a slow call makes every request
    #: wait); 0: no probe.
    event_loop_lag_interval: float = 0.0
    #: Seconds after which an unfinished multipart upload is aborted by the garbage collector; 0: never.
    abandoned_upload_age: int = 7 * 86400
    #: Days audit events are kept (fractions allowed), pruned in the background every ``gc_interval``;
    #: 0 keeps them forever. Export them first with ``satchel audit export``.
    audit_retention_days: float = 0

    # --- bucket lifecycle (core/lifecycle.py, core/lifecycle_worker.py) ---
    #: Seconds between passes of the lifecycle worker (expirations, noncurrent versions, aborted uploads).
    lifecycle_interval: float = 3600.0
    #: Seconds in a lifecycle "day" (rule Days and the midnight they round up to). Only tests shorten it.
    lifecycle_day: float = 86400.0

    # --- web console (``/_satchel/console/``, share pages ``/s/{id}``) ---
    #: Seconds without a request after which a console session ends.
    console_session_idle: int = 1800
    #: Seconds after sign-in after which a console session ends, whatever happens.
    console_session_lifetime: int = 43200
    #: Failed sign-ins (per user name, and per client address times four) or share-page passphrases within
    #: ``console_throttle_window`` seconds before further tries are refused for ``console_lockout`` seconds.
    console_max_failures: int = 5
    #: Seconds over which failed console sign-ins and share-page passphrases are counted.
    console_throttle_window: int = 900
    #: Seconds further tries are refused once ``console_max_failures`` is reached.
    console_lockout: int = 300

    # --- link notifications (webhooks: core/webhooks.py, webhooks/delivery.py) ---
    #: Webhook deliveries waiting to be sent, every bucket together; when the queue is full new ones are dropped
    #: (counted in ``satchel_webhook_dropped_total``).
    webhook_queue_max: int = 10000
    #: Of those, at most this many for the webhooks set by the users of one account (a deleted user's count for
    #: its bucket's account): an account admin making many users, each with a share, fills only its account's.
    #: Keep ``webhook_queue_max`` above this times the accounts expected to be busy at once; beyond either
    #: bound the newest notifications are dropped.
    webhook_queue_max_per_account: int = 5000
    #: Of those, at most this many for the webhooks one user set (a bucket's, or a mint call's): whoever's
    #: receivers are down, however many buckets or links they made, fills only their own share; refused uses
    #: take at most half of it, so refusals never crowd out the notifications of allowed uses.
    webhook_queue_max_per_user: int = 1000
    #: Failed (dead) deliveries kept per bucket for its admins, the bucket's oldest removed first.
    webhook_dead_max_per_bucket: int = 1000
    #: Deliveries being sent at once to one webhook, by the whole node: a receiver that never answers holds
    #: only these of the sending slots, the others keep delivering everyone else's.
    webhook_max_inflight_per_endpoint: int = 2
    #: Deliveries being sent at once to all the webhooks one user set, by the whole node (each worker has 16
    #: sending slots): however many buckets with dead receivers a user makes, others' deliveries find a slot.
    webhook_max_inflight_per_user: int = 8
    #: Webhooks one user may have set through mint calls (kept until every link of the call expired or was
    #: revoked); beyond, a mint call with a webhook is refused with 409.
    webhook_max_per_user: int = 1000
    #: Seconds a webhook receiver has to accept the connection and answer one POST's status line.
    webhook_timeout: float = 5.0
    #: Tries of one delivery before it is dead (listed by ``GET .../webhook/deliveries?state=dead``).
    webhook_max_attempts: int = 8
    #: Seconds after its event after which an undelivered notification is dead, whatever its tries.
    webhook_max_age: float = 86400.0
    #: Seconds before a delivery's first retry; each next one doubles, up to ``webhook_retry_max_delay``,
    #: and waits between half and all of that (jitter).
    webhook_retry_delay: float = 2.0
    #: The longest wait between two tries of one delivery, in seconds.
    webhook_retry_max_delay: float = 600.0
    #: Seconds between two looks at an empty delivery queue, by each worker.
    webhook_poll_interval: float = 1.0
    #: Let webhook URLs reach loopback, private, link-local and other non-public addresses (checked after DNS
    #: resolution): off, a bucket owner could make the server probe its own network.
    webhook_allow_private: bool = False
    # --- blobs in an upstream S3 cluster (blobs/s3.py) ---
    #: Where blobs live: unset, ``data_dir/blobs`` on this machine; ``s3://bucket/prefix``, objects in an
    #: existing bucket of an S3-compatible cluster (endpoint and keys below).
    blobs_url: str | None = None
    #: The upstream S3 endpoint (``https://s3.example:443``); unset: AWS's for ``blobs_region``.
    blobs_endpoint_url: str | None = None
    #: The upstream's region (what its SigV4 scopes name).
    blobs_region: str = "us-east-1"
    #: Access key id for the upstream bucket; unset: botocore's usual sources (AWS_* variables, profiles).
    blobs_access_key_id: str | None = None
    #: Secret key for the upstream bucket (masked by ``satchel config show``, never logged).
    blobs_secret_access_key: str | None = None
    #: Blobs at least this large go upstream as a multipart upload of parts this size (at least 5 MiB);
    #: an upload buffers up to two parts.
    blobs_part_size: int = 16 * 1024 * 1024
    # The upstream wait bound: no client waits on one upstream call longer than
    # blobs_attempts x (blobs_connect_timeout + blobs_read_timeout) + 1 s before its 503 SlowDown. The
    # defaults make that 3 x (2 + 10) + 1 = 37 s, well under the 60 s after which botocore, boto3 and the
    # aws cli give up on a read (they would then see a timeout, not the 503 they retry); the 23 s left
    # cover PostgreSQL's own bound (postgres_timeout) and the request's other work. 2 s is ample for a TCP
    # connect inside a data centre; 10 s per answer or per 256 KiB read is far above a healthy S3
    # engine's latency (and slow operations such as CompleteMultipartUpload send keep-alive bytes).
    #: Seconds to connect to the upstream S3 endpoint, per attempt.
    blobs_connect_timeout: float = 2.0
    #: Seconds to wait for each upstream answer or read of a streamed body, per attempt.
    blobs_read_timeout: float = 10.0
    #: Tries of one upstream request in all (connection errors, timeouts, 5xx) before a client gets 503
    #: SlowDown. No client waits on one upstream request longer than attempts x (connect + read timeout) + 1 s
    #: (37 s with the defaults: keep it under clients' 60 s).
    blobs_attempts: int = 3
    #: Upstream calls running at once per worker (its pool's threads). A download holds a thread only
    #: while it reads one 256 KiB chunk, so many more than this stream at once, taking turns.
    blobs_threads: int = 16
    #: Seconds an upstream blob outlives the metadata that referenced it: reads that started before a
    #: DELETE or overwrite finish if they take less than this (0: delete at once, and then every GET of a
    #: multipart object checks each of its parts upstream before its first byte).
    blobs_delete_delay: float = 900.0

    def __post_init__(self) -> None:
        # Zero or less would refuse every request or close every connection at once.
        for name in POSITIVE:
            if getattr(self, name) <= 0:
                raise SettingError(name, f"must be positive, not {getattr(self, name)}")
        for name in NOT_NEGATIVE:
            if getattr(self, name) < 0:
                raise SettingError(name, f"must be 0 or more, not {getattr(self, name)}")
        for name, accepted in CHOICES.items():
            value = getattr(self, name)
            if str(value).lower() not in accepted:
                raise SettingError(name, f"must be one of {', '.join(accepted)}, not {value!r}")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise SettingError("tls_cert" if self.tls_cert is None else "tls_key",
                               "must be set together with " + ("tls_key" if self.tls_cert is None else "tls_cert"))

        try:
            allowed_digests(self.tempurl_digests)
        except ValueError as exc:
            raise SettingError("tempurl_digests", str(exc)) from None

        _check_blob_settings(self)
        try:
            self.trusted_proxy_list  # noqa: B018 - parsed for its error
        except ValueError as exc:
            raise SettingError("trusted_proxies", str(exc)) from None

    @property
    def trusted_proxy_list(self) -> list[str]:
        """``trusted_proxies`` as uvicorn's ``forwarded_allow_ips`` (each an address or network)."""
        found = []
        for item in self.trusted_proxies.replace(",", " ").split():
            try:
                found.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                raise ValueError(f"{item!r} is no IP address or CIDR range") from None
        return found

    @property
    def master_key_path(self) -> Path:
        """Where this node's master key is: ``master_key_file``, else ``data_dir/master.key``."""
        return self.master_key_file if self.master_key_file is not None else self.data_dir / "master.key"

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert is not None else "http"

    @property
    def tempurl_allowed_digests(self) -> frozenset[str]:
        return allowed_digests(self.tempurl_digests)

    @property
    def endpoint(self) -> str:
        return self.public_url or f"{self.scheme}://{self.host}:{self.port}"

    def to_env(self) -> dict[str, str]:
        """Serialise for worker processes, which rebuild the same settings from the environment."""
        return {"SATCHEL_SETTINGS_JSON": json.dumps({k: str(v) if isinstance(v, Path) else v
                                                     for k, v in dataclasses.asdict(self).items()})}


def _check_blob_settings(settings: Settings) -> None:
    """The upstream blob store's settings (``blobs/s3.py``)."""
    from satchel.blobs.s3upstream import Location  # here: satchel.blobs imports this module

    if settings.blobs_url is not None:
        try:
            Location.parse(settings.blobs_url)
        except ValueError as exc:
            raise SettingError("blobs_url", f"must be s3://bucket or s3://bucket/prefix: {exc}") from None
    if (settings.blobs_access_key_id is None) != (settings.blobs_secret_access_key is None):
        raise SettingError("blobs_access_key_id" if settings.blobs_access_key_id is None else "blobs_secret_access_key",
                           "must be set together with the other upstream key (or neither)")
    if settings.blobs_part_size < 5 * 1024 * 1024:
        raise SettingError("blobs_part_size", f"must be at least 5 MiB (5242880), not {settings.blobs_part_size}")
    for name in ("blobs_connect_timeout", "blobs_read_timeout", "blobs_attempts", "blobs_threads"):
        if getattr(settings, name) <= 0:
            raise SettingError(name, f"must be positive, not {getattr(settings, name)}")
    if settings.blobs_delete_delay < 0:
        raise SettingError("blobs_delete_delay", f"must be 0 or more, not {settings.blobs_delete_delay}")


def _coerce(name: str, field_type: Any, value: Any) -> Any:
    """``value`` (from TOML, an environment variable or a flag) as the setting's type, or a SettingError
    saying what the setting accepts."""
    kind = str(field_type)
    if value is None or (value == "" and "None" in kind):
        return None
    try:
        if "Path" in kind:
            return Path(value)
        if kind.startswith("int"):
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if kind.startswith("float"):
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            return _BOOL_WORDS[str(value).strip().lower()]
    except (ValueError, TypeError, KeyError):
        accepted = {"int": "a whole number", "float": "a number", "bool": "true or false"}
        raise SettingError(name, f"must be {accepted[kind.split(' ')[0]]}, not {value!r}") from None
    return str(value)


def load_settings(config_file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Build settings from every source; ``overrides`` (CLI flags) win, None meaning "not given"."""
    return load_settings_with_sources(config_file, **overrides)[0]


def load_settings_with_sources(config_file: str | os.PathLike[str] | None = None,
                               **overrides: Any) -> tuple[Settings, dict[str, str]]:
    """The settings and, for each, where its value came from: ``default``, ``file PATH``,
    ``env SATCHEL_NAME`` or ``flag``."""
    known = {f.name: f for f in fields(Settings)}
    if "SATCHEL_SETTINGS_JSON" in os.environ and config_file is None and not overrides:
        raw = json.loads(os.environ["SATCHEL_SETTINGS_JSON"])
        settings = Settings(**{n: _coerce(n, f.type, raw[n]) for n, f in known.items() if n in raw})
        return settings, {name: "serve" for name in known}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    config_file = config_file or os.environ.get("SATCHEL_CONFIG")
    if config_file:
        with open(config_file, "rb") as fh:
            from_file = tomllib.load(fh)
        values.update(from_file)
        sources.update(dict.fromkeys(from_file, f"file {config_file}"))
    for name in known:
        env = os.environ.get(f"SATCHEL_{name.upper()}")
        if env is not None:
            values[name], sources[name] = env, f"env SATCHEL_{name.upper()}"
    for name, value in overrides.items():
        if value is not None:
            values[name], sources[name] = value, "flag"
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(sorted(known))})")
    settings = Settings(**{k: _coerce(k, known[k].type, v) for k, v in values.items()})
    return settings, {name: sources.get(name, "default") for name in known}


def setting_docs() -> dict[str, str]:
    """Each setting's documentation: the ``#:`` comment lines above its field in :class:`Settings`
    (read from this module's source, so the README table and ``--help`` say what the code says)."""
    import inspect

    docs: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(Settings).splitlines():
        text = line.strip()
        if text.startswith("#:"):
            pending.append(text[2:].strip())
            continue
        name = text.split(":", 1)[0].strip()
        if pending and name.isidentifier() and ":" in text:
            docs[name] = " ".join(pending)
        if not text.startswith("#"):
            pending = []
    return docs


def flag(name: str) -> str:
    """The command-line flag of a setting (``satchel serve``; ``--data-dir`` is every command's)."""
    option = "--" + name.replace("_", "-")
    kind = str({f.name: f.type for f in fields(Settings)}[name])
    return f"{option}/--no-{option[2:]}" if kind == "bool" else option


def show_value(name: str, value: Any) -> str:
    """A setting's value as ``satchel config show`` and the README print it, a secret masked."""
    if value is None:
        return "unset"
    if is_secret(name):
        return "********"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def markdown_table() -> str:
    """The README's table of every setting, generated from :class:`Settings` (a test keeps them equal)."""
    docs = setting_docs()
    lines = ["| flag | variable | TOML key | default | meaning |", "|---|---|---|---|---|"]
    for f in fields(Settings):
        meaning = docs.get(f.name, "").replace("``", "`").replace("|", "\\|")
        if f.name in CHOICES:
            meaning += f" One of: {', '.join(CHOICES[f.name])}."
        lines.append(f"| `{flag(f.name)}` | `SATCHEL_{f.name.upper()}` | `{f.name}` | "
                     f"`{show_value(f.name, f.default)}` | {meaning} |")
    return "\n".join(lines)
