"""The servers one run compares, started on loopback with the same data.

Each :class:`Server` knows how to start and stop itself, which process tree to measure (none for an
external endpoint), and how a client reaches an object: a SigV4 presigned URL for S3 servers, the plain
static URL for nginx. A server that fails to start keeps its error in :attr:`Server.failure`; the run
reports "failed to start" for it and goes on with the others.
"""

from __future__ import annotations

import abc
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench import looplag, procs, rgw
from bench.seaweedfs import Weed, free_ports

REGION = "us-east-1"
BUCKET = "bench"
#: Long enough for the slowest full run; well under SigV4's 7-day ceiling.
PRESIGN_EXPIRES = 24 * 3600
STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    return free_ports(1)[0]


def venv_bin(name: str) -> str:
    """A console script beside the interpreter running the harness (the project venv)."""
    return str(Path(sys.executable).parent / name)


def _http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None


class Server(abc.ABC):
    """One endpoint under test. ``s3`` is False for nginx, which only serves static reads."""

    name: str
    kind: str
    s3 = True
    #: Whether the server's process tree is ours to measure (not for an external endpoint).
    local = True
    #: Left out of a run unless ``--servers`` names it (too costly to start every time).
    opt_in = False
    startup_timeout = STARTUP_TIMEOUT

    def __init__(self, name: str) -> None:
        self.name = name
        self.port = free_port()
        self.proc: subprocess.Popen[Any] | None = None
        self.failure: str | None = None
        self.access_key = "bench-" + secrets.token_hex(6)
        self.secret_key = secrets.token_urlsafe(30)
        #: Bucket holding the 1 KiB and 1 GiB objects; listing buckets are named after it.
        self.bucket = BUCKET
        self._client: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    @property
    def measured(self) -> procs.Roots | None:
        """The processes whose CPU and memory are the server's (each with its descendants)."""
        return self.pid

    @property
    def up(self) -> bool:
        return self.failure is None and (not self.local or self.pid is not None)

    @abc.abstractmethod
    def command(self) -> list[str]:
        """The argv that runs the server in the foreground."""

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def ready(self) -> bool:
        """True once the server answers HTTP."""
        return _http_status(self.url + "/") is not None

    def start(self, log_dir: Path) -> None:
        log = open(log_dir / f"{self.name}.log", "wb")  # noqa: SIM115 - the child keeps it open
        try:
            self.proc = procs.spawn(self.command(), env=self.env(), stdout=log, stderr=subprocess.STDOUT)
        except OSError as exc:
            self.failure = f"cannot run {self.command()[0]}: {exc}"
            return
        finally:
            log.close()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.failure = f"exited with status {self.proc.returncode}: " + _tail(log_dir / f"{self.name}.log")
                return
            if self.ready():
                return
            time.sleep(0.2)
        self.failure = f"not ready after {self.startup_timeout:.0f} s: " + _tail(log_dir / f"{self.name}.log")
        self.stop()

    def stop(self) -> None:
        if self.proc is not None:
            procs.stop(self.proc)

    def kill(self) -> None:
        """Kill at once (a server about to exhaust the machine's memory); it is down afterwards."""
        if self.proc is not None:
            procs.kill_now(self.proc)
            self.failure = self.failure or "killed by the harness: RSS over the guard"

    # --- how clients reach objects ---------------------------------------------------------------
    def client(self) -> Any:
        """A boto3 S3 client for this endpoint (path style, SigV4), made once: boto3 clients are
        thread-safe and slow to build."""
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _make_client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 2, "mode": "standard"},
                connect_timeout=10,
                read_timeout=120,
                max_pool_connections=16,
            ),
        )

    def get_url(self, key: str, bucket: str | None = None) -> str:
        return str(
            self.client().generate_presigned_url(
                "get_object", Params={"Bucket": bucket or self.bucket, "Key": key}, ExpiresIn=PRESIGN_EXPIRES
            )
        )

    def put_url(self, key: str, bucket: str | None = None) -> str:
        return str(
            self.client().generate_presigned_url(
                "put_object", Params={"Bucket": bucket or self.bucket, "Key": key}, ExpiresIn=PRESIGN_EXPIRES
            )
        )


def _log_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _tail(path: Path, lines: int = 4) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(line.strip() for line in text[-lines:])[-600:]


