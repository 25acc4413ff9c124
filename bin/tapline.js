#!/usr/bin/env node
// The npm `tapline` command on Node; Deno and Bun run src/cli/main.ts directly.
import "../dist/src/cli/main.js";
