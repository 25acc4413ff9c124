/** Rotation and retention of sink files, in one import. */
export {
  baseName,
  compareRotated,
  directoryOf,
  isRotatedName,
  parseRotatedName,
  type RotatedKey,
  rotatedPath,
  rotationStamp,
  splitPath,
} from "./rotated-name.ts";
export { applyRetention, listRotated, UNLIMITED_RETENTION } from "./retention.ts";
export {
  DEFAULT_ROTATE_BYTES,
  DEFAULT_ROTATE_INTERVAL_MS,
  DEFAULT_ROTATION,
  type RotationPolicy,
  Rotator,
} from "./rotator.ts";
