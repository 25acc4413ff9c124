/**
 * S3 archival settings and the AWS_* environment variables they read
 * credentials and region from.
 */
import { ConfigError } from "../shared/errors.ts";

/** Access keys for SigV4 signing. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials (STS) carry a session token, sent as `x-amz-security-token`. */
  sessionToken?: string;
}

/** Exponential backoff between retries of a failed upload. */
export interface RetryOptions {
  /** Delay before the first retry, milliseconds. */
  initialMs: number;
  /** Upper bound of any delay, milliseconds. */
  maxMs: number;
}

/** Where and how rotated files are archived. */
export interface S3Options {
  bucket: string;
  /**
   * Prepended to each file name to form the object key. A non-empty prefix
   * without a trailing `/` gets one (`logs` + `api.jsonl` = `logs/api.jsonl`).
   */
  prefix: string;
  /**
   * An S3-compatible endpoint such as `http://127.0.0.1:9000` (MinIO) or an
   * R2 account URL; requests to it are path-style (`/bucket/key`). Absent:
   * AWS, `https://<bucket>.s3.<region>.amazonaws.com`.
   */
  endpoint?: string;
  region: string;
  credentials: S3Credentials;
  /** Files larger than this go multipart. */
  multipartThresholdBytes: number;
  /** Size of each multipart part except the last; S3 requires >= 5 MiB. */
  partSizeBytes: number;
  retry: RetryOptions;
  /** Object keys (object-key.ts); absent: the flat `{prefix}{file}`. */
  keyTemplate?: string;
  /** `{instance}` in keys. */
  instance?: string;
  /** Compression of rotated JSONL before upload; absent: none. */
  compress?: "gzip" | "zstd" | "none";
}

/** S3's smallest allowed multipart part (all parts but the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

/** S3's largest number of parts in one multipart upload. */
export const MAX_PARTS = 10_000;

/** Defaults for the tuning fields of {@link S3Options}. */
export const S3_DEFAULTS = {
  prefix: "",
  multipartThresholdBytes: 16 * 1024 * 1024,
  partSizeBytes: 8 * 1024 * 1024,
  retry: { initialMs: 1_000, maxMs: 300_000 },
} as const;

/** Region and credentials found in the environment. */
export interface S3Environment {
  region: string;
  credentials: S3Credentials;
}

function nonEmpty(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/**
 * Reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, the optional
 * `AWS_SESSION_TOKEN`, and `AWS_REGION` (falling back to
 * `AWS_DEFAULT_REGION`). `region` given by the caller (a flag or YAML) wins
 * over the environment.
 *
 * @throws ConfigError naming the missing variable.
 * @example
 * const { region, credentials } = s3EnvironmentFromEnv(runtime.env());
 */
export function s3EnvironmentFromEnv(env: Record<string, string | undefined>, region?: string): S3Environment {
  const accessKeyId = nonEmpty(env, "AWS_ACCESS_KEY_ID");
  if (accessKeyId === undefined) {
    throw new ConfigError("Missing AWS_ACCESS_KEY_ID in the environment: S3 archival needs credentials", {
      field: "AWS_ACCESS_KEY_ID",
    });
  }
  const secretAccessKey = nonEmpty(env, "AWS_SECRET_ACCESS_KEY");
  if (secretAccessKey === undefined) {
    throw new ConfigError("Missing AWS_SECRET_ACCESS_KEY in the environment: S3 archival needs credentials", {
      field: "AWS_SECRET_ACCESS_KEY",
    });
  }
  const resolvedRegion = region?.trim() || nonEmpty(env, "AWS_REGION") || nonEmpty(env, "AWS_DEFAULT_REGION");
  if (resolvedRegion === undefined) {
    throw new ConfigError(
      "Missing AWS_REGION (or AWS_DEFAULT_REGION) in the environment: S3 archival needs a region",
      { field: "AWS_REGION" },
    );
  }
  const credentials: S3Credentials = { accessKeyId, secretAccessKey };
  const sessionToken = nonEmpty(env, "AWS_SESSION_TOKEN");
  if (sessionToken !== undefined) credentials.sessionToken = sessionToken;
  return { region: resolvedRegion, credentials };
}

/**
 * Checks the numeric and URL fields of {@link S3Options}.
 *
 * @throws ConfigError naming the field, e.g. `partSizeBytes`.
 */
export function validateS3Options(options: S3Options): void {
  if (options.bucket.trim() === "") throw new ConfigError("Invalid S3 bucket: must not be empty", { field: "bucket" });
  if (options.endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(options.endpoint);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
      throw new ConfigError(`Invalid S3 endpoint "${options.endpoint}": must be an http:// or https:// URL`, {
        field: "endpoint",
      });
    }
  }
  if (!(options.partSizeBytes >= MIN_PART_SIZE)) {
    throw new ConfigError(
      `Invalid S3 part size ${options.partSizeBytes}: must be at least ${MIN_PART_SIZE} bytes (5 MiB)`,
      { field: "partSizeBytes" },
    );
  }
  if (!(options.multipartThresholdBytes >= 0)) {
    throw new ConfigError(`Invalid S3 multipart threshold ${options.multipartThresholdBytes}: must be >= 0`, {
      field: "multipartThresholdBytes",
    });
  }
  if (!(options.retry.initialMs > 0) || !(options.retry.maxMs >= options.retry.initialMs)) {
    throw new ConfigError(
      `Invalid S3 retry delays ${options.retry.initialMs}/${options.retry.maxMs} ms: need 0 < initial <= max`,
      { field: "retry" },
    );
  }
}

/** The object key of a file: the prefix (with a `/` added when missing) and the name. */
export function objectKey(prefix: string, fileName: string): string {
  if (prefix === "" || prefix.endsWith("/")) return prefix + fileName;
  return `${prefix}/${fileName}`;
}
