#!/usr/bin/env bash
# Installs the benchmark tools (wrk, nginx, h2load) from Debian packages if missing.
# Idempotent: does nothing when both are already on PATH.
set -euo pipefail

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
# h2load, for the HTTP/2 benchmark (bench/h2.ts).
command -v h2load >/dev/null 2>&1 || missing+=(nghttp2-client)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "bench/setup.sh: wrk, nginx, h2load and taskset already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

echo "bench/setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian package starts a system nginx on port 80; the bench runs its own
# instances with private configs, so stop the system one if it came up.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
  $SUDO systemctl stop nginx || true
elif [ -f /run/nginx.pid ]; then
  $SUDO kill "$(cat /run/nginx.pid)" 2>/dev/null || true
fi
echo "bench/setup.sh: done"
