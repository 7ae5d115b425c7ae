#!/usr/bin/env node
// The shipped CLI: dist/src (tsc's output, which the tests run) bundled into dist/bundle, one
// entry (bin.js) and one chunk per command, so a command loads only its own code and one file per
// package instead of hundreds of modules. Source maps chain back to the TypeScript through tsc's
// own maps, for NESTCTL_DEBUG=1 stack traces.
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = resolve(ROOT, 'dist/bundle');
rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: [resolve(ROOT, 'dist/src/cli/bin.js')],
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  sourcemap: true,
  logLevel: 'warning',
  // commander and the other CommonJS packages call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as nestctlRequire } from 'node:module'; const require = nestctlRequire(import.meta.url);" },
});
