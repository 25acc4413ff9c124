import assert from "node:assert/strict";
import { test } from "node:test";
import { clientResponseHeaders, stripHopByHop, upstreamRequestHeaders } from "../../../src/core/headers.ts";
import { headerValue } from "../../../src/shared/raw-headers.ts";

test("stripHopByHop drops every standard hop-by-hop header and keeps the rest in order", () => {
  const headers = [
    "Host",
    "example.test",
    "Connection",
    "keep-alive",
    "Keep-Alive",
    "timeout=5",
    "Proxy-Connection",
    "keep-alive",
    "Proxy-Authenticate",
    "Basic",
    "Proxy-Authorization",
    "Basic Zm9vOmJhcg==",
    "TE",
    "trailers",
    "Trailer",
    "Expires",
    "Transfer-Encoding",
    "chunked",
    "Upgrade",
    "h2c",
    "HTTP2-Settings",
    "AAMAAABkAAQAAP__",
    "Accept",
    "*/*",
    "Accept",
    "text/html",
    "Authorization",
    "Bearer t",
  ];
  assert.deepEqual(stripHopByHop(headers), [
    "Host",
    "example.test",
    "Accept",
    "*/*",
    "Accept",
    "text/html",
    "Authorization",
    "Bearer t",
  ]);
});

test("stripHopByHop drops expect, since the listener answers 100-continue itself", () => {
  assert.deepEqual(stripHopByHop(["Expect", "100-continue", "Content-Length", "3"]), ["Content-Length", "3"]);
});

test("stripHopByHop drops the headers a Connection header names, in any case", () => {
  const headers = [
    "connection",
    " X-Session-Hop , ,x-other ",
    "CONNECTION",
    "X-Third",
    "x-session-hop",
    "1",
    "X-OTHER",
    "2",
    "x-third",
    "3",
    "X-Kept",
    "4",
  ];
  assert.deepEqual(stripHopByHop(headers), ["X-Kept", "4"]);
});

test("stripHopByHop matches names case-insensitively and leaves its input alone", () => {
  const headers = ["TRANSFER-ENCODING", "chunked", "kEeP-aLiVe", "x", "x-kept", "y"];
  const copy = [...headers];
  assert.deepEqual(stripHopByHop(headers), ["x-kept", "y"]);
  assert.deepEqual(headers, copy);
});

test("a header merely resembling a hop-by-hop name is kept", () => {
  const headers = ["Connections", "1", "X-Upgrade", "2", "Te-Extra", "3"];
  assert.deepEqual(stripHopByHop(headers), headers);
});

test("clientResponseHeaders removes hop-by-hop headers from the upstream's response", () => {
  assert.deepEqual(
    clientResponseHeaders(["Content-Type", "text/plain", "Connection", "close, X-Internal", "X-Internal", "1"]),
    ["Content-Type", "text/plain"],
  );
});

test("upstreamRequestHeaders adds X-Forwarded-For/-Proto/-Host and keeps Host", () => {
  const out = upstreamRequestHeaders(["Host", "shop.test:8080", "Accept", "*/*", "Connection", "close"], {
    clientIp: "10.0.0.5",
    proto: "http",
  });
  assert.deepEqual(out, [
    "Host",
    "shop.test:8080",
    "Accept",
    "*/*",
    "X-Forwarded-For",
    "10.0.0.5",
    "X-Forwarded-Proto",
    "http",
    "X-Forwarded-Host",
    "shop.test:8080",
  ]);
});

test("upstreamRequestHeaders sets X-Forwarded-Proto https for TLS clients", () => {
  const out = upstreamRequestHeaders(["Host", "a"], { clientIp: "::1", proto: "https" });
  assert.equal(headerValue(out, "x-forwarded-proto"), "https");
  assert.equal(headerValue(out, "x-forwarded-for"), "::1");
});

test("upstreamRequestHeaders appends the client to an existing X-Forwarded-For in place", () => {
  const out = upstreamRequestHeaders(["x-forwarded-for", "203.0.113.7", "Host", "a"], {
    clientIp: "10.0.0.5",
    proto: "http",
  });
  assert.deepEqual(out.slice(0, 4), ["x-forwarded-for", "203.0.113.7, 10.0.0.5", "Host", "a"]);
  assert.equal(out.filter((name, i) => i % 2 === 0 && name.toLowerCase() === "x-forwarded-for").length, 1);
});

test("upstreamRequestHeaders folds repeated X-Forwarded-For lines into the first, in order", () => {
  const out = upstreamRequestHeaders(
    [
      "X-Forwarded-For",
      "198.51.100.1",
      "Accept",
      "*/*",
      "x-forwarded-for",
      "198.51.100.2, 198.51.100.3",
      "X-FORWARDED-FOR",
      "198.51.100.4",
      "Host",
      "a",
    ],
    { clientIp: "10.0.0.5", proto: "http" },
  );
  assert.deepEqual(out, [
    "X-Forwarded-For",
    "198.51.100.1, 198.51.100.2, 198.51.100.3, 198.51.100.4, 10.0.0.5",
    "Accept",
    "*/*",
    "Host",
    "a",
    "X-Forwarded-Proto",
    "http",
    "X-Forwarded-Host",
    "a",
  ]);
});

test("upstreamRequestHeaders keeps X-Forwarded-Proto and -Host set by a proxy in front", () => {
  const out = upstreamRequestHeaders(
    ["Host", "internal:8080", "X-Forwarded-Proto", "https", "x-forwarded-host", "public.example"],
    { clientIp: "10.0.0.5", proto: "http" },
  );
  assert.deepEqual(out, [
    "Host",
    "internal:8080",
    "X-Forwarded-Proto",
    "https",
    "x-forwarded-host",
    "public.example",
    "X-Forwarded-For",
    "10.0.0.5",
  ]);
});

test("upstreamRequestHeaders adds no X-Forwarded-Host without a Host header", () => {
  const out = upstreamRequestHeaders(["Accept", "*/*"], { clientIp: "10.0.0.5", proto: "http" });
  assert.deepEqual(out, ["Accept", "*/*", "X-Forwarded-For", "10.0.0.5", "X-Forwarded-Proto", "http"]);
});

test("upstreamRequestHeaders strips hop-by-hop headers, including Connection-listed ones", () => {
  const out = upstreamRequestHeaders(
    ["Host", "a", "Connection", "X-Hop", "X-Hop", "1", "Transfer-Encoding", "chunked", "Expect", "100-continue"],
    { clientIp: "10.0.0.5", proto: "http" },
  );
  for (const name of ["connection", "x-hop", "transfer-encoding", "expect"]) {
    assert.equal(headerValue(out, name), undefined, name);
  }
  assert.equal(headerValue(out, "host"), "a");
});

test("upstreamRequestHeaders passes te: trailers on (gRPC needs it) and drops any other TE", () => {
  const forwarded = { clientIp: "10.0.0.1", proto: "http" as const };
  assert.equal(headerValue(upstreamRequestHeaders(["TE", "trailers, deflate;q=0.5"], forwarded), "te"), "trailers");
  assert.equal(headerValue(upstreamRequestHeaders(["te", "gzip"], forwarded), "te"), undefined);
  assert.equal(headerValue(upstreamRequestHeaders(["accept", "*/*"], forwarded), "te"), undefined);
});
