/**
 * nginx configurations for the benchmark: the static upstream and the
 * `proxy_pass` baseline. Each instance gets its own prefix directory (pid,
 * logs, temp paths) so nothing touches the system nginx.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bodyJson, bodyText } from "./bodies.ts";

/** Paths and arguments to start one nginx instance in the foreground. */
export interface NginxInstance {
  prefix: string;
  conf: string;
  /** Arguments for `nginx` (config test is done separately by the caller). */
  args: string[];
}

/** Shared top of every config: one worker, foreground, private paths. */
function head(prefix: string): string {
  return `
worker_processes 1;
daemon off;
master_process on;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 8192; multi_accept on; }
http {
  access_log off;
  server_tokens off;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65s;
  # nginx closes a client connection after 1000 requests by default; wrk
  # and the proxies under test keep theirs open, so lift the limit.
  keepalive_requests 100000000;
`;
}

function instance(prefix: string, body: string): NginxInstance {
  mkdirSync(prefix, { recursive: true });
  const conf = join(prefix, "nginx.conf");
  writeFileSync(conf, `${head(prefix)}${body}}\n`);
  return { prefix, conf, args: ["-p", prefix, "-c", conf, "-e", join(prefix, "error.log")] };
}

/**
 * Upstream: `GET /1k` (1024 bytes) and `GET /1m` (1 MiB) as static text
 * files, `GET /1k.json` (1024 bytes of `application/json`, for the plugin
 * benchmark); `POST` to any path reads and discards the body and answers `ok\n`.
 */
export function upstreamConfig(prefix: string, port: number): NginxInstance {
  const www = join(prefix, "www");
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, "1k"), bodyText(1024));
  writeFileSync(join(www, "1m"), bodyText(1024 * 1024));
  writeFileSync(join(www, "1k.json"), bodyJson(1024));
  return instance(
    prefix,
    `
  default_type text/plain;
  open_file_cache max=16 inactive=60s;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    root ${www};
    client_max_body_size 64m;
    client_body_buffer_size 1m;
    location / {
      if ($request_method = POST) { return 200 "ok\\n"; }
    }
    location = /1k.json { default_type application/json; }
  }
`,
  );
}

/**
 * The baseline reverse proxy: one worker, HTTP/1.1 keep-alive pool to the
 * upstream. Responses are buffered in memory only (`proxy_max_temp_file_size
 * 0`), so 1 MiB bodies are never spooled to disk.
 */
export function proxyConfig(prefix: string, port: number, upstreamPort: number): NginxInstance {
  return instance(
    prefix,
    `
  upstream bench_upstream {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
    keepalive_requests 100000000;
    keepalive_timeout 65s;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    client_max_body_size 64m;
    client_body_buffer_size 1m;
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffer_size 64k;
      proxy_buffers 16 64k;
      proxy_busy_buffers_size 128k;
      proxy_max_temp_file_size 0;
    }
  }
`,
  );
}
