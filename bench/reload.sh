#!/usr/bin/env bash
# Runs the plugin reload benchmark (1 KiB JSON GET on node, deno and bun,
# rounds without reloads alternating with rounds that reload the plugin set
# once a second): installs wrk/nginx if missing, compiles, then runs
# dist/bench/reload.js. Arguments are passed to bench/reload.ts
# (e.g. --runtimes node --rounds 1 --duration 3). The table goes to stdout
# and bench/results/reload-latest.md.
set -euo pipefail
cd "$(dirname "$0")/.."

bench/setup.sh >&2
# tsc emits even when some file has type errors; the harness only needs
# dist/bench and, for the node runtime, dist/src.
if ! npx tsc -p tsconfig.json >&2; then
  echo "bench/reload.sh: tsc reported errors (continuing with what it emitted)" >&2
fi
if [ ! -f dist/bench/reload.js ]; then
  echo "bench/reload.sh: dist/bench/reload.js was not built" >&2
  exit 1
fi
exec node dist/bench/reload.js "$@"
