// Golden outputs: what the built CLI prints for every example and e2e manifest against the
// simulated LXD, stored under test/unit/golden/. A refactor that changes nothing a user sees
// leaves every file as it is. When an output is meant to change, rewrite the files with
// `UPDATE_GOLDEN=1 npm test` and review the diff before committing it.

import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, nestctl } from './helpers/cli.js';

const GOLDEN = join(ROOT, 'test/unit/golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Case {
  /** File name under test/unit/golden/. */
  file: string;
  args: string[];
  normalise?: (stdout: string) => string;
  /** The exit code expected (default 0). */
  code?: number;
}

const manifests = (dir: string): string[] =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => `${dir}/${f}`);

const EXAMPLES = manifests('examples');
const E2E = manifests('test/e2e/manifests');
const stem = (path: string): string => `${path.startsWith('examples/') ? 'examples' : 'e2e'}.${basename(path, '.yaml')}`;

// The version changes with every release, not with a refactor; it is checked, then replaced.
function normaliseTool(stdout: string): string {
  const tool = (JSON.parse(stdout) as { tool: unknown }).tool;
  expect(tool).toBe(`nestctl ${VERSION}`);
  const line = `"tool": ${JSON.stringify(tool)}`;
  expect(stdout.split(line).length).toBe(2);
  return stdout.replace(line, '"tool": "nestctl <version>"');
}

// Progress lines and the summary carry wall-clock durations, e.g. "(0.0 s)".
const normaliseDurations = (stdout: string): string => stdout.replace(/\(\d+(?:\.\d+)? s\)/g, '(<t> s)');

const CASES: Case[] = [
  ...[...EXAMPLES, ...E2E].flatMap((m): Case[] => [
    { file: `plan.${stem(m)}.txt`, args: ['plan', '--simulate', m] },
    { file: `plan-json.${stem(m)}.json`, args: ['plan', '--simulate', '--json', m], normalise: normaliseTool },
  ]),
  ...EXAMPLES.map((m): Case => ({ file: `viz.${stem(m)}.txt`, args: ['viz', '--simulate', m] })),
  ...['examples/seed.yaml', 'examples/isolated.yaml', 'examples/hosts.yaml'].flatMap((m): Case[] => [
    { file: `status.${stem(m)}.txt`, args: ['status', '--simulate', m] },
    { file: `status-json.${stem(m)}.json`, args: ['status', '--simulate', '--json', m], normalise: normaliseTool },
  ]),
  {
    file: 'status.world-leaf-converged.txt',
    args: ['status', '--world', 'test/unit/fixtures/worlds/leaf-converged.yaml', 'test/unit/fixtures/leaf.yaml'],
  },
  {
    file: 'status-json.world-leaf-converged.json',
    args: ['status', '--json', '--world', 'test/unit/fixtures/worlds/leaf-converged.yaml', 'test/unit/fixtures/leaf.yaml'],
    normalise: normaliseTool,
  },
  ...['examples/seed.yaml', 'examples/isolated.yaml', 'examples/docker.yaml', 'examples/hosts.yaml'].map(
    (m): Case => ({ file: `graph.${stem(m)}.dot`, args: ['graph', '--simulate', m] }),
  ),
  {
    file: 'plan.world-seed-c1-daemon-down.txt',
    args: ['plan', '--world', 'test/unit/fixtures/worlds/seed-c1-daemon-down.yaml', 'examples/seed.yaml'],
  },
  {
    file: 'plan.world-mv-applied.txt',
    args: ['plan', '--world', 'test/unit/fixtures/worlds/mv-applied.yaml', 'test/e2e/manifests/mv-after.yaml'],
  },
  {
    file: 'plan-json.world-mv-applied.json',
    args: ['plan', '--json', '--world', 'test/unit/fixtures/worlds/mv-applied.yaml', 'test/e2e/manifests/mv-after.yaml'],
    normalise: normaliseTool,
  },
  {
    file: 'destroy.world-leaf-converged.txt',
    args: ['destroy', '--world', 'test/unit/fixtures/worlds/leaf-converged.yaml', '--auto-approve', 'test/unit/fixtures/leaf.yaml'],
    normalise: normaliseDurations,
  },
  {
    file: 'destroy.world-leaf-holds-stranger.txt',
    args: [
      'destroy',
      '--world',
      'test/unit/fixtures/worlds/leaf-holds-stranger.yaml',
      '--auto-approve',
      'test/unit/fixtures/nest-leaves.yaml',
    ],
    normalise: normaliseDurations,
  },
  { file: 'fmt-check.unformatted.txt', args: ['fmt', '--check', 'test/unit/fixtures/unformatted.yaml'], code: 1 },
  { file: 'completion.bash.txt', args: ['completion', 'bash'] },
  { file: 'import.world-hand-built.yaml', args: ['import', '--world', 'test/unit/fixtures/worlds/hand-built.yaml'] },
  { file: 'import.world-hand-built-odd.yaml', args: ['import', '--world', 'test/unit/fixtures/worlds/hand-built-odd.yaml'] },
];

describe.concurrent('golden CLI outputs (NO_COLOR, simulated LXD)', () => {
  for (const c of CASES) {
    it(`nestctl ${c.args.join(' ')} → golden/${c.file}`, async () => {
      const r = await nestctl(c.args);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(c.code ?? 0);
      const actual = c.normalise ? c.normalise(r.stdout) : r.stdout;
      const path = join(GOLDEN, c.file);
      if (UPDATE) {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(path, actual);
        return;
      }
      let expected: string;
      try {
        expected = readFileSync(path, 'utf8');
      } catch {
        throw new Error(`missing golden file ${path}: run UPDATE_GOLDEN=1 npm test and review it`);
      }
      expect(actual).toBe(expected);
    });
  }
});

describe('golden files', () => {
  it('every file under test/unit/golden/ belongs to a case (a removed manifest leaves none behind)', () => {
    const known = new Set(CASES.map((c) => c.file));
    const stray = readdirSync(GOLDEN).filter((f) => !known.has(f));
    expect(stray).toEqual([]);
    expect(EXAMPLES.length).toBeGreaterThan(0);
    expect(E2E.length).toBeGreaterThan(0);
  });
});
