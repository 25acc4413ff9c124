/** S3 archival counters, plain fields the admin port renders as Prometheus text. */

/** Counters of one uploader. */
export class S3Metrics {
  /** Files uploaded (and then deleted locally). */
  uploads = 0;
  /** Upload attempts that failed (each retry counts). */
  uploadFailures = 0;
  /** Bytes of the files uploaded. */
  bytesUploaded = 0;
  /** Files waiting for upload now, including the one in progress and those waiting to retry. */
  filesPending = 0;
}
