-- wrk script for the tapline benchmark.
-- BENCH_METHOD=POST sends a BENCH_BODY_SIZE-byte (default 1024) text body;
-- wrk then reuses one prebuilt request, so the script adds no per-request cost.
-- done() prints one machine-readable line (prefix WRKJSON) with exact counts
-- and latency percentiles in microseconds.

local method = os.getenv("BENCH_METHOD") or "GET"
if method ~= "GET" then
  local size = tonumber(os.getenv("BENCH_BODY_SIZE") or "1024")
  wrk.method = method
  wrk.body = string.rep("x", size)
  wrk.headers["Content-Type"] = "text/plain"
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"lat_mean_us":%.1f,"lat_p50_us":%.1f,"lat_p90_us":%.1f,"lat_p99_us":%.1f,"lat_max_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
