/**
 * The few S3 operations archival needs, signed with SigV4 by
 * @smithy/signature-v4 and sent with the runtime's `fetch`. Bodies are
 * always whole `Uint8Array`s: Deno's fetch drops Content-Length on stream
 * bodies, which S3 refuses.
 */
import { SignatureV4 } from "@smithy/signature-v4";
import type { Sha256Constructor } from "./sha256.ts";
import { describeError } from "../shared/describe-error.ts";
import { S3RequestError } from "./errors.ts";
import type { S3Credentials } from "./options.ts";
import { type CompletedPart, completeMultipartUploadXml, parseS3Error, xmlElementText } from "./xml.ts";

/** What an {@link S3Client} needs. */
export interface S3ClientOptions {
  bucket: string;
  /** S3-compatible endpoint, used path-style; absent: AWS virtual-hosted style. */
  endpoint?: string;
  region: string;
  credentials: S3Credentials;
  /** The runtime's SHA-256 constructor (`runtime.sha256`). */
  sha256: Sha256Constructor;
  /** Bound on each request, milliseconds (default 5 minutes). */
  requestTimeoutMs?: number;
  /** Replaces the global fetch (tests). */
  fetch?: typeof fetch;
}

/** A whole object sent in one PutObject. */
export interface PutObjectRequest {
  key: string;
  body: Uint8Array;
  contentType?: string;
  signal?: AbortSignal;
  /** Sends `If-None-Match: *`: the write fails with 412 instead of overwriting an existing object. */
  ifNoneMatch?: boolean;
}

/** One part of a multipart upload. */
export interface UploadPartRequest {
  key: string;
  uploadId: string;
  /** Numbered from 1. */
  partNumber: number;
  body: Uint8Array;
  signal?: AbortSignal;
}

/** The parts that make up the finished object, in order. */
export interface CompleteMultipartUploadRequest {
  key: string;
  uploadId: string;
  parts: readonly CompletedPart[];
  signal?: AbortSignal;
  /** Sends `If-None-Match: *`, as for PutObject. */
  ifNoneMatch?: boolean;
}

/** The object operations the uploader uses (an interface so tests can fake it). */
export interface S3ObjectStore {
  /** `s3://bucket/key`, for messages. */
  describe(key: string): string;
  putObject(request: PutObjectRequest): Promise<void>;
  /** Starts a multipart upload and returns its upload id. */
  createMultipartUpload(key: string, contentType?: string, signal?: AbortSignal): Promise<string>;
  /** Uploads one part and returns its ETag. */
  uploadPart(request: UploadPartRequest): Promise<string>;
  completeMultipartUpload(request: CompleteMultipartUploadRequest): Promise<void>;
  abortMultipartUpload(key: string, uploadId: string, signal?: AbortSignal): Promise<void>;
}

