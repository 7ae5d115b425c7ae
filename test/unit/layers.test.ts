// The layer rule of ARCHITECTURE.md as a test: which folder of src/ may import which. Imports are
// read from the text of every file (a regex, not the compiler), resolved to a repository path or
// a package name, and each one that breaks a rule is reported with its file and line.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { type Import, importsOf, sourceFiles } from './helpers/imports.js';

const LAYERS = ['core', 'ports', 'adapters', 'engine', 'render', 'cli'] as const;
type Layer = (typeof LAYERS)[number];

/**
 * What src/core may import from outside src/core, and why each is still pure: none of them reads
 * or writes anything outside the process.
 */
const CORE_EXCEPTIONS: Record<string, string> = {
  'node:crypto': 'sha256 of canonical JSON (core/plan/digest.ts): a computation, no I/O',
  yaml: 'parses and prints manifest text handed in as a string (core/manifest, core/plan/preseed.ts)',
  ajv: 'checks values against the shipped JSON schemas (core/manifest/schema-check.ts, core/plan/codec.ts)',
  'schemas/manifest.schema.json': 'the shipped manifest schema, imported as data at build time',
  'schemas/plan.schema.json': 'the shipped saved-plan schema, imported as data at build time',
  'schemas/world.schema.json': 'the shipped simulated-world schema, imported as data at build time',
};

/** node: modules that reach files, processes, the network or the environment: never in core. */
const IO_MODULES = ['fs', 'fs/promises', 'child_process', 'net', 'os', 'process', 'http', 'https', 'http2', 'dgram', 'tls', 'readline', 'worker_threads', 'cluster'].map((m) => `node:${m}`);

/** Which layers each layer must not import (core and ports are checked by what they may import). */
const FORBIDDEN: Partial<Record<Layer, Layer[]>> = {
  adapters: ['engine', 'render', 'cli'],
  engine: ['render', 'cli'],
  render: ['cli', 'adapters'],
};

const layerOf = (path: string): Layer | undefined => {
  const [top, layer] = path.split('/');
  return top === 'src' && (LAYERS as readonly string[]).includes(layer!) ? (layer as Layer) : undefined;
};

/** The rule each import breaks, or undefined. */
function violation(i: Import): string | undefined {
  const from = layerOf(i.file);
  const to = layerOf(i.target);
  const relativeImport = i.specifier.startsWith('.');
  if (from === 'core') {
    if (IO_MODULES.includes(i.target)) return `src/core does no I/O, but imports ${i.target}`;
    if (to === 'core' || i.target in CORE_EXCEPTIONS) return undefined;
    return `src/core imports only src/core (and the listed exceptions), not ${i.target}`;
  }
  if (from === 'ports') return to === 'core' || to === 'ports' ? undefined : `src/ports imports only src/core, not ${i.target}`;
  if (from && to && FORBIDDEN[from]?.includes(to)) return `src/${from} must not import src/${to}`;
  if (relativeImport && !to && from) return `src/${from} imports ${i.target}, outside src/`;
  return undefined;
}

const FILES = sourceFiles('src');
const IMPORTS = FILES.flatMap((f) => importsOf(f, readFileSync(join(ROOT, f), 'utf8')));

describe('layers', () => {
  it('every import in src/ keeps to the layer rule', () => {
    const broken = IMPORTS.flatMap((i) => {
      const why = violation(i);
      return why ? [`${i.file}:${i.line}: import '${i.specifier}': ${why}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it('the scan sees every layer and the imports that matter (a regex that matched nothing would pass the rule)', () => {
    for (const layer of LAYERS) expect(FILES.some((f) => layerOf(f) === layer)).toBe(true);
    const has = (file: string, target: string) => IMPORTS.some((i) => i.file === file && i.target === target);
    expect(has('src/core/plan/digest.ts', 'node:crypto')).toBe(true);
    expect(has('src/core/plan/codec.ts', 'schemas/plan.schema.json')).toBe(true);
    expect(has('src/adapters/process-exec.ts', 'node:child_process')).toBe(true);
    expect(has('src/render/progress.ts', 'src/engine/apply.js')).toBe(true);
    // every exception is still used: one that is not would be a hole left open
    for (const allowed of Object.keys(CORE_EXCEPTIONS)) expect(IMPORTS.some((i) => layerOf(i.file) === 'core' && i.target === allowed), allowed).toBe(true);
  });

  it('reports the imports that break the rule, with file and line', () => {
    const text = [
      "import { readFileSync } from 'node:fs';",
      "import type {",
      "  Exec,",
      "} from '../../ports/exec.js';",
      "export { x } from '../../cli/main.js';",
      "import os from 'os';",
      "import { sha } from './digest.js';",
      "const m = await import('../../adapters/sim/index.js');",
      "import { createHash } from 'node:crypto';",
    ].join('\n');
    const found = importsOf('src/core/plan/x.ts', text).map((i) => `${i.line} ${violation(i) ?? 'ok'}`);
    expect(found).toEqual([
      '1 src/core does no I/O, but imports node:fs',
      '2 src/core imports only src/core (and the listed exceptions), not src/ports/exec.js',
      '5 src/core imports only src/core (and the listed exceptions), not src/cli/main.js',
      '6 src/core does no I/O, but imports node:os',
      '7 ok',
      '8 src/core imports only src/core (and the listed exceptions), not src/adapters/sim/index.js',
      '9 ok',
    ]);
    const at = (file: string, specifier: string) => violation(importsOf(file, `import x from '${specifier}';`)[0]!);
    expect(at('src/ports/lxd.ts', 'yaml')).toBe('src/ports imports only src/core, not yaml');
    expect(at('src/ports/lxd.ts', '../core/paths.js')).toBeUndefined();
    expect(at('src/adapters/sim/level.ts', '../../engine/apply.js')).toBe('src/adapters must not import src/engine');
    expect(at('src/adapters/sim/level.ts', '../../render/colour.js')).toBe('src/adapters must not import src/render');
    expect(at('src/engine/apply.ts', '../cli/main.js')).toBe('src/engine must not import src/cli');
    expect(at('src/engine/apply.ts', '../render/plan-text.js')).toBe('src/engine must not import src/render');
    expect(at('src/render/viz.ts', '../adapters/sim/index.js')).toBe('src/render must not import src/adapters');
    expect(at('src/render/viz.ts', '../cli/io.js')).toBe('src/render must not import src/cli');
    expect(at('src/render/viz.ts', '../engine/apply.js')).toBeUndefined();
    expect(at('src/cli/main.ts', '../adapters/sim/index.js')).toBeUndefined();
  });
});
