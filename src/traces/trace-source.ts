/**
 * Where traces are read from, newest first: a JSONL capture (its live file
 * and rotated files) or a live SQLite database. Each source resumes from a
 * position it hands out; the list merges sources by time and keeps every
 * source's position in one opaque cursor.
 */
import type { CaptureRecord } from "../shared/record.ts";

/** A position inside one source, as JSON (validated when a cursor is decoded). */
export type SourcePosition = Record<string, string | number>;

/** Bounds a source may apply itself (a database can; a file source leaves them to the caller). */
export interface SourceBounds {
  route?: string;
  /** ISO timestamps, inclusive. */
  since?: string;
  until?: string;
}

/** A record read newest first, and the position that resumes the read at this record (inclusive). */
export interface PositionedRecord {
  record: CaptureRecord;
  position: SourcePosition;
}

/** One source of traces. */
export interface TraceSource {
  /** Stable key in cursors, e.g. `jsonl:api.jsonl`. */
  readonly key: string;
  /**
   * Trace records (see isTrace) newest first, from `from` (inclusive) or the
   * newest. A position that no longer fits (its file was removed) throws
   * CursorError.
   */
  newest(from: SourcePosition | undefined, bounds: SourceBounds): AsyncIterable<PositionedRecord>;
  /** Every record (any type) in the bounds, oldest first: what an export reads. */
  oldest(bounds: SourceBounds): AsyncIterable<CaptureRecord>;
  /** The record with this id (any type), or undefined. */
  find(id: string): Promise<CaptureRecord | undefined>;
  /** Frames, events and custom records of an exchange, oldest first. */
  related(connectionId: string): AsyncIterable<CaptureRecord>;
}

/** A cursor that cannot be used: not one this server gave out, or its file is gone. */
export class CursorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CursorError";
  }
}

/** Positions by source key; null for a source that has nothing more. */
export type CursorState = Record<string, SourcePosition | null>;

/** The cursor text of a state: base64url of its JSON. */
export function encodeCursor(state: CursorState): string {
  const bytes = new TextEncoder().encode(JSON.stringify({ v: 1, p: state }));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Longest cursor accepted. */
const MAX_CURSOR_LENGTH = 8192;

/** The state of a cursor text. @throws CursorError when it is not one this server could have made */
export function decodeCursor(text: string): CursorState {
  if (text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) {
    throw new CursorError("The cursor is malformed");
  }
  let value: unknown;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    value = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
  } catch {
    throw new CursorError("The cursor is malformed");
  }
  const state = (value as { v?: unknown; p?: unknown } | null)?.p;
  if ((value as { v?: unknown }).v !== 1 || typeof state !== "object" || state === null || Array.isArray(state)) {
    throw new CursorError("The cursor is malformed");
  }
  for (const position of Object.values(state)) {
    if (position === null) continue;
    if (typeof position !== "object" || Array.isArray(position)) throw new CursorError("The cursor is malformed");
    for (const field of Object.values(position)) {
      if (typeof field !== "string" && typeof field !== "number") throw new CursorError("The cursor is malformed");
    }
  }
  return state as CursorState;
}
