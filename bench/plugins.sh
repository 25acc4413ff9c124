#!/usr/bin/env bash
# Runs the plugin benchmark (1 KiB JSON GET with no plugins, a no-op
# onRequest plugin, the three bundled plugins, and redaction alone, on node,
# deno and bun): installs wrk/nginx if missing, compiles, then runs
# dist/bench/plugins.js. Arguments are passed to bench/plugins.ts
# (e.g. --runtimes node --duration 3). The table goes to stdout and
# bench/results/plugins-latest.md.
set -euo pipefail
cd "$(dirname "$0")/.."

bench/setup.sh >&2
# tsc emits even when some file has type errors; the harness only needs
# dist/bench and, for the node runtime, dist/src.
if ! npx tsc -p tsconfig.json >&2; then
  echo "bench/plugins.sh: tsc reported errors (continuing with what it emitted)" >&2
fi
if [ ! -f dist/bench/plugins.js ]; then
  echo "bench/plugins.sh: dist/bench/plugins.js was not built" >&2
  exit 1
fi
exec node dist/bench/plugins.js "$@"