class Satchel(Server):
    kind = "satchel"

    def __init__(self, name: str, data_dir: Path, workers: int | None, access_key: str, secret_key: str) -> None:
        super().__init__(name)
        self.data_dir = data_dir
        self.workers = workers
        self.access_key = access_key
        self.secret_key = secret_key
        #: Settings of this configuration, as ``SATCHEL_*`` variables (blobs upstream, metadata URL ...).
        self.settings_env: dict[str, str] = {}

    @property
    def nodes(self) -> list[Satchel]:
        """The ``satchel serve`` processes of this column (their metrics are scraped one by one)."""
        return [self]

    def store_settings(self) -> Any:
        """Settings that open this column's metadata store from the harness (the listing's bulk load)."""
        from satchel.config import Settings

        return Settings(data_dir=self.data_dir, metadata_url=self.settings_env.get("SATCHEL_METADATA_URL", "sqlite"))

    def command(self) -> list[str]:
        cmd = [venv_bin("satchel"), "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--data-dir", str(self.data_dir)]
        if self.workers is not None:
            cmd += ["--workers", str(self.workers)]
        return cmd

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["SATCHEL_ROOT_ACCESS_KEY"] = self.access_key
        env["SATCHEL_ROOT_SECRET_KEY"] = self.secret_key
        env["SATCHEL_EVENT_LOOP_LAG_INTERVAL"] = str(looplag.INTERVAL)
        env.update(self.settings_env)
        return env

    def ready(self) -> bool:
        return _http_status(self.url + "/_satchel/health") == 200


class SeaweedFS(Server):
    """SeaweedFS's S3 gateway (Go): ``weed server`` with a master, a volume server, a filer and the S3
    gateway in one process (bench/seaweedfs.py), its data in the run's temp dir, one S3 identity."""

    kind = "seaweedfs"

    def __init__(self, name: str, root: Path) -> None:
        super().__init__(name)
        self.access_key = "SEAWEED" + secrets.token_hex(6).upper()
        self.weed = Weed(root, self.port, tuple(free_ports(9)), self.access_key, self.secret_key)

    def command(self) -> list[str]:
        return self.weed.command()

    def start(self, log_dir: Path) -> None:
        """Start; once more on ten fresh ports when one of its ten was taken meanwhile (picked when the
        run was built and bound minutes later, a port can become some connection's source port)."""
        super().start(log_dir)
        if self.failure is not None and "address already in use" in _log_text(log_dir / f"{self.name}.log"):
            print(f"bench: {self.name}: a port was taken meanwhile; once more on others", flush=True)
            self.stop()
            self.port, *others = free_ports(1 + len(self.weed.ports))
            self.weed = Weed(self.weed.root, self.port, tuple(others), self.access_key, self.secret_key)
            self.failure = None
            self._client = None
            super().start(log_dir)

    def ready(self) -> bool:
        """Once it stores an object: its S3 gateway answers before the volume server takes writes."""
        if not self.weed.answers():
            return False
        client = self.client()
        try:
            with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
                client.create_bucket(Bucket="ready-probe")
            client.put_object(Bucket="ready-probe", Key="probe", Body=b"ok")
        except Exception:
            return False
        return True

    def start_upstream(self, log_dir: Path) -> str | None:
        """Start as a Satchel's blob store, with its ``blobs`` bucket; why not, when it failed."""
        self.start(log_dir)
        if self.failure is not None:
            return f"its upstream: {self.failure}"
        try:
            self.client().create_bucket(Bucket="blobs")
        except Exception as exc:
            return f"its upstream refused a bucket: {exc}"
        return None

    def blobs_env(self) -> dict[str, str]:
        """The settings that put a Satchel's blobs in this server's ``blobs`` bucket."""
        return {"SATCHEL_BLOBS_URL": "s3://blobs/satchel", "SATCHEL_BLOBS_ENDPOINT_URL": self.url,
                "SATCHEL_BLOBS_ACCESS_KEY_ID": self.access_key, "SATCHEL_BLOBS_SECRET_ACCESS_KEY": self.secret_key}


class SatchelS3(Satchel):
    """Satchel whose blobs live in an upstream S3 cluster (``blobs_url``): its own SeaweedFS, started
    and stopped with it, so that ``satchel-s3`` ÷ ``satchel`` is what an upstream costs per request. The
    measured tree is Satchel's alone; the upstream's CPU and memory are what the ``seaweedfs`` column
    shows for the same work."""

    kind = "satchel-s3"

    def __init__(self, name: str, data_dir: Path, access_key: str, secret_key: str, upstream_root: Path) -> None:
        super().__init__(name, data_dir, None, access_key, secret_key)
        self.upstream = SeaweedFS(f"{name}-upstream", upstream_root)

    def start(self, log_dir: Path) -> None:
        self.failure = self.upstream.start_upstream(log_dir)
        if self.failure is None:
            self.settings_env.update(self.upstream.blobs_env())
            super().start(log_dir)

    def stop(self) -> None:
        super().stop()
        self.upstream.stop()


