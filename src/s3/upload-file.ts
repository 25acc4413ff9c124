/**
 * Uploads one local file to one key: a single PutObject up to the
 * threshold, a multipart upload above it with parts read and sent one at a
 * time (each a whole buffer, never a stream).
 */
import type { S3ObjectStore } from "./client.ts";
import { MAX_PARTS } from "./options.ts";
import type { CompletedPart } from "./xml.ts";

/** The file operations uploads need; `runtime.fs` (SinkFileSystem) provides them. */
export interface UploadFileSystem {
  readFile(path: string): Promise<Uint8Array>;
  /** Removes a file; a missing file is not an error. */
  remove(path: string): Promise<void>;
  /** Size in bytes, or undefined when the file does not exist. */
  size(path: string): Promise<number | undefined>;
  /**
   * Reads `length` bytes at `offset`. Optional: without it a multipart upload
   * reads the whole file once and slices it, holding the file in memory.
   */
  readRange?(path: string, offset: number, length: number): Promise<Uint8Array>;
  /** Writes `from` compressed to `to`; needed only for compressed uploads. */
  compressFile?(from: string, to: string, format: "gzip" | "zstd"): Promise<void>;
}

/** How a file is sent. */
export interface UploadFileOptions {
  multipartThresholdBytes: number;
  partSizeBytes: number;
  contentType?: string;
  signal?: AbortSignal;
  /** Refuse to overwrite an existing object (`If-None-Match: *`): a taken key fails with 412. */
  ifNoneMatch?: boolean;
  /** Told about a failure to abort a multipart upload (the upload's own error is thrown). */
  onAbortError?: (error: unknown) => void;
}

/** One local file, the object it becomes, and how it is sent. */
export interface UploadFileRequest extends UploadFileOptions {
  store: S3ObjectStore;
  fs: UploadFileSystem;
  /** The local file. */
  path: string;
  /** The object key. */
  key: string;
}

/** What was sent. */
export interface UploadFileResult {
  bytes: number;
  /** 0 for a single PutObject. */
  parts: number;
}

/** The part size that keeps a file of `size` bytes within S3's 10,000 parts. */
export function effectivePartSize(size: number, partSizeBytes: number): number {
  return Math.max(partSizeBytes, Math.ceil(size / MAX_PARTS));
}

/** The MIME type archived files are stored with, by extension. */
export function contentTypeFor(fileName: string): string {
  const name = fileName.toLowerCase();
  if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) return "application/x-ndjson";
  if (name.endsWith(".db") || name.endsWith(".sqlite") || name.endsWith(".sqlite3")) return "application/vnd.sqlite3";
  if (name.endsWith(".gz")) return "application/gzip";
  if (name.endsWith(".zst")) return "application/zstd";
  return "application/octet-stream";
}

/**
 * Uploads `path` to `key`; resolves only once S3 has confirmed the whole
 * object. A failed multipart upload is aborted (best effort) before the
 * error is rethrown.
 */
export async function uploadFile(request: UploadFileRequest): Promise<UploadFileResult> {
  const { store, fs, path, key, contentType, signal } = request;
  const size = await fs.size(path);
  if (size === undefined) throw new Error(`Cannot upload ${path}: the file does not exist`);
  if (size <= request.multipartThresholdBytes) {
    const bytes = await fs.readFile(path);
    await store.putObject({ key, body: bytes, contentType, signal, ifNoneMatch: request.ifNoneMatch === true });
    return { bytes: bytes.byteLength, parts: 0 };
  }

  const partSize = effectivePartSize(size, request.partSizeBytes);
  let whole: Uint8Array | undefined;
  const readPart = async (offset: number, length: number): Promise<Uint8Array> => {
    if (fs.readRange !== undefined) return await fs.readRange(path, offset, length);
    whole ??= await fs.readFile(path);
    return whole.subarray(offset, offset + length);
  };

  const uploadId = await store.createMultipartUpload(key, contentType, signal);
  try {
    const parts: CompletedPart[] = [];
    for (let offset = 0, partNumber = 1; offset < size; offset += partSize, partNumber++) {
      const length = Math.min(partSize, size - offset);
      const body = await readPart(offset, length);
      if (body.byteLength !== length) {
        throw new Error(`Cannot upload ${path}: the file changed size while uploading (part ${partNumber})`);
      }
      const etag = await store.uploadPart({ key, uploadId, partNumber, body, signal });
      parts.push({ partNumber, etag });
    }
    await store.completeMultipartUpload({ key, uploadId, parts, signal, ifNoneMatch: request.ifNoneMatch === true });
    return { bytes: size, parts: parts.length };
  } catch (error) {
    try {
      // Not under the caller's signal: after a shutdown abort the parts should still be dropped.
      await store.abortMultipartUpload(key, uploadId, AbortSignal.timeout(5_000));
    } catch (abortError) {
      request.onAbortError?.(abortError);
    }
    throw error;
  }
}