/** Percent-encodes everything but RFC 3986 unreserved characters, as SigV4 requires. */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Encodes an object key for the URL path, keeping its `/` separators. */
export function encodeKey(key: string): string {
  return key.split("/").map(uriEncode).join("/");
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

interface Target {
  protocol: string;
  hostname: string;
  port: number | undefined;
  /** `host[:port]` as fetch sends it in the Host header. */
  host: string;
  /** Encoded path prefix before the key: `/bucket/` (path-style) or `/` (virtual-hosted). */
  basePath: string;
}

interface SendArgs {
  operation: string;
  method: "PUT" | "POST" | "DELETE";
  key: string;
  query?: Record<string, string>;
  body?: Uint8Array;
  contentType?: string;
  signal?: AbortSignal | undefined;
  ifNoneMatch?: boolean | undefined;
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

const encoder = new TextEncoder();

/**
 * A SigV4-signing S3 client for PutObject and multipart uploads.
 *
 * @example
 * const client = new S3Client({ bucket: "logs", region: "us-east-1", credentials, sha256: runtime.sha256 });
 * await client.putObject({ key: "tapline/api.jsonl", body: bytes, contentType: "application/x-ndjson" });
 */
export class S3Client implements S3ObjectStore {
  readonly bucket: string;
  readonly #target: Target;
  readonly #signer: SignatureV4;
  readonly #sha256: Sha256Constructor;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(options: S3ClientOptions) {
    this.bucket = options.bucket;
    this.#target = S3Client.#resolveTarget(options);
    this.#sha256 = options.sha256;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#timeoutMs = options.requestTimeoutMs ?? 300_000;
    this.#signer = new SignatureV4({
      service: "s3",
      region: options.region,
      credentials: { ...options.credentials },
      sha256: options.sha256,
      // S3 signs the path as sent (encoded once), unlike every other service.
      uriEscapePath: false,
      applyChecksum: true,
    });
  }

  static #resolveTarget(options: S3ClientOptions): Target {
    if (options.endpoint !== undefined) {
      const url = new URL(options.endpoint);
      const base = url.pathname.replace(/\/+$/, "");
      return {
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port === "" ? undefined : Number(url.port),
        host: url.host,
        basePath: `${base}/${uriEncode(options.bucket)}/`,
      };
    }
    // Dotted bucket names do not match the *.s3 wildcard certificate.
    const virtual = !options.bucket.includes(".");
    const hostname = virtual
      ? `${options.bucket}.s3.${options.region}.amazonaws.com`
      : `s3.${options.region}.amazonaws.com`;
    return {
      protocol: "https:",
      hostname,
      port: undefined,
      host: hostname,
      basePath: virtual ? "/" : `/${uriEncode(options.bucket)}/`,
    };
  }

  describe(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  async putObject({ key, body, contentType, signal, ifNoneMatch }: PutObjectRequest): Promise<void> {
    await this.#send({ operation: "PutObject", method: "PUT", key, body, contentType, signal, ifNoneMatch });
  }

  async createMultipartUpload(key: string, contentType?: string, signal?: AbortSignal): Promise<string> {
    const reply = await this.#send({
      operation: "CreateMultipartUpload",
      method: "POST",
      key,
      query: { uploads: "" },
      contentType,
      signal,
    });
    const uploadId = xmlElementText(reply.text, "UploadId");
    if (uploadId === undefined || uploadId === "") {
      throw new S3RequestError({
        operation: "CreateMultipartUpload",
        status: reply.status,
        s3Code: "MalformedResponse",
        s3Message: "no UploadId in the response",
        where: this.describe(key),
      });
    }
    return uploadId;
  }

  async uploadPart({ key, uploadId, partNumber, body, signal }: UploadPartRequest): Promise<string> {
    const reply = await this.#send({
      operation: "UploadPart",
      method: "PUT",
      key,
      query: { partNumber: String(partNumber), uploadId },
      body,
      signal,
    });
    const etag = reply.headers.get("etag");
    if (etag === null || etag === "") {
      throw new S3RequestError({
        operation: "UploadPart",
        status: reply.status,
        s3Code: "MalformedResponse",
        s3Message: `no ETag for part ${partNumber}`,
        where: this.describe(key),
      });
    }
    return etag;
  }

  async completeMultipartUpload(
    { key, uploadId, parts, signal, ifNoneMatch }: CompleteMultipartUploadRequest,
  ): Promise<void> {
    const reply = await this.#send({
      operation: "CompleteMultipartUpload",
      method: "POST",
      key,
      query: { uploadId },
      body: encoder.encode(completeMultipartUploadXml(parts)),
      contentType: "application/xml",
      signal,
      ifNoneMatch,
    });
    // S3 may answer 200 and still report an error in the body.
    const error = parseS3Error(reply.text);
    if (error !== undefined) {
      throw new S3RequestError({
        operation: "CompleteMultipartUpload",
        status: reply.status,
        s3Code: error.code,
        s3Message: error.message,
        where: this.describe(key),
      });
    }
  }

  async abortMultipartUpload(key: string, uploadId: string, signal?: AbortSignal): Promise<void> {
    await this.#send({ operation: "AbortMultipartUpload", method: "DELETE", key, query: { uploadId }, signal });
  }

  async #send(args: SendArgs): Promise<Reply> {
    const target = this.#target;
    const path = target.basePath + encodeKey(args.key);
    const body = args.body ?? new Uint8Array(0);
    const hash = new this.#sha256();
    hash.update(body);
    const headers: Record<string, string> = {
      host: target.host,
      // The real payload hash (never UNSIGNED-PAYLOAD) so the body is covered by the signature.
      "x-amz-content-sha256": hex(await hash.digest()),
    };
    if (args.contentType !== undefined) headers["content-type"] = args.contentType;
    // Signed like every header: the condition cannot be stripped on the way.
    if (args.ifNoneMatch) headers["if-none-match"] = "*";
    const query = args.query ?? {};
    const signed = await this.#signer.sign({
      method: args.method,
      protocol: target.protocol,
      hostname: target.hostname,
      ...(target.port === undefined ? {} : { port: target.port }),
      path,
      query,
      headers,
      body,
    });

    const sendHeaders = new Headers();
    for (const [name, value] of Object.entries(signed.headers)) {
      // fetch derives Host from the URL (the same value that was signed).
      if (name.toLowerCase() !== "host") sendHeaders.set(name, value);
    }
    const search = Object.entries(query)
      .map(([name, value]) => (value === "" ? uriEncode(name) : `${uriEncode(name)}=${uriEncode(value)}`))
      .join("&");
    const url = `${target.protocol}//${target.host}${path}${search === "" ? "" : `?${search}`}`;
    const where = this.describe(args.key);
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = args.signal === undefined ? timeout : AbortSignal.any([args.signal, timeout]);

    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(url, {
        method: args.method,
        headers: sendHeaders,
        // Never a stream: a whole buffer keeps Content-Length on every runtime.
        body: args.method === "DELETE" ? null : (body as Uint8Array<ArrayBuffer>),
        signal,
        redirect: "manual",
      });
      text = await response.text();
    } catch (error) {
      const code = signal.aborted ? (timeout.aborted ? "RequestTimeout" : "Aborted") : "NetworkError";
      throw new S3RequestError(
        { operation: args.operation, status: 0, s3Code: code, s3Message: describeError(error), where },
        { cause: error },
      );
    }
    if (response.status < 200 || response.status > 299) {
      const error = parseS3Error(text);
      throw new S3RequestError({
        operation: args.operation,
        status: response.status,
        s3Code: error?.code ?? `Http${response.status}`,
        s3Message: error?.message ?? (response.statusText || "no error details in the response"),
        where,
      });
    }
    return { status: response.status, headers: response.headers, text };
  }
}
