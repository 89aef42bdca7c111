"""Install what the harness needs, so ``make bench`` works on a fresh machine.

Debian packages (nginx, wrk, curl) come from apt-get when missing; Python packages (moto with its
server extra, boto3, requests: the ``bench`` extra of pyproject.toml) go into the interpreter running
the harness, the project venv. moto is a benchmark peer, never a runtime dependency of Satchel.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys

APT_TOOLS = {"nginx": "nginx", "wrk": "wrk", "curl": "curl"}
PIP_PACKAGES = {"moto": "moto[server]>=5", "flask": "moto[server]>=5", "flask_cors": "moto[server]>=5",
                "boto3": "boto3>=1.36", "requests": "requests>=2.31"}


def _which(tool: str) -> str | None:
    # nginx lives in /usr/sbin, which is not on every user's PATH.
    return shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/usr/local/sbin:/sbin")


def ensure_tools() -> dict[str, str]:
    """Paths of the command-line tools, installing missing ones with apt-get when we may."""
    missing = sorted({pkg for tool, pkg in APT_TOOLS.items() if _which(tool) is None})
    if missing:
        apt = ["apt-get"] if os.geteuid() == 0 else ["sudo", "-n", "apt-get"]
        print(f"bench: installing {' '.join(missing)} with apt-get", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run([*apt, "update", "-q"], check=False, env=env)
        done = subprocess.run([*apt, "install", "-y", "-q", "--no-install-recommends", *missing], env=env)
        if done.returncode != 0:
            raise SystemExit(f"bench: could not install {' '.join(missing)}; install them and run again")
    paths = {}
    for tool in APT_TOOLS:
        path = _which(tool)
        if path is None:
            raise SystemExit(f"bench: {tool} is still missing")
        paths[tool] = path
    return paths


def ensure_python_packages() -> None:
    missing = sorted({spec for module, spec in PIP_PACKAGES.items() if importlib.util.find_spec(module) is None})
    if not missing:
        return
    print(f"bench: installing {' '.join(missing)} into {sys.prefix}", flush=True)
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing])
    if done.returncode != 0:
        raise SystemExit(f"bench: pip could not install {' '.join(missing)}")
    importlib.invalidate_caches()


def ensure_all() -> dict[str, str]:
    ensure_python_packages()
    return ensure_tools()
