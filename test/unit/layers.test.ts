// The layer rule of ARCHITECTURE.md as a test: which folder of src/ may import which. Imports are
// read from the text of every file (a regex, not the compiler), resolved to a repository path or
// a package name, and each one that breaks a rule is reported with its file and line.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';
import { type Import, importsOf, sourceFiles } from './helpers/imports.js';

const LAYERS = ['core', 'ports', 'adapters', 'sim', 'engine', 'render', 'cli'] as const;
type Layer = (typeof LAYERS)[number];

/**
 * What src/core may import from outside src/core, and why each is still pure: none of them reads
 * or writes anything outside the process.
 */
const CORE_EXCEPTIONS: Record<string, string> = {
  'node:crypto': 'sha256 of text and canonical JSON (core/hash.ts): a computation, no I/O',
  yaml: 'parses and prints manifest text handed in as a string (core/manifest, core/plan/preseed.ts)',
  ajv: 'the types of its errors only: the validators are compiled from the shipped schemas at build time into core/generated/ (scripts/compile-schemas.mjs) and import nothing',
  'schemas/plan.schema.json': 'the shipped saved-plan schema, read as data for its step kinds (core/plan/codec.ts)',
  'schemas/manifest.schema.json':
    'the shipped manifest schema, read as data for the order of its keys (core/manifest/format.ts, nestctl fmt)',
};

/** node: modules that reach files, processes, the network or the environment: never in core. */
const IO_MODULES = [
  'fs',
  'fs/promises',
  'child_process',
  'net',
  'os',
  'process',
  'http',
  'https',
  'http2',
  'dgram',
  'tls',
  'readline',
  'worker_threads',
  'cluster',
].map((m) => `node:${m}`);

/**
 * What src/sim may import besides src/sim, src/core and src/ports: the simulator answers the real
 * client's commands, so it reads their argv and scripts as constants, and nothing that decides.
 */
const SIM_ADAPTER_CONSTANTS = [
  'commands',
  'files-script',
  'lxc-commands',
  'lxc-scripts',
  'probe-script',
  'remote-commands',
  'write-subid-script',
].map((m) => `src/adapters/lxd/${m}.js`);
const SIM_PACKAGES: Record<string, string> = {
  'node:crypto': 'sha256 and fingerprints of simulated content: a computation, no I/O',
  yaml: 'reads the preseed and profile YAML a simulated daemon is handed, and world files',
  ajv: 'the types of the generated world-file validator',
};
/** Parts of src/core the simulator must not use beyond types: it would then agree with the code it checks by construction. */
const PLANNER_PARTS = ['src/core/ids/', 'src/core/plan/', 'src/core/planner/'];

/** Who may load the simulator: the CLI's simulated connection (lazily), nothing else. */
const SIM_LOADERS = /^src\/cli\/sim-[\w-]+\.ts$/;

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
  if (from === 'sim') return simViolation(i, to);
  if (to === 'sim' && !SIM_LOADERS.test(i.file))
    return `src/${from ?? '?'} must not import src/sim: only the CLI's simulated connection (src/cli/sim-*.ts) loads it`;
  if (from && to && FORBIDDEN[from]?.includes(to)) return `src/${from} must not import src/${to}`;
  if (relativeImport && !to && from) return `src/${from} imports ${i.target}, outside src/`;
  return undefined;
}

