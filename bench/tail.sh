#!/usr/bin/env bash
# What one live-tail subscriber costs forwarding: tapline (capture to JSONL, admin port) pinned to core 1 in front of
# a static nginx upstream; wrk (c32, 1 KiB GET) on core 0; A = no subscriber, B = one `curl -N /api/tail` reading
# everything. Alternated ROUNDS times; prints req/s and proxy CPU µs per request of each run.
#
#   bench/tail.sh [node|deno|bun] [ROUNDS]     (after npm run build; bench/setup.sh installs wrk and nginx)
set -euo pipefail
rt=${1:-node}
rounds=${2:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/node_modules/.bin
work=$(mktemp -d "${TMPDIR:-/tmp}/tapline-bench-tail-XXXXXX")
up=18681 proxy=18680 admin=18690 token=bench-tail-token-0123456789
mkdir -p "$work/www" "$work/logs"
head -c 1024 /dev/zero | tr '\0' 'x' > "$work/www/1k.json"
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$up; root $work/www; default_type application/json; } }
CONF
case $rt in
  node) cmd=(node "$root/bin/tapline.js") ;;
  deno) cmd=("$bin/deno" run -A "$root/src/cli/main.ts") ;;
  bun) cmd=("$bin/bun" "$root/src/cli/main.ts") ;;
  *) echo "bench/tail.sh: runtime must be node, deno or bun" >&2; exit 64 ;;
esac
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
taskset -c 0 nginx -c "$work/nginx.conf" & pids+=($!)
TAPLINE_ADMIN_TOKEN=$token taskset -c 1 "${cmd[@]}" --listen-admin "127.0.0.1:$admin" \
  --proxy "name=b,listen_http=127.0.0.1:$proxy,upstream=http://127.0.0.1:$up,log_jsonl=$work/logs/b.jsonl" \
  2> "$work/tapline.log" & tap=$!
pids+=($tap)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$proxy/1k.json" && break; sleep 0.2; done
# Under Deno and Bun the process wrapper is the runtime itself; its CPU is what /proc reports for this pid.
cpu() { awk '{print $14+$15}' "/proc/$tap/stat"; }
hz=$(getconf CLK_TCK)
run() {
  local c0 c1 out rps n
  c0=$(cpu)
  out=$(taskset -c 0 wrk -t1 -c32 -d6s "http://127.0.0.1:$proxy/1k.json")
  c1=$(cpu)
  rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  n=$(awk '/requests in/{print $1}' <<<"$out")
  echo "$rps req/s, $(echo "scale=1; ($c1 - $c0) * 1000000 / $hz / $n" | bc) µs/req"
}
taskset -c 0 wrk -t1 -c32 -d3s "http://127.0.0.1:$proxy/1k.json" > /dev/null
for r in $(seq "$rounds"); do
  a=$(run)
  taskset -c 0 curl -s -N -H "Authorization: Bearer $token" "http://127.0.0.1:$admin/api/tail" > /dev/null & sub=$!
  sleep 0.5
  b=$(run)
  kill "$sub" 2>/dev/null || true
  wait "$sub" 2>/dev/null || true
  echo "$rt round $r: no subscriber $a | one subscriber $b"
done
