/**
 * S3 archival of rotated capture files: built from the config and the AWS_*
 * environment, started after the sinks are open (its first scan finds files
 * left by an earlier run), closed last at shutdown.
 */
import type { Config } from "../config/types.ts";
import type { Logger } from "../shared/logger.ts";
import type { Runtime } from "../runtime/types.ts";
import { S3_DEFAULTS, s3EnvironmentFromEnv, type S3Options, validateS3Options } from "../s3/options.ts";
import { createS3Uploader, type S3Uploader } from "../s3/uploader.ts";
import { listRotated } from "../sinks/retention.ts";

/** How often rotated files are looked for again, besides the uploads rotation asks for. */
const SCAN_INTERVAL_MS = 60_000;

/** What {@link createArchive} needs besides the config. */
export interface ArchiveDependencies {
  runtime: Runtime;
  logger: Logger;
  /** The capture files whose rotated siblings are uploaded. */
  livePaths: () => readonly string[];
}

/**
 * The uploader for `--s3-bucket`, or undefined when S3 is not configured.
 *
 * @throws ConfigError when credentials or the region are missing.
 */
export function createArchive(
  config: Config,
  { runtime, logger, livePaths }: ArchiveDependencies,
): S3Uploader | undefined {
  if (config.s3Bucket === undefined) return undefined;
  const environment = s3EnvironmentFromEnv(runtime.env(), config.s3Region);
  const options: S3Options = {
    ...S3_DEFAULTS,
    retry: { ...S3_DEFAULTS.retry },
    bucket: config.s3Bucket,
    prefix: config.s3Prefix ?? "",
    ...(config.s3Endpoint === undefined ? {} : { endpoint: config.s3Endpoint }),
    ...environment,
  };
  validateS3Options(options);
  return createS3Uploader(options, {
    fs: runtime.fs,
    sha256: runtime.sha256,
    logger,
    scanIntervalMs: SCAN_INTERVAL_MS,
    listPending: async () => (await Promise.all(livePaths().map((path) => listRotated(runtime.fs, path)))).flat(),
  });
}
