#!/usr/bin/env bash
# Runs the streaming benchmark (WebSocket echo and SSE rates, direct vs
# tapline on node, deno and bun): compiles, then runs dist/bench/stream.js.
# Arguments are passed to bench/stream.ts (e.g. --targets direct,node).
# The table goes to stdout and bench/results/stream.md.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v taskset >/dev/null; then
  echo "bench/stream.sh: taskset (util-linux) is missing" >&2
  exit 1
fi
# tsc emits even when some file has type errors; the harness only needs
# dist/bench and, for the node target, dist/src.
if ! npx tsc -p tsconfig.json >&2; then
  echo "bench/stream.sh: tsc reported errors (continuing with what it emitted)" >&2
fi
if [ ! -f dist/bench/stream.js ]; then
  echo "bench/stream.sh: dist/bench/stream.js was not built" >&2
  exit 1
fi
exec node dist/bench/stream.js "$@"
