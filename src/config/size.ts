/**
 * Byte sizes as http-tap-proxy writes them: `512`, `64kb`, `1.5MB`, `10MiB`.
 * KB/MB/GB are 1024-based (as in the Go tool), so `KB` and `KiB` mean the same.
 */
import { shown } from "../shared/shown-value.ts";

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

const SIZE_RE = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)$/i;

/**
 * Parse a size into bytes (rounded down to a whole byte).
 *
 * @example parseSize("1.5MB") // 1572864
 * @throws Error naming the bad value and the accepted units.
 */
export function parseSize(text: string): number {
  const trimmed = text.trim();
  const match = SIZE_RE.exec(trimmed);
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new Error(
      `Invalid size ${shown(text)}: expected a number with an optional unit B, KB, MB or GB`,
    );
  }
  const bytes = Math.floor(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes)) {
    throw new Error(`Invalid size ${shown(text)}: too large`);
  }
  return bytes;
}
