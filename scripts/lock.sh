#!/usr/bin/env bash
# Regenerates requirements.lock: exact versions of the runtime, the test tools, the bench extra and the
# build backend, resolved by uv against PyPI alone (uv reads no pip.conf, so a pin can never name a release
# that only a local mirror has). Pins already in the lock are kept while pyproject.toml still allows them;
# UPGRADE=1 moves every pin to the newest release.
#
#   make lock               # after editing a dependency in pyproject.toml
#   make lock UPGRADE=1     # take the newest releases (then run `make test` before committing the lock)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

UV_VERSION=0.13.8
TOOLS=.venv-lock
PYTHON=${PYTHON:-python3}
if ! "$TOOLS/bin/uv" --version 2>/dev/null | grep -q "^uv $UV_VERSION\b"; then
    rm -rf "$TOOLS"
    "$PYTHON" -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install --quiet "uv==$UV_VERSION"
fi

upgrade=()
[ -n "${UPGRADE:-}" ] && upgrade=(--upgrade)
# The build backend is locked too: the project is installed with --no-build-isolation, so a new
# setuptools release cannot change an install either.
"$TOOLS/bin/python" -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))' \
    | "$TOOLS/bin/uv" pip compile --quiet pyproject.toml - --extra test --extra bench --universal --python-version 3.11 \
        --index-url https://pypi.org/simple --custom-compile-command "make lock" --output-file requirements.lock "${upgrade[@]}"
