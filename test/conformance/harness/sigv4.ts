/**
 * An independent AWS Signature Version 4 verifier for S3 requests, written
 * from the AWS specification with node:crypto only. It shares no code with
 * tapline's signer (@smithy/signature-v4) so that a bug in one is caught by
 * the other.
 *
 * Spec: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** A known access key. */
export interface VerifierKey {
  secretAccessKey: string;
  /** When set, requests with this key must carry it as `x-amz-security-token`. */
  sessionToken?: string;
}

/** What the verifier accepts. */
export interface SigV4VerifyOptions {
  region: string;
  /** Access key id -> secret. */
  keys: Record<string, VerifierKey>;
  /** Largest accepted clock difference (S3: 15 minutes). */
  maxSkewMs?: number;
  /** The current time (tests). */
  now?: () => number;
}

/** The parts of a received request the signature covers. */
export interface ReceivedRequest {
  method: string;
  /** The request target exactly as received: raw path and query. */
  url: string;
  /** Raw header name/value pairs in arrival order (Node's `rawHeaders`, paired). */
  headers: ReadonlyArray<readonly [string, string]>;
  body: Uint8Array;
}

/** The verdict. */
export type Verdict =
  | { ok: true; accessKeyId: string }
  | { ok: false; status: number; code: string; message: string; canonicalRequest?: string; stringToSign?: string };

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/** RFC 3986 encoding of every byte except unreserved characters, uppercase hex, as SigV4 defines it. */
export function awsUriEncode(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

function fail(status: number, code: string, message: string, extra: object = {}): Verdict {
  return { ok: false, status, code, message, ...extra };
}

/**
 * S3's canonical URI: the path as sent, decoded and encoded once more per
 * segment (S3 does not double-encode and does not normalize `.`/`..`).
 */
export function canonicalUri(rawPath: string): string {
  return rawPath.split("/").map((segment) => awsUriEncode(decodeURIComponent(segment))).join("/");
}

/** The canonical query string: each name and value encoded, sorted by name then value. */
export function canonicalQuery(rawQuery: string): string {
  const pairs: Array<[string, string]> = [];
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? "" : part.slice(eq + 1);
    pairs.push([awsUriEncode(decodeURIComponent(name)), awsUriEncode(decodeURIComponent(value))]);
  }
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join("&");
}

function headerValues(headers: ReceivedRequest["headers"], name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) if (n.toLowerCase() === name) out.push(v.trim().replace(/\s+/g, " "));
  return out;
}

/** The SigV4 signing key for a date (YYYYMMDD), region and service. */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
}

const AUTH_PATTERN = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;

/**
 * Checks an S3 request's `Authorization: AWS4-HMAC-SHA256 ...` header
 * against the known keys, and its `x-amz-content-sha256` against the body.
 * Unsigned and streaming payloads are refused: the signature must cover the body.
 */
