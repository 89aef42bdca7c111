"""A throwaway single-node Ceph cluster with radosgw, for the benchmark's ``rgw`` column.

Run as a script, this module is the *supervisor* the harness starts (``Rgw`` in bench/servers.py):

    python bench/rgw.py --dir DIR --mon-v2 P --mon-v1 P --port P      # keys in BENCH_RGW_ACCESS/SECRET_KEY

It bootstraps a cluster in DIR (one monitor, one bluestore OSD on a sparse file, one radosgw; no mgr,
which RGW does not need and which would add ~300 MB), creates the S3 user, writes ``DIR/ready`` and
then waits. The three daemons run in the foreground (``-f``) as its children, so the harness measures
RSS and CPU over exactly this process tree: the supervisor (a bare Python waiting in ``sleep``) plus
``ceph-mon``, ``ceph-osd`` and ``radosgw``. It stays in the process group the harness gave it, so the
harness's group kill reaches every daemon whatever happens; an orderly stop goes through
:func:`stop_daemons`. It stops the cluster and exits when it gets SIGTERM/SIGINT/SIGHUP, when any
daemon exits (the harness then sees the server down) and when the harness itself is gone (its parent
changed), so no Ceph daemon outlives a run.

Everything the cluster writes is inside DIR: ceph.conf, the keyring, run dir (pid files, admin
sockets), logs, crash dumps, the monitor store and the OSD with its block file. Nothing reads or
writes /etc/ceph or /var/lib/ceph: every command gets ``-c DIR/ceph.conf``, and the conf names every
path. The harness removes DIR with the rest of its temp dir.

Standard library only: the harness runs it with ``python -I -S``, without the venv's packages, which
keeps the supervisor's share of the measured RSS near a bare interpreter's (~15 MiB).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

#: The daemons' entity names, in start order, and the program each runs.
MON = "mon.a"
OSD = "osd.0"
RGW = "client.rgw.gw"
PROGRAMS = {MON: "ceph-mon", OSD: "ceph-osd", RGW: "radosgw"}
#: Sparse: only what is written takes disk space (the benchmark writes ~3-4 GiB; deleted objects wait
#: for RGW's garbage collector, hours away, so their space stays taken until the run removes DIR).
BLOCK_BYTES = 20 * 1024**3
#: The smallest value Ceph accepts (its default is 4 GiB): a small node's setting.
OSD_MEMORY_TARGET = 939524096
#: How long each bootstrap command and the whole start may take (a busy 2-core machine needs ~20 s).
COMMAND_TIMEOUT = 90.0
START_TIMEOUT = 150.0
STOP_TIMEOUT = 20.0
ACCESS_ENV, SECRET_ENV = "BENCH_RGW_ACCESS_KEY", "BENCH_RGW_SECRET_KEY"
USER = "bench"
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


class Stopped(Exception):
    """Raised by the signal handler: unwind whatever bootstrap step runs, then stop the daemons."""


class Cluster:
    """Paths and settings of one cluster in ``root``; used by the supervisor and by the harness."""

    def __init__(self, root: Path, mon_v2: int = 0, mon_v1: int = 0, port: int = 0) -> None:
        self.root = root
        self.mon_v2, self.mon_v1, self.port = mon_v2, mon_v1, port
        self.conf = root / "ceph.conf"
        self.keyring = root / "keyring"
        self.run_dir = root / "run"
        self.log_dir = root / "log"
        self.ready_file = root / "ready"

    @property
    def mon_addrs(self) -> str:
        return f"[v2:127.0.0.1:{self.mon_v2},v1:127.0.0.1:{self.mon_v1}]"

    def pid_file(self, entity: str) -> Path:
        return self.run_dir / f"ceph-{entity}.pid"

    def log_file(self, entity: str) -> Path:
        return self.log_dir / f"ceph-{entity}.log"

    def conf_text(self, fsid: str) -> str:
        d = self.root
        return f"""[global]
