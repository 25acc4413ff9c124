import { recordJson } from "./record-json.ts";
import type { CaptureRecord } from "../capture/record.ts";
import type { AppendFile, RecordSink, SinkFileSystem } from "./types.ts";

/**
 * Appends records to a JSONL file, one JSON object per line and one write per
 * batch. JSONL is the source of truth, so the file is only ever appended to.
 */
export class JsonlSink implements RecordSink {
  readonly name: string;
  readonly path: string;
  readonly #fs: SinkFileSystem;
  #file: Promise<AppendFile> | undefined;
  /** The last append issued; the next one starts after it. */
  #tail: Promise<void> = Promise.resolve();

  constructor(path: string, fs: SinkFileSystem) {
    this.path = path;
    this.name = `jsonl ${path}`;
    this.#fs = fs;
  }

  /** Opens the file now so a bad path fails at start-up, not at the first record. */
  async open(): Promise<void> {
    await this.#handle();
  }

  #handle(): Promise<AppendFile> {
    this.#file ??= this.#fs.openAppend(this.path).catch((error: unknown) => {
      this.#file = undefined;
      throw error;
    });
    return this.#file;
  }

  /** Encodes at once and appends after any earlier batch still being written, so lines keep their order. */
  writeBatch(records: readonly CaptureRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const lines = new Array<string>(records.length + 1);
    for (let i = 0; i < records.length; i++) lines[i] = recordJson(records[i]!);
    lines[records.length] = "";
    const text = lines.join("\n");
    const append = this.#tail.catch(() => {}).then(async () => (await this.#handle()).append(text));
    this.#tail = append;
    return append;
  }

  async close(): Promise<void> {
    await this.#tail.catch(() => {});
    const file = this.#file;
    this.#file = undefined;
    if (file) await (await file).close();
  }
}
