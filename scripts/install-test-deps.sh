#!/usr/bin/env bash
# Installs the system tools the tests drive (rclone, curl, chromium + chromedriver, wrk and nginx
# for the benchmark harness's own test, jq and unzip for the user guide's, nginx and haproxy for deploy/'s,
# PostgreSQL's server for the PostgreSQL metadata store's) and any extra Debian package named as an argument (the
# Makefile passes python3-venv when `python3 -m venv` is unavailable, .ci/run passes make when missing).
# Idempotent: does nothing when everything is present, refreshes the package lists only when an
# install is needed and cannot be done with the lists already on the machine.
set -euo pipefail

missing=()
for tool in rclone curl wrk jq unzip; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
# nginx lives in /usr/sbin, which is not on every user's PATH.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
# The browser tests drive Debian's Chromium through its chromedriver (no browser download).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
# PostgreSQL for the PostgreSQL metadata store's tests: they initdb a private cluster of their own
# (tests/pgcluster.py); the package's system cluster is never started (policy-rc.d below).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: please install ${missing[*]} (no apt-get on this machine)" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "install-test-deps: need root or sudo to install ${missing[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# None of these is a service to run: a package that ships a daemon must not start it (nginx would
# listen on port 80). A policy-rc.d already in place (container images ship one) is left as it is.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# install-test-deps: no services while installing test tools\nexit 101\n' \
        | "${as_root[@]}" tee "$policy" >/dev/null
    "${as_root[@]}" chmod 755 "$policy"
    trap '"${as_root[@]}" rm -f "$policy"' EXIT
fi
echo "install-test-deps: installing ${missing[*]}"
if ! "${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    "${as_root[@]}" apt-get update -q
    "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
