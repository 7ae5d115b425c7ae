// The shipped CLI is the bundle (dist/bundle, package.json's bin); the other tests run tsc's
// unbundled output. The two must be the same program: the same commands and options, and source
// maps that lead a NESTCTL_DEBUG=1 stack trace back to the TypeScript.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, runCommand } from './helpers/cli.js';

const BUNDLE = join(ROOT, 'dist/bundle');
const BIN = join(BUNDLE, 'bin.js');
const node = (cli: string, args: string[]) => runCommand([process.execPath, cli, ...args]);

/** The command names `--help` lists (commander's "Commands:" section). */
const commandsIn = (help: string): string[] =>
  help
    .split('\n')
    .slice(help.split('\n').indexOf('Commands:') + 1)
    .map((l) => /^ {2}(\S+)/.exec(l)?.[1])
    .filter((c): c is string => c !== undefined);

/** Relative chunk files a chunk imports statically (what loads before it runs). */
function staticImports(file: string): string[] {
  const text = readFileSync(join(BUNDLE, file), 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s*"\.\/([^"]+)"|^\s*import\s*"\.\/([^"]+)"/gms)].map((m) => (m[1] ?? m[2])!);
}

describe('the bundled CLI', () => {
  it('is what package.json installs as nestctl', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ nestctl: 'dist/bundle/bin.js' });
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('lists the same commands, and each the same options, as the unbundled CLI', async () => {
    const [bundled, unbundled] = await Promise.all([node(BIN, ['--help']), node(CLI, ['--help'])]);
    expect(bundled.code).toBe(0);
    expect(bundled.stdout).toBe(unbundled.stdout);
    const commands = commandsIn(unbundled.stdout).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['plan', 'apply', 'destroy', 'validate']));
    for (const command of commands) {
      const [b, u] = await Promise.all([node(BIN, [command, '--help']), node(CLI, [command, '--help'])]);
      expect(b.stdout, command).toBe(u.stdout);
      expect(b.code, command).toBe(0);
    }
  }, 60_000);

  it('plans as the unbundled CLI does', async () => {
    const args = ['plan', '--simulate', '--json', 'examples/seed.yaml'];
    const [b, u] = await Promise.all([node(BIN, args), node(CLI, args)]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toBe(u.stdout);
  });

  it('loads no library before a command needs it: the entry and commander only', () => {
    // bin.js imports the program (main.ts's chunk) once source maps are on; what that chunk
    // imports statically is loaded before any command runs.
    const main = /await import\("\.\/(main-[A-Z0-9]+\.js)"\)/.exec(readFileSync(BIN, 'utf8'))?.[1];
    expect(main).toBeDefined();
    const closure = new Set<string>(['bin.js']);
    const walk = (f: string): void => {
      if (closure.has(f)) return;
      closure.add(f);
      for (const g of staticImports(f)) walk(g);
    };
    walk(main!);
    expect(closure.size).toBeGreaterThan(2);
    const packages = new Set<string>();
    for (const f of closure) {
      const map = JSON.parse(readFileSync(join(BUNDLE, `${f}.map`), 'utf8')) as { sources: string[] };
      for (const s of map.sources) {
        const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(s)?.[1];
        if (pkg) packages.add(pkg);
      }
    }
    expect([...packages]).toEqual(['commander']);
  });

  it('maps every chunk of ours back to the TypeScript sources', () => {
    const maps = readdirSync(BUNDLE).filter((f) => f.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(5);
    const ours = maps
      .flatMap((f) => (JSON.parse(readFileSync(join(BUNDLE, f), 'utf8')) as { sources: string[] }).sources)
      .filter((s) => !s.includes('node_modules') && !s.endsWith('.json'));
    expect(ours.length).toBeGreaterThan(100);
    expect(ours.filter((s) => !/(^|\/)src\/.+\.ts$/.test(s))).toEqual([]);
  });
});