function simViolation(i: Import, to: Layer | undefined): string | undefined {
  if (IO_MODULES.includes(i.target)) return `src/sim does no I/O (a simulated machine touches nothing real), but imports ${i.target}`;
  if (to === 'sim' || to === 'ports' || i.target in SIM_PACKAGES) return undefined;
  if (to === 'core')
    return PLANNER_PARTS.some((p) => i.target.startsWith(p)) && !i.typeOnly
      ? `src/sim uses no allocator or planner logic (types only), not ${i.target}`
      : undefined;
  if (to === 'adapters')
    return SIM_ADAPTER_CONSTANTS.includes(i.target)
      ? undefined
      : `src/sim imports only the client's argv and script constants from src/adapters, not ${i.target}`;
  return `src/sim imports only src/sim, src/core, src/ports and the client's constants, not ${i.target}`;
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
    expect(has('src/core/hash.ts', 'node:crypto')).toBe(true);
    expect(has('src/core/plan/codec.ts', 'schemas/plan.schema.json')).toBe(true);
    expect(has('src/core/manifest/schema-check.ts', 'src/core/generated/manifest-validator.js')).toBe(true);
    expect(has('src/adapters/process-exec.ts', 'node:child_process')).toBe(true);
    expect(has('src/render/progress.ts', 'src/engine/apply.js')).toBe(true);
    // every exception is still used: one that is not would be a hole left open
    for (const allowed of Object.keys(CORE_EXCEPTIONS))
      expect(
        IMPORTS.some((i) => layerOf(i.file) === 'core' && i.target === allowed),
        allowed,
      ).toBe(true);
  });

  it('reports the imports that break the rule, with file and line', () => {
    const text = [
      "import { readFileSync } from 'node:fs';",
      'import type {',
      '  Exec,',
      "} from '../../ports/exec.js';",
      "export { x } from '../../cli/main.js';",
      "import os from 'os';",
      "import { sha } from './digest.js';",
      "const m = await import('../../sim/index.js');",
      "import { createHash } from 'node:crypto';",
    ].join('\n');
    const found = importsOf('src/core/plan/x.ts', text).map((i) => `${i.line} ${violation(i) ?? 'ok'}`);
    expect(found).toEqual([
      '1 src/core does no I/O, but imports node:fs',
      '2 src/core imports only src/core (and the listed exceptions), not src/ports/exec.js',
      '5 src/core imports only src/core (and the listed exceptions), not src/cli/main.js',
      '6 src/core does no I/O, but imports node:os',
      '7 ok',
      '8 src/core imports only src/core (and the listed exceptions), not src/sim/index.js',
      '9 ok',
    ]);
    const at = (file: string, specifier: string) => violation(importsOf(file, `import x from '${specifier}';`)[0]!);
    expect(at('src/ports/lxd.ts', 'yaml')).toBe('src/ports imports only src/core, not yaml');
    expect(at('src/ports/lxd.ts', '../core/paths.js')).toBeUndefined();
    expect(at('src/adapters/lxd/level.ts', '../../engine/apply.js')).toBe('src/adapters must not import src/engine');
    expect(at('src/adapters/lxd/level.ts', '../../render/colour.js')).toBe('src/adapters must not import src/render');
    expect(at('src/adapters/lxd/level.ts', '../../sim/index.js')).toBe(
      "src/adapters must not import src/sim: only the CLI's simulated connection (src/cli/sim-*.ts) loads it",
    );
    expect(at('src/sim/machine.ts', '../engine/apply.js')).toBe(
      "src/sim imports only src/sim, src/core, src/ports and the client's constants, not src/engine/apply.js",
    );
    expect(at('src/sim/machine.ts', '../core/ids/allocate.js')).toBe(
      'src/sim uses no allocator or planner logic (types only), not src/core/ids/allocate.js',
    );
    expect(violation(importsOf('src/sim/remote.ts', "import type { IdRange } from '../core/ids/range.js';")[0]!)).toBeUndefined();
    expect(at('src/sim/machine.ts', '../adapters/lxd/level.js')).toBe(
      "src/sim imports only the client's argv and script constants from src/adapters, not src/adapters/lxd/level.js",
    );
    expect(at('src/sim/machine.ts', '../adapters/lxd/commands.js')).toBeUndefined();
    expect(at('src/sim/files.ts', 'node:fs')).toBe('src/sim does no I/O (a simulated machine touches nothing real), but imports node:fs');
    expect(at('src/engine/apply.ts', '../sim/index.js')).toBe(
      "src/engine must not import src/sim: only the CLI's simulated connection (src/cli/sim-*.ts) loads it",
    );
    expect(at('src/cli/sim-connection.ts', '../sim/index.js')).toBeUndefined();
    expect(at('src/engine/apply.ts', '../cli/main.js')).toBe('src/engine must not import src/cli');
    expect(at('src/engine/apply.ts', '../render/plan-text.js')).toBe('src/engine must not import src/render');
    expect(at('src/render/viz.ts', '../adapters/lxd/level.js')).toBe('src/render must not import src/adapters');
    expect(at('src/render/viz.ts', '../cli/io.js')).toBe('src/render must not import src/cli');
    expect(at('src/render/viz.ts', '../engine/apply.js')).toBeUndefined();
    expect(at('src/cli/main.ts', '../adapters/lxd/level.js')).toBeUndefined();
  });
});
