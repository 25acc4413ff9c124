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
import { keyTemplateProblem } from "../s3/object-key.ts";
import { ConfigError, UnavailableError } from "../shared/errors.ts";
import { shown } from "../shared/shown-value.ts";
import { resolveInstanceId } from "./instance-id.ts";
import type { CaptureRecord } from "../shared/record.ts";
import { readJsonl, type SkippedLine } from "../traces/jsonl-reader.ts";
import { parquetFile } from "../traces/parquet.ts";

/** How often rotated files are looked for again, besides the uploads rotation asks for. */
const SCAN_INTERVAL_MS = 60_000;

/** What {@link createArchive} needs besides the config. */
export interface ArchiveDependencies {
  runtime: Runtime;
  logger: Logger;
  /** The capture files whose rotated siblings are uploaded. */
  livePaths: () => readonly string[];
  /** Where the generated instance id is kept. */
  dataDir: string;
}

/**
 * The uploader for `--s3-bucket`, or undefined when S3 is not configured.
 *
 * @throws ConfigError when credentials or the region are missing.
 */
export async function createArchive(
  config: Config,
  { runtime, logger, livePaths, dataDir }: ArchiveDependencies,
): Promise<S3Uploader | undefined> {
  if (config.s3Bucket === undefined) return undefined;
  const environment = s3EnvironmentFromEnv(runtime.env(), config.s3Region);
  const problem = keyTemplateProblem(config.s3KeyTemplate);
  if (problem !== undefined) {
    throw new ConfigError(`Invalid --s3-key-template ${shown(config.s3KeyTemplate)}: ${problem}`, {
      field: "s3_key_template",
    });
  }
  if (config.s3Compress === "zstd" && runtime.fs.canCompress?.("zstd") !== true) {
    throw new UnavailableError(
      `--s3-compress zstd needs zstd in node:zlib (Node 22.15 or later), which ${runtime.name} ${runtime.version} lacks: use gzip`,
      "zstd_unavailable",
    );
  }
  const options: S3Options = {
    ...S3_DEFAULTS,
    retry: { ...S3_DEFAULTS.retry },
    bucket: config.s3Bucket,
    prefix: config.s3Prefix ?? "",
    ...(config.s3Endpoint === undefined ? {} : { endpoint: config.s3Endpoint }),
    ...environment,
    keyTemplate: config.s3KeyTemplate,
    compress: config.s3Compress,
    instance: await resolveInstanceId(config.instanceId, dataDir, runtime),
  };
  validateS3Options(options);
  logger.info("S3 archive", {
    bucket: options.bucket,
    key_template: options.keyTemplate,
    instance: options.instance,
    compress: options.compress,
    format: config.s3Format,
  });
  return createS3Uploader(options, {
    ...(config.s3Format === "parquet" ? { convert: parquetConversion(runtime, logger) } : {}),
    fs: runtime.fs,
    sha256: runtime.sha256,
    logger,
    scanIntervalMs: SCAN_INTERVAL_MS,
    listPending: async () => (await Promise.all(livePaths().map((path) => listRotated(runtime.fs, path)))).flat(),
  });
}

/** `--s3-format parquet`: a rotated JSONL file as the Parquet file `tapline export --format parquet` writes. */
function parquetConversion(runtime: Runtime, logger: Logger) {
  return {
    ext: ".parquet",
    async run(from: string, to: string): Promise<void> {
      const records: CaptureRecord[] = [];
      const skip = (s: SkippedLine) => logger.warn("Skipped a line converting to Parquet", { ...s });
      for await (const { record } of readJsonl(runtime.fs, from, { onSkip: skip })) records.push(record);
      await runtime.fs.writeFileAtomic(to, parquetFile(records));
    },
  };
}