class Moto(Server):
    """moto in server mode. It does not check signatures by default, which flatters its figures."""

    kind = "moto"

    def command(self) -> list[str]:
        return [venv_bin("moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        # moto logs every request through werkzeug; that is part of what it costs, leave it on.
        env.setdefault("AWS_DEFAULT_REGION", REGION)
        return env


class Nginx(Server):
    """nginx serving the benchmark files statically with sendfile: the physical limit for reads."""

    kind = "nginx"
    s3 = False
    WORKERS = 2

    def __init__(self, name: str, www: Path, conf_dir: Path, binary: str = "nginx") -> None:
        super().__init__(name)
        self.www = www
        self.conf_dir = conf_dir
        self.binary = binary

    def _config(self) -> str:
        d = self.conf_dir
        return f"""
daemon off;
master_process on;
worker_processes {self.WORKERS};
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 65;
    default_type application/octet-stream;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        root {self.www};
        location / {{ }}
    }}
}}
"""

    def command(self) -> list[str]:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        conf = self.conf_dir / "nginx.conf"
        conf.write_text(self._config())
        return [self.binary, "-p", str(self.conf_dir), "-e", str(self.conf_dir / "error.log"), "-c", str(conf)]

    def get_url(self, key: str, bucket: str | None = None) -> str:
        return f"{self.url}/{bucket or self.bucket}/{key}"

    def put_url(self, key: str, bucket: str | None = None) -> str:
        raise RuntimeError("nginx serves static files only")


class Rgw(Server):
    """Ceph radosgw (pacific, Debian's packages), the reference S3 server, on a single-node cluster
    that bench/rgw.py bootstraps in ``root`` (inside the run's temp dir) in ~15-30 s.

    What is measured: ``pid`` is bench/rgw.py's supervisor, a bare standard-library Python (``-I
    -S``) that runs ``ceph-mon``, ``ceph-osd`` and ``radosgw`` in the foreground as its children and
    does nothing else once they are up. So the tree :mod:`bench.procs` walks from ``pid`` holds the
    three daemons an S3 request goes through (RGW, then the OSD's bluestore; the monitor keeps the
    maps), plus the supervisor's ~15 MiB, the only cost in it that an operator's cluster would not
    have (systemd would be its parent; it is in the figures, so they err high, like every RSS sum
    here). The per-process figures are in the JSON. A tree, rather than pointing ``procs`` at
    several pids, keeps every workload's measurement code as it is, and gives the harness one process
    group to kill whatever goes wrong.

    The cluster has no mgr (RGW does not need one; it would add ~300 MB) and the smallest OSD memory
    target Ceph accepts (896 MiB; its default is 4 GiB): a small node's settings, not a tuned one.
    One setting departs from Ceph's defaults for speed: beast's ``tcp_nodelay=1``, without which
    every small response waits out the client's 40 ms delayed ACK (360 instead of ~3,500 req/s).
    """

    kind = "rgw"
    opt_in = True
    startup_timeout = rgw.START_TIMEOUT + 15.0

    def __init__(self, name: str, root: Path) -> None:
        super().__init__(name)
        ports = {self.port}
        while len(ports) < 3:  # the monitor's v2 and v1 ports, distinct from RGW's
            ports.add(free_port())
        mon_v2, mon_v1 = sorted(ports - {self.port})
        self.cluster = rgw.Cluster(root, mon_v2, mon_v1, self.port)
        self.access_key = "BENCH" + secrets.token_hex(8).upper()

    def command(self) -> list[str]:
        c = self.cluster
        return [sys.executable, "-I", "-S", rgw.__file__, "--dir", str(c.root), "--mon-v2", str(c.mon_v2),
                "--mon-v1", str(c.mon_v1), "--port", str(c.port)]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env[rgw.ACCESS_ENV] = self.access_key
        env[rgw.SECRET_ENV] = self.secret_key
        return env

    def ready(self) -> bool:
        """Once the S3 user exists (the supervisor writes the file after that), not at RGW's first
        answer."""
        return self.cluster.ready_file.exists() and _http_status(self.url + "/") == 200

    def stop(self) -> None:
        """SIGTERM to the supervisor alone, which stops the daemons by their pid files, RGW first and
        the monitor last; then the same by pid files from here, for daemons a supervisor that died
        could not stop; then the group sweep every server gets."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(3 * rgw.STOP_TIMEOUT + 10)
        rgw.stop_daemons(self.cluster, timeout=5.0)
        super().stop()


class External(Server):
    """An S3 endpoint an operator runs (Ceph RGW, MinIO ...), named by BENCH_EXTRA_* variables."""

    kind = "external"
    local = False

    def __init__(self, name: str, url: str, access_key: str, secret_key: str) -> None:
        super().__init__(name)
        self._url = url.rstrip("/")
        self.access_key = access_key
        self.secret_key = secret_key
        # Someone else's server: never touch a bucket we did not create for this run.
        self.bucket = f"satchel-bench-{secrets.token_hex(4)}"

    @property
    def url(self) -> str:
        return self._url

    def command(self) -> list[str]:
        return []

    def start(self, log_dir: Path) -> None:
        if _http_status(self.url + "/", timeout=5.0) is None:
            self.failure = f"{self.url} does not answer"

    def stop(self) -> None:
        return None


def external_from_env(env: dict[str, str] | os._Environ[str] = os.environ) -> External | None:
    url = env.get("BENCH_EXTRA_URL")
    if not url:
        return None
    return External(
        env.get("BENCH_EXTRA_NAME") or "extra",
        url,
        env.get("BENCH_EXTRA_ACCESS_KEY", ""),
        env.get("BENCH_EXTRA_SECRET_KEY", ""),
    )
