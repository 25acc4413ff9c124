#!/usr/bin/env bash
# Runs the whole benchmark: installs wrk/nginx if missing, compiles, then
# measures direct, nginx and tapline on node, deno and bun in one run.
# Arguments are passed to bench/run.ts (e.g. --targets direct,nginx).
# The table goes to stdout and bench/results/latest.md.
set -euo pipefail
cd "$(dirname "$0")/.."

bench/setup.sh >&2
# tsc emits even when some file has type errors; the harness only needs
# dist/bench and, for the node target, dist/src.
if ! npx tsc -p tsconfig.json >&2; then
  echo "bench/run.sh: tsc reported errors (continuing with what it emitted)" >&2
fi
if [ ! -f dist/bench/run.js ]; then
  echo "bench/run.sh: dist/bench/run.js was not built" >&2
  exit 1
fi
exec node dist/bench/run.js "$@"