export function verifySigV4(request: ReceivedRequest, options: SigV4VerifyOptions): Verdict {
  const auth = headerValues(request.headers, "authorization");
  if (auth.length === 0) return fail(403, "AccessDenied", "Access Denied: the request is not signed");
  if (auth.length > 1) return fail(400, "InvalidArgument", "Only one Authorization header is allowed");
  const match = AUTH_PATTERN.exec(auth[0]!);
  if (match === null) {
    return fail(400, "AuthorizationHeaderMalformed", `The authorization header is malformed: ${auth[0]}`);
  }
  const [, credential, signedHeaderList, signature] = match as unknown as [string, string, string, string];

  const scopeParts = credential.split("/");
  if (scopeParts.length !== 5 || scopeParts[4] !== "aws4_request") {
    return fail(400, "AuthorizationHeaderMalformed", `The credential is malformed: ${credential}`);
  }
  const [accessKeyId, date, region, service] = scopeParts as [string, string, string, string, string];
  const key = Object.hasOwn(options.keys, accessKeyId) ? options.keys[accessKeyId] : undefined;
  if (key === undefined) {
    return fail(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
  }
  if (region !== options.region) {
    return fail(400, "AuthorizationHeaderMalformed", `The region '${region}' is wrong; expecting '${options.region}'`);
  }
  if (service !== "s3") return fail(400, "AuthorizationHeaderMalformed", `The service '${service}' is wrong`);

  const amzDate = headerValues(request.headers, "x-amz-date");
  if (amzDate.length !== 1 || !/^\d{8}T\d{6}Z$/.test(amzDate[0]!)) {
    return fail(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
  }
  const longDate = amzDate[0]!;
  if (longDate.slice(0, 8) !== date) {
    return fail(403, "SignatureDoesNotMatch", "The credential date does not match x-amz-date");
  }
  const signedAt = Date.UTC(
    Number(longDate.slice(0, 4)),
    Number(longDate.slice(4, 6)) - 1,
    Number(longDate.slice(6, 8)),
    Number(longDate.slice(9, 11)),
    Number(longDate.slice(11, 13)),
    Number(longDate.slice(13, 15)),
  );
  const now = (options.now ?? Date.now)();
  if (Math.abs(now - signedAt) > (options.maxSkewMs ?? 15 * 60_000)) {
    return fail(
      403,
      "RequestTimeTooSkewed",
      "The difference between the request time and the current time is too large.",
    );
  }

  const payloadHeader = headerValues(request.headers, "x-amz-content-sha256");
  if (payloadHeader.length !== 1) {
    return fail(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
  }
  const declaredHash = payloadHeader[0]!;
  if (!/^[0-9a-f]{64}$/.test(declaredHash)) {
    // UNSIGNED-PAYLOAD and STREAMING-* are valid for S3, but tapline must sign its bodies.
    return fail(
      400,
      "InvalidRequest",
      `This server requires a signed payload; got x-amz-content-sha256 ${declaredHash}`,
    );
  }
  const actualHash = request.body.byteLength === 0 ? EMPTY_SHA256 : sha256Hex(request.body);
  if (declaredHash !== actualHash) {
    return fail(
      400,
      "XAmzContentSHA256Mismatch",
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }

  const signedHeaders = signedHeaderList.split(";");
  const sorted = [...signedHeaders].sort();
  if (signedHeaders.some((name, i) => name !== name.toLowerCase() || name !== sorted[i])) {
    return fail(400, "AuthorizationHeaderMalformed", "SignedHeaders must be lowercase and sorted");
  }
  for (const required of ["host", "x-amz-date", "x-amz-content-sha256"]) {
    if (!signedHeaders.includes(required)) {
      return fail(403, "AccessDenied", `The header ${required} must be signed`);
    }
  }
  for (const [name] of request.headers) {
    const lower = name.toLowerCase();
    if (lower.startsWith("x-amz-") && !signedHeaders.includes(lower)) {
      return fail(403, "AccessDenied", `There were headers present in the request which were not signed: ${lower}`);
    }
  }
  if (key.sessionToken !== undefined) {
    const token = headerValues(request.headers, "x-amz-security-token");
    if (token.length !== 1 || token[0] !== key.sessionToken) {
      return fail(403, "InvalidToken", "The provided token is malformed or otherwise invalid.");
    }
  }

  let canonicalHeaders = "";
  for (const name of signedHeaders) {
    const values = headerValues(request.headers, name);
    if (values.length === 0) return fail(403, "AccessDenied", `The signed header ${name} is missing`);
    canonicalHeaders += `${name}:${values.join(",")}\n`;
  }

  const q = request.url.indexOf("?");
  const rawPath = q === -1 ? request.url : request.url.slice(0, q);
  const rawQuery = q === -1 ? "" : request.url.slice(q + 1);
  let uri: string;
  let query: string;
  try {
    uri = canonicalUri(rawPath);
    query = canonicalQuery(rawQuery);
  } catch {
    return fail(400, "InvalidURI", `Couldn't parse the specified URI: ${request.url}`);
  }

  const canonicalRequest = [request.method, uri, query, canonicalHeaders, signedHeaderList, declaredHash].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", longDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const expected = createHmac("sha256", signingKey(key.secretAccessKey, date, region, service))
    .update(stringToSign, "utf8")
    .digest();
  const given = Buffer.from(signature, "hex");
  if (!timingSafeEqual(expected, given)) {
    return fail(
      403,
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
      { canonicalRequest, stringToSign },
    );
  }
  return { ok: true, accessKeyId };
}

/**
 * Signs a request the way the spec says (for the tests' hand-rolled
 * requests). Adds `x-amz-date`, `x-amz-content-sha256` and `authorization`
 * to `headers`, which must already hold `host`.
 */
export function signForTest(
  request: { method: string; url: string; headers: Record<string, string>; body: Uint8Array },
  credentials: { accessKeyId: string; secretAccessKey: string },
  region: string,
  date = new Date(),
): Record<string, string> {
  const longDate = date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const shortDate = longDate.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  headers["x-amz-date"] = longDate;
  headers["x-amz-content-sha256"] = sha256Hex(request.body);
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((name) => `${name}:${headers[name]!.trim()}\n`).join("");
  const q = request.url.indexOf("?");
  const canonicalRequest = [
    request.method,
    canonicalUri(q === -1 ? request.url : request.url.slice(0, q)),
    canonicalQuery(q === -1 ? "" : request.url.slice(q + 1)),
    canonicalHeaders,
    names.join(";"),
    headers["x-amz-content-sha256"],
  ].join("\n");
  const scope = `${shortDate}/${region}/s3/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", longDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const signature = createHmac("sha256", signingKey(credentials.secretAccessKey, shortDate, region, "s3"))
    .update(stringToSign, "utf8")
    .digest("hex");
  headers["authorization"] = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${
    names.join(";")
  }, Signature=${signature}`;
  return headers;
}
