/** The error an S3 request raises: S3's own code and message, and the HTTP status. */
import { TaplineError } from "../shared/errors.ts";

/** What went wrong in one S3 request: the fields of {@link S3RequestError}, and the object. */
export interface S3RequestFailure {
  operation: string;
  status: number;
  s3Code: string;
  s3Message: string;
  /** `s3://bucket/key`. */
  where: string;
}

/** A failed S3 request (an error response, or no response at all). */
export class S3RequestError extends TaplineError {
  /** The S3 operation, e.g. `PutObject`. */
  readonly operation: string;
  /** HTTP status, or 0 when the request got no response (connection refused, timeout). */
  readonly status: number;
  /** S3's error code from the XML body, e.g. `SignatureDoesNotMatch`; `NetworkError` without a response. */
  readonly s3Code: string;
  /** S3's error message from the XML body, or a description of the failure. */
  readonly s3Message: string;

  constructor(failure: S3RequestFailure, options?: { cause?: unknown }) {
    const { operation, status, s3Code, s3Message, where } = failure;
    const what = status === 0 ? "no response" : `HTTP ${status} ${s3Code}`;
    super("s3_request_failed", `S3 ${operation} of ${where} failed: ${what}: ${s3Message}`, {
      ...options,
      exitCode: 69,
    });
    this.name = "S3RequestError";
    this.operation = operation;
    this.status = status;
    this.s3Code = s3Code;
    this.s3Message = s3Message;
  }
}