fsid = {fsid}
mon_host = {self.mon_addrs}
public_network = 127.0.0.0/8
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = {self.keyring}
run_dir = {self.run_dir}
log_file = {self.log_dir}/$cluster-$name.log
mon_cluster_log_file = {self.log_dir}/$cluster.$channel.log
crash_dir = {d}/crash
mon_data = {d}/mon/$cluster-$id
osd_data = {d}/osd/$cluster-$id
mgr_data = {d}/mgr/$cluster-$id
mds_data = {d}/mds/$cluster-$id
rgw_data = {d}/rgw/$cluster-$id
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0

[mon]
pid_file = {self.run_dir}/$cluster-$name.pid

[osd]
pid_file = {self.run_dir}/$cluster-$name.pid
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
osd_objectstore = bluestore
bluestore_block_create = true
bluestore_block_size = {BLOCK_BYTES}
osd_memory_target = {OSD_MEMORY_TARGET}

[{RGW}]
pid_file = {self.run_dir}/$cluster-$name.pid
admin_socket = {self.run_dir}/$cluster-$name.asok
# tcp_nodelay: beast sends a response's headers and body in two writes, and without it Nagle holds
# the body until the client's delayed ACK (40 ms): 360 req/s at p50 44 ms for 1 KiB GETs instead of
# ~3,500. Ceph documents the option for this; an operator serving small objects sets it.
rgw_frontends = beast endpoint=127.0.0.1:{self.port} tcp_nodelay=1
rgw_enable_apis = s3, admin
# Path-style requests name 127.0.0.1 as the host; with it as the DNS name the bucket is always the
# first path segment, never a virtual-host subdomain.
rgw_dns_name = 127.0.0.1
"""


# --- stopping, from the supervisor or from the harness ------------------------------------------------
def daemon_pid(cluster: Cluster, entity: str) -> int | None:
    """The pid in the daemon's pid file, if that process is alive, is the expected program and runs
    with this cluster's conf (a pid file left behind must never make us signal a stranger)."""
    try:
        pid = int(cluster.pid_file(entity).read_text().strip())
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    if not argv or os.path.basename(argv[0]).decode(errors="replace") != PROGRAMS[entity]:
        return None
    return pid if os.fsencode(str(cluster.conf)) in argv else None


def stop_daemons(cluster: Cluster, timeout: float = STOP_TIMEOUT) -> list[str]:
    """SIGTERM the daemons by their pid files, radosgw first and the monitor last (each leaves
    cleanly while the ones it talks to are still up); SIGKILL what is left after ``timeout``.
    Returns the entities that had to be killed."""
    killed = []
    for entity in (RGW, OSD, MON):
        pid = daemon_pid(cluster, entity)
        if pid is None:
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while daemon_pid(cluster, entity) == pid and alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if daemon_pid(cluster, entity) == pid and alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            killed.append(entity)
    return killed


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (our unreaped child counts as gone).

    The harness's one liveness check (``bench.procs`` re-exports it): it lives here because this
    module runs as a bare script (``python -I -S``) that cannot import the ``bench`` package."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2 :].split()[0] != b"Z"


