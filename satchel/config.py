"""Typed settings, loaded once: defaults < TOML file (``--config``) < ``SATCHEL_*`` variables < CLI flags.

Every setting is listed in the README's configuration table; the names here are the TOML keys and,
upper-cased with a ``SATCHEL_`` prefix, the environment variables.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

#: The log levels uvicorn knows, most verbose last.
LOG_LEVEL_NAMES = ("critical", "error", "warning", "info", "debug", "trace")


@dataclass(frozen=True)
class Settings:
    #: Address to bind; loopback by default so a fresh install is never exposed by accident.
    host: str = "127.0.0.1"
    port: int = 9000
    #: Where SQLite metadata, blobs and the node master key live.
    data_dir: Path = Path("./satchel-data")
    #: Worker processes; 1 keeps memory low, the number of cores maximises throughput.
    workers: int = 1
    #: Region that SigV4 credential scopes must name.
    region: str = "us-east-1"
    #: Enables virtual-host style requests (``bucket.DOMAIN``) when set.
    domain: str | None = None
    #: Base URL put into links Satchel mints (reverse proxy / custom domain); default: the bind address.
    public_url: str | None = None
    #: Server-wide ceiling on a link's lifetime, enforced at use time (seconds).
    max_link_lifetime: int = 604800
    #: Metadata store URL: ``sqlite`` (file in data_dir) or ``postgresql://...``.
    metadata_url: str = "sqlite"
    #: Largest single PUT / POST / part in bytes (S3: 5 GiB).
    max_put_size: int = 5 * 1024**3
    #: Seconds a crash-orphaned blob must age before the garbage collector may delete it.
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
    #: One of :data:`LOG_LEVEL_NAMES` (uvicorn's names; ``trace`` adds its protocol-level lines).
    log_level: str = "info"
    #: Log one line per request (off by default: it costs throughput).
    access_log: bool = False
    # --- web console (``/_satchel/console/``, share pages ``/s/{id}``) ---
    #: A console session ends after this many seconds without a request...
    console_session_idle: int = 1800
    #: ...and this many seconds after sign-in, whatever happens.
    console_session_lifetime: int = 43200
    #: Failed sign-ins (per user name, and per client address times four) or share-page passphrases
    #: within ``console_throttle_window`` seconds before further tries are refused...
    console_max_failures: int = 5
    console_throttle_window: int = 900
    #: ...for this many seconds.
    console_lockout: int = 300

    def __post_init__(self) -> None:
        # Zero or less would refuse every request or close every connection at once.
        for name in ("max_header_bytes", "header_timeout", "body_timeout", "send_timeout", "console_session_idle",
                     "console_session_lifetime", "console_max_failures", "console_throttle_window"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)}")
        if self.log_level.lower() not in LOG_LEVEL_NAMES:
            raise ValueError(f"log_level must be one of {', '.join(LOG_LEVEL_NAMES)}, not {self.log_level!r}")

    @property
    def endpoint(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    def to_env(self) -> dict[str, str]:
        """Serialise for worker processes, which rebuild the same settings from the environment."""
        return {"SATCHEL_SETTINGS_JSON": json.dumps({k: str(v) if isinstance(v, Path) else v
                                                     for k, v in dataclasses.asdict(self).items()})}


def _coerce(field_type: Any, value: Any) -> Any:
    kind = str(field_type)
    if value is None:
        return None
    if "Path" in kind:
        return Path(value)
    if kind.startswith("int"):
        return int(value)
    if kind.startswith("float"):
        return float(value)
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes", "on"}
    return str(value)


def load_settings(config_file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Build settings from every source; ``overrides`` (CLI flags) win, None meaning "not given"."""
    if "SATCHEL_SETTINGS_JSON" in os.environ and config_file is None and not overrides:
        raw = json.loads(os.environ["SATCHEL_SETTINGS_JSON"])
        return Settings(**{f.name: _coerce(f.type, raw[f.name]) for f in fields(Settings) if f.name in raw})
    values: dict[str, Any] = {}
    config_file = config_file or os.environ.get("SATCHEL_CONFIG")
    if config_file:
        with open(config_file, "rb") as fh:
            values.update(tomllib.load(fh))
    for f in fields(Settings):
        env = os.environ.get(f"SATCHEL_{f.name.upper()}")
        if env is not None:
            values[f.name] = env
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name: f for f in fields(Settings)}
    unknown = set(values) - set(known)
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
    return Settings(**{k: _coerce(known[k].type, v) for k, v in values.items()})
