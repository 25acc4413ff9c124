/**
 * Turns the raw fields of one proxy (from a `--proxy` spec, `TAPLINE_PROXY` or a
 * YAML `proxies[]` entry) into a validated ProxyConfig. The caller decides how
 * a problem is reported, so every source names its own location.
 */
import { describeError } from "../shared/describe-error.ts";
import { parseListen } from "./listen.ts";
import type { ProxyConfig } from "./types.ts";
import type { ListenAddress } from "../runtime/types.ts";
import { shown } from "../shared/shown-value.ts";

/** The `--proxy` keys, in the snake_case both the flag and YAML use. */
export const PROXY_KEYS = [
  "name",
  "upstream",
  "listen_http",
  "listen_https",
  "log_jsonl",
  "log_sqlite",
  "include_path",
  "exclude_path",
  "http2",
  "upstream_proto",
] as const;

export type ProxyKey = (typeof PROXY_KEYS)[number];

/** One proxy's fields as written, before validation. */
export interface RawProxy {
  name?: string;
  upstream?: string;
  listen_http?: string;
  listen_https?: string;
  log_jsonl?: string;
  log_sqlite?: string;
  include_path: string[];
  exclude_path: string[];
  /** `on` or `off` (a YAML boolean too). */
  http2?: string | boolean;
  /** `auto`, `h1` or `h2`. */
  upstream_proto?: string;
}

/** A problem with one field of a proxy, or with the proxy as a whole. */
export interface ProxyFieldProblem {
  /** The field; absent: the proxy as a whole. */
  key?: ProxyKey;
  /** Names the value: `Invalid proxy name "1api"`. */
  what: string;
  /** Explains it: `must start with a letter ...`. */
  why: string;
  /** Which item of a list field (`include_path`, `exclude_path`). */
  index?: number;
}

/** Reports a problem where its source was written. Must throw. */
export type ProxyProblem = (problem: ProxyFieldProblem) => never;

export const NAME_RE = /^[a-zA-Z][a-zA-Z0-9_-]*$/;

/**
 * Validate raw proxy fields. Directory mode: a `log_jsonl` ending in `/` or `\`
 * becomes `<dir>/<name>.jsonl`, a `log_sqlite` one `<dir>/<name>.db`.
 */
export function buildProxy(raw: RawProxy, fail: ProxyProblem): ProxyConfig {
  const name = raw.name;
  if (name === undefined) fail({ what: "Missing name", why: "every proxy needs a name, e.g. name=api" });
  if (!NAME_RE.test(name)) {
    fail({
      key: "name",
      what: `Invalid proxy name ${shown(name)}`,
      why: 'must start with a letter and contain only letters, digits, "_" and "-"',
    });
  }
  if (raw.upstream === undefined) {
    fail({
      what: `Missing upstream for proxy "${name}"`,
      why: "every proxy needs an upstream URL, e.g. upstream=http://localhost:3000",
    });
  }
  const upstream = parseUpstream(
    raw.upstream,
    (why) => fail({ key: "upstream", what: `Invalid upstream ${shown(raw.upstream)}`, why }),
  );
  if (raw.listen_http === undefined && raw.listen_https === undefined) {
    fail({
      what: `Missing listener for proxy "${name}"`,
      why: "give listen_http, listen_https or both, e.g. listen_http=:8080",
    });
  }
  const proxy: ProxyConfig = { name, upstream, includePath: [], excludePath: [] };
  if (raw.listen_http !== undefined) proxy.listenHttp = listenField(raw.listen_http, "listen_http", fail);
  if (raw.listen_https !== undefined) proxy.listenHttps = listenField(raw.listen_https, "listen_https", fail);
  if (raw.log_jsonl !== undefined) {
    if (raw.log_jsonl === "") {
      fail({ key: "log_jsonl", what: "Empty log_jsonl", why: 'give a file path, or a directory ending in "/"' });
    }
    proxy.logJsonl = /[/\\]$/.test(raw.log_jsonl) ? `${raw.log_jsonl}${name}.jsonl` : raw.log_jsonl;
  }
  if (raw.log_sqlite !== undefined) {
    if (raw.log_sqlite === "") {
      fail({ key: "log_sqlite", what: "Empty log_sqlite", why: 'give a file path, or a directory ending in "/"' });
    }
    proxy.logSqlite = /[/\\]$/.test(raw.log_sqlite) ? `${raw.log_sqlite}${name}.db` : raw.log_sqlite;
  }
  if (raw.http2 !== undefined) proxy.http2 = onOff(raw.http2, "http2", fail);
  if (raw.upstream_proto !== undefined) {
    const proto = String(raw.upstream_proto).trim().toLowerCase();
    if (proto !== "auto" && proto !== "h1" && proto !== "h2") {
      fail({
        key: "upstream_proto",
        what: `Invalid upstream_proto ${shown(raw.upstream_proto)}`,
        why: "must be auto, h1 or h2",
      });
    }
    proxy.upstreamProto = proto;
  }
  proxy.includePath = regexList(raw.include_path, "include_path", fail);
  proxy.excludePath = regexList(raw.exclude_path, "exclude_path", fail);
  return proxy;
}

function parseUpstream(text: string, fail: (why: string) => never): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail("must be an absolute http or https URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") fail("must be an absolute http or https URL");
  if (url.hash !== "" || text.includes("#")) fail("must not contain a fragment (#...)");
  return url;
}

function listenField(text: string, key: ProxyKey, fail: ProxyProblem): ListenAddress {
  try {
    return parseListen(text);
  } catch (error) {
    return fail({ key, what: `Invalid ${key} ${shown(text)}`, why: whyOf(error) });
  }
}

/** A switch written `on`/`off` (or `true`/`false`, or a YAML boolean). */
function onOff(value: string | boolean, key: ProxyKey, fail: ProxyProblem): boolean {
  if (typeof value === "boolean") return value;
  const text = value.trim().toLowerCase();
  if (text === "on" || text === "true") return true;
  if (text === "off" || text === "false") return false;
  return fail({ key, what: `Invalid ${key} ${shown(value)}`, why: "must be on or off" });
}

function regexList(sources: string[], key: ProxyKey, fail: ProxyProblem): string[] {
  sources.forEach((source, index) => {
    try {
      new RegExp(source);
    } catch (error) {
      fail({ key, what: `Invalid ${key} regex ${shown(source)}`, why: whyOf(error), index });
    }
  });
  return [...sources];
}

/** The reason part of a parser's message (`Invalid size "x": <reason>`). */
export function whyOf(error: unknown): string {
  const message = describeError(error);
  const quoted = /^Invalid [^"]*"(?:[^"\\]|\\.)*": (.*)$/s.exec(message);
  return quoted ? quoted[1]! : message;
}
