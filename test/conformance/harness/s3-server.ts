/**
 * A real S3-compatible server for tests on 127.0.0.1: s3rver (which accepts
 * any SigV4 signature) behind an HTTP proxy that verifies every request's
 * signature independently (see sigv4.ts) and answers S3-style XML errors.
 * Clients talk to `endpoint`; tests read objects back from s3rver directly.
 */
import { Buffer } from "node:buffer";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Verdict, verifySigV4 } from "./sigv4.ts";

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

/** One request the verifier saw. */
export interface VerifiedRequest {
  method: string;
  url: string;
  /** The status the client got. */
  status: number;
  /** The verifier's error code when it refused the request. */
  rejected?: string;
  bodyBytes: number;
}

/** Options of {@link startS3TestServer}. */
export interface S3TestServerOptions {
  bucket?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

/** The running pair. */
export interface S3TestServer {
  /** The verifying endpoint clients use, `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** s3rver itself, unauthenticated (for reading back). */
  readonly upstreamEndpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Every request the verifier received, in order. */
  readonly requests: VerifiedRequest[];
  /** An object's bytes read from s3rver directly, or undefined when it does not exist. */
  getObject(key: string): Promise<Uint8Array | undefined>;
  /** The bucket's keys, from s3rver directly. */
  listKeys(): Promise<string[]>;
  /** Stops the verifying endpoint (connections refused) without touching s3rver. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Stops both servers and removes s3rver's directory. */
  close(): Promise<void>;
}

function xmlError(code: string, message: string, extra: Record<string, string> = {}): string {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  let xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${esc(code)}</Code><Message>${
    esc(message)
  }</Message>`;
  for (const [name, value] of Object.entries(extra)) xml += `<${name}>${esc(value)}</${name}>`;
  return xml + "<RequestId>tapline-test</RequestId></Error>";
}

function pairs(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function request(
  agent: http.Agent,
  port: number,
  method: string,
  path: string,
  headers: http.OutgoingHttpHeaders,
  body?: Buffer,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent }, (res) => {
      readBody(res).then((data) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }), reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Starts s3rver with one bucket in a temporary directory, and the verifying
 * proxy in front of it, both on 127.0.0.1 with free ports.
 */
export async function startS3TestServer(options: S3TestServerOptions = {}): Promise<S3TestServer> {
  const bucket = options.bucket ?? "tapline-test";
  const region = options.region ?? "us-east-1";
  const credentials = {
    accessKeyId: options.accessKeyId ?? "AKIATAPLINETEST",
    secretAccessKey: options.secretAccessKey ?? "tapline/test/secret+key",
    ...(options.sessionToken === undefined ? {} : { sessionToken: options.sessionToken }),
  };
  const directory = await mkdtemp(join(tmpdir(), "tapline-s3rver-"));
  const S3rver = createRequire(import.meta.url)("s3rver") as S3rverClass;
  const s3rver = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const upstreamPort = (await s3rver.run()).port;
  const agent = new http.Agent({ keepAlive: true });
  const requests: VerifiedRequest[] = [];
  const keys = {
    [credentials.accessKeyId]: {
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }),
    },
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const url = req.url ?? "/";
      const method = req.method ?? "GET";
      const verdict: Verdict = verifySigV4(
        { method, url, headers: pairs(req.rawHeaders), body },
        { region, keys },
      );
      if (!verdict.ok) {
        requests.push({ method, url, status: verdict.status, rejected: verdict.code, bodyBytes: body.byteLength });
        const extra: Record<string, string> = {};
        if (verdict.canonicalRequest !== undefined) extra["CanonicalRequest"] = verdict.canonicalRequest;
        if (verdict.stringToSign !== undefined) extra["StringToSign"] = verdict.stringToSign;
        res.writeHead(verdict.status, { "content-type": "application/xml" });
        res.end(xmlError(verdict.code, verdict.message, extra));
        return;
      }
      // Conditional writes as S3 does them (s3rver predates them): If-None-Match: * on a PUT or on completing a
      // multipart upload fails with 412 when the object exists.
      const completing = method === "POST" && /[?&]uploadId=/.test(url);
      if (req.headers["if-none-match"] === "*" && (method === "PUT" && !/[?&]partNumber=/.test(url) || completing)) {
        const existing = await request(agent, upstreamPort, "HEAD", url.split("?")[0]!, {
          host: `127.0.0.1:${upstreamPort}`,
        });
        if (existing.status === 200) {
          requests.push({ method, url, status: 412, rejected: "PreconditionFailed", bodyBytes: body.byteLength });
          res.writeHead(412, { "content-type": "application/xml" });
          res.end(xmlError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold"));
          return;
        }
      }
      // s3rver checks V4 credentials against its own fixed account; the signature is verified here.
      const headers: http.OutgoingHttpHeaders = { ...req.headers };
      delete headers["if-none-match"];
      delete headers["authorization"];
      delete headers["transfer-encoding"];
      headers["host"] = `127.0.0.1:${upstreamPort}`;
      headers["content-length"] = String(body.byteLength);
      try {
        const reply = await request(agent, upstreamPort, method, url, headers, body);
        requests.push({ method, url, status: reply.status, bodyBytes: body.byteLength });
        const replyHeaders = { ...reply.headers };
        delete replyHeaders["transfer-encoding"];
        delete replyHeaders["connection"];
        replyHeaders["content-length"] = String(reply.body.byteLength);
        res.writeHead(reply.status, replyHeaders);
        res.end(reply.body);
      } catch (error) {
        requests.push({ method, url, status: 502, rejected: "BadGateway", bodyBytes: body.byteLength });
        res.writeHead(502, { "content-type": "application/xml" });
        res.end(xmlError("BadGateway", `s3rver failed: ${(error as Error).message}`));
      }
    })().catch((error) => {
      res.destroy(error as Error);
    });
  });

  let port = 0;
  let listening = false;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        port = (server.address() as AddressInfo).port;
        listening = true;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!listening) return resolve();
      listening = false;
      server.close(() => resolve());
      server.closeAllConnections();
    });
  await listen();

  const objectPath = (key: string) =>
    `/${encodeURIComponent(bucket)}/${key.split("/").map(encodeURIComponent).join("/")}`;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    upstreamEndpoint: `http://127.0.0.1:${upstreamPort}`,
    bucket,
    region,
    credentials,
    requests,
    async getObject(key: string): Promise<Uint8Array | undefined> {
      const reply = await request(agent, upstreamPort, "GET", objectPath(key), {});
      if (reply.status === 404) return undefined;
      if (reply.status !== 200) throw new Error(`s3rver GET ${key}: HTTP ${reply.status} ${reply.body.toString()}`);
      return new Uint8Array(reply.body);
    },
    async listKeys(): Promise<string[]> {
      const reply = await request(agent, upstreamPort, "GET", `/${encodeURIComponent(bucket)}`, {});
      if (reply.status !== 200) throw new Error(`s3rver list: HTTP ${reply.status} ${reply.body.toString()}`);
      return [...reply.body.toString().matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) =>
        m[1]!.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(
          /&amp;/g,
          "&",
        )
      );
    },
    stop,
    start: listen,
    async close(): Promise<void> {
      await stop();
      agent.destroy();
      await s3rver.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** The AWS_* environment a tapline process needs to archive to `s3` (`secret` to sign with a wrong one). */
export function awsEnvironment(s3: S3TestServer, secret?: string): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: secret ?? s3.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: "",
    AWS_REGION: s3.region,
    AWS_DEFAULT_REGION: "",
  };
}

/** The flags that make a tapline process archive to `s3` under `prefix`. */
export function s3Args(s3: S3TestServer, prefix: string): string[] {
  return ["--s3-bucket", s3.bucket, "--s3-endpoint", s3.endpoint, "--s3-prefix", prefix];
}