# --- bootstrap ---------------------------------------------------------------------------------------
class Supervisor:
    def __init__(self, cluster: Cluster, access_key: str, secret_key: str) -> None:
        self.cluster = cluster
        self.access_key = access_key
        self.secret_key = secret_key
        self.daemons: dict[str, subprocess.Popen[bytes]] = {}
        self.began = time.monotonic()
        self.parent = os.getppid()

    def say(self, what: str) -> None:
        print(f"rgw: {time.monotonic() - self.began:5.1f} s  {what}", flush=True)

    def run(self, *argv: str) -> str:
        """A bootstrap command, bounded in time; its output is the error when it fails."""
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"{' '.join(argv[:3])} ...: no answer after {COMMAND_TIMEOUT:.0f} s") from exc
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:3])} ... exited {done.returncode}: "
                               f"{(done.stderr or done.stdout).strip()[-800:]}")
        return done.stdout

    def start_daemon(self, entity: str, *args: str) -> None:
        # A stop signal waits until the daemon is recorded: a stop must never miss one that just
        # started. (Not by blocking the signals: a child inherits the mask, and the daemons would
        # then ignore SIGTERM.)
        _stop.deferred = True
        try:
            with open(self.cluster.log_dir / f"{PROGRAMS[entity]}.stdout", "ab") as out:
                # Same process group as the supervisor (the harness's group kill must reach them).
                proc = subprocess.Popen([PROGRAMS[entity], "-f", "-c", str(self.cluster.conf), *args],
                                        stdin=subprocess.DEVNULL, stdout=out, stderr=out)
            self.daemons[entity] = proc
            # radosgw writes no pid file in the foreground, and the others only once they have read
            # their conf: write each now (they rewrite the same pid), so a stop finds every daemon.
            pid_file = self.cluster.pid_file(entity)
            tmp = pid_file.with_suffix(".tmp")
            tmp.write_text(f"{proc.pid}\n")
            tmp.rename(pid_file)
        finally:
            _stop.deferred = False
        if _stop.pending:
            raise Stopped()
        self.say(f"started {PROGRAMS[entity]} (pid {proc.pid})")

    def check(self) -> None:
        """Raise when a daemon has exited, or when the harness is gone (it was killed and cannot
        stop us: the cluster must not outlive it)."""
        for entity, proc in self.daemons.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{PROGRAMS[entity]} exited with status {proc.returncode}: "
                                   + _tail(self.cluster.log_file(entity)))
        if os.getppid() != self.parent:
            raise Stopped("the harness is gone")

    def bootstrap(self) -> None:
        c = self.cluster
        for sub in ("run", "log", "crash", "mon", "osd/ceph-0", "rgw"):
            (c.root / sub).mkdir(parents=True, exist_ok=True)
        fsid, osd_uuid = str(uuid.uuid4()), str(uuid.uuid4())
        c.conf.write_text(c.conf_text(fsid))
        keys = {name: self.run("ceph-authtool", "--gen-print-key").strip()
                for name in ("mon.", "client.admin", OSD, RGW)}
        caps = {
            "mon.": {"mon": "allow *"},
            "client.admin": {"mon": "allow *", "osd": "allow *", "mgr": "allow *", "mds": "allow *"},
            OSD: {"mon": "allow profile osd", "mgr": "allow profile osd", "osd": "allow *"},
            RGW: {"mon": "allow rw", "osd": "allow rwx"},
        }
        c.keyring.write_text("".join(
            f"[{name}]\n\tkey = {key}\n" + "".join(f'\tcaps {k} = "{v}"\n' for k, v in caps[name].items())
            for name, key in keys.items()))
        c.keyring.chmod(0o600)
        monmap = str(c.root / "monmap")
        self.run("monmaptool", "--create", "--fsid", fsid, "--addv", "a", c.mon_addrs, monmap)
        # The monitor's auth database starts with every key of the keyring, OSD and RGW included.
        self.run("ceph-mon", "-c", str(c.conf), "--mkfs", "-i", "a", "--monmap", monmap, "--keyring", str(c.keyring))
        self.say("monitor store created")
        self.start_daemon(MON, "-i", "a")
        # Creating the OSD's store needs no monitor; registering its id does: both at once.
        mkfs_out = c.log_dir / "ceph-osd-mkfs.stdout"
        with open(mkfs_out, "wb") as out:
            mkfs = subprocess.Popen(["ceph-osd", "-c", str(c.conf), "--no-mon-config", "--mkfs", "-i", "0",
                                     "--osd-uuid", osd_uuid], stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        try:
            osd_id = self.run("ceph", "-c", str(c.conf), "--connect-timeout", str(int(COMMAND_TIMEOUT)),
                              "osd", "new", osd_uuid, "0").strip()
            if osd_id != "0":
                raise RuntimeError(f"ceph osd new gave id {osd_id!r}, not 0")
            mkfs.wait(COMMAND_TIMEOUT)
        finally:
            if mkfs.poll() is None:
                mkfs.kill()
                mkfs.wait()
        if mkfs.returncode != 0:
            raise RuntimeError(f"ceph-osd --mkfs exited {mkfs.returncode}: {_tail(mkfs_out)}")
        self.say("OSD created")
        self.start_daemon(OSD, "-i", "0")
        # radosgw waits for the OSD by itself (its pools become writable once the OSD is up).
        self.start_daemon(RGW, "-n", RGW)
        deadline = self.began + START_TIMEOUT
        while _http_status(c.port) != 200:
            self.check()
            if time.monotonic() > deadline:
                raise RuntimeError(f"radosgw not answering after {START_TIMEOUT:.0f} s: "
                                   + _tail(c.log_file(RGW)))
            time.sleep(0.25)
        self.say("radosgw answers")
        self.run("radosgw-admin", "-c", str(c.conf), "user", "create", f"--uid={USER}", f"--display-name={USER}",
                 f"--access-key={self.access_key}", f"--secret={self.secret_key}")
        self.check()
        tmp = c.ready_file.with_suffix(".tmp")
        tmp.write_text(f"{time.monotonic() - self.began:.1f}\n")
        tmp.rename(c.ready_file)
        self.say("S3 user created; ready")

    def wait(self) -> None:
        """Until a signal, a daemon's exit or the harness's disappearance."""
        while True:
            self.check()
            time.sleep(0.5)

    def shutdown(self) -> None:
        killed = stop_daemons(self.cluster)
        if killed:
            self.say(f"killed after {STOP_TIMEOUT:.0f} s: {', '.join(killed)}")
        # Daemons that never wrote a pid file (or died before the name check could see them).
        for proc in self.daemons.values():
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        self.say("stopped")


def _http_status(port: int, timeout: float = 2.0) -> int | None:
    """Status of ``GET /`` on 127.0.0.1:``port``, over a bare socket: urllib would add ~7 MiB (http,
    email, ssl) to the supervisor's RSS, which is counted in RGW's tree."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
            head = sock.recv(64)
    except OSError:
        return None
    parts = head.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        return None
    return int(parts[1])


def _tail(path: Path, lines: int = 6) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return f"(no {path.name})"
    return " | ".join(line.strip() for line in text[-lines:])[-800:]


class _StopState:
    #: While set, a stop signal is only noted in ``pending``, for the code that set it to act on.
    deferred = False
    pending = False


_stop = _StopState()


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    if _stop.deferred:
        _stop.pending = True
        return
    raise Stopped()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Bootstrap and supervise a single-node Ceph RGW in DIR.")
    p.add_argument("--dir", type=Path, required=True)
    p.add_argument("--mon-v2", type=int, required=True)
    p.add_argument("--mon-v1", type=int, required=True)
    p.add_argument("--port", type=int, required=True, help="radosgw's S3 port on 127.0.0.1")
    args = p.parse_args(argv)
    access_key, secret_key = os.environ.get(ACCESS_ENV, ""), os.environ.get(SECRET_ENV, "")
    if not access_key or not secret_key:
        p.error(f"{ACCESS_ENV} and {SECRET_ENV} must be set")
    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise_stopped)
    sup = Supervisor(Cluster(args.dir.resolve(), args.mon_v2, args.mon_v1, args.port), access_key, secret_key)
    status = 0
    try:
        try:
            sup.bootstrap()
            sup.wait()
        except Stopped as why:
            sup.say(f"stopping: {str(why) or 'asked to'}")
        except Exception as exc:
            sup.say(f"failed: {exc}")
            status = 1
        finally:
            for sig in STOP_SIGNALS:  # a second signal must not cut the teardown short
                signal.signal(sig, signal.SIG_IGN)
            sup.shutdown()
    except Stopped:  # a signal between the handlers' reset and its first line
        sup.shutdown()
    return status


if __name__ == "__main__":
    sys.exit(main())
