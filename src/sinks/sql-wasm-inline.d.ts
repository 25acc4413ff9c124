/**
 * Types for sql.js's inline build, which carries its WebAssembly as base64 so
 * no `.wasm` path has to be resolved (Deno without permissions, `bun build
 * --compile`). The file is CommonJS exporting `initSqlJs`; @types/sql.js
 * only describes the package root, whose API is the same.
 */
declare module "sql.js/dist/sql-wasm-inline.js" {
  import type { InitSqlJsStatic } from "sql.js";
  const initSqlJs: InitSqlJsStatic;
  export default initSqlJs;
}
