// nestctl installs as users install it: `npm pack` of the built checkout gives a tarball that
// `npm install -g ./nestctl-X.tgz --prefix P` installs, and the installed command works from a
// directory outside the checkout, with the examples and schemas it ships. npm resolves the
// dependencies from its cache first (--prefer-offline) and asks the registry only for what the
// cache lacks. Every npm run is an asynchronous child process with a time bound.

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, type CliRun, ROOT, runCommand } from './helpers/cli.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const scratch = mkdtempSync(join(tmpdir(), 'nestctl-pack-'));
const prefix = join(scratch, 'prefix');
const elsewhere = mkdtempSync(join(tmpdir(), 'nestctl-elsewhere-'));
const installed = join(prefix, 'lib/node_modules/nestctl');
/** The installed command by name, as a user's shell finds it. */
const env = { PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
const run = (argv: string[]): Promise<CliRun> => runCommand(argv, { cwd: elsewhere, env, timeoutMs: 30_000 });

let packed: string[] = [];
let tarball = '';
let install: CliRun;

beforeAll(async () => {
  expect(existsSync(CLI), 'npm test builds dist/ first').toBe(true);
  // dist/ is built already; --ignore-scripts keeps `prepare` from building it a second time.
  const pack = await runCommand(['npm', 'pack', '--ignore-scripts', '--json', '--pack-destination', scratch], { timeoutMs: 60_000 });
  expect(pack.code, pack.stderr).toBe(0);
  const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  packed = info!.files.map((f) => f.path);
  tarball = join(scratch, info!.filename);
  install = await runCommand(['npm', 'install', '-g', tarball, '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: elsewhere,
    timeoutMs: 90_000,
  });
}, 180_000);

describe('npm pack, then npm install -g of the tarball', () => {
  it('packs the built CLI, its schemas, examples and docs, and no sources or tests', () => {
    expect(tarball).toMatch(new RegExp(`nestctl-${VERSION.replace(/\./g, '\\.')}\\.tgz$`));
    expect(packed).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'dist/bundle/bin.js',
        'schemas/manifest.schema.json',
        'schemas/world.schema.json',
        'examples/seed.yaml',
        'examples/files/motd',
        'docs/commands/README.md', // the README's links
      ]),
    );
    expect(packed.filter((p) => /^(src|test|bench|scripts)\//.test(p) || p.endsWith('.ts'))).toEqual([]);
  });

  it('installs into a fresh prefix, with the command on its bin directory', () => {
    expect(install.code, install.stderr).toBe(0);
    expect(existsSync(join(prefix, 'bin/nestctl'))).toBe(true);
  });

  it('nestctl --version, from a directory outside the checkout, is the package version', async () => {
    const r = await run(['nestctl', '--version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it('nestctl plan --simulate plans the example the package ships', async () => {
    const r = await run(['nestctl', 'plan', '--simulate', join(installed, 'examples/seed.yaml')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Plan: 3 containers to add, 0 to change, 0 to destroy');
  });

  it('nestctl init points the new manifest at the schema the package ships', async () => {
    const r = await run(['nestctl', 'init', 'nest.yaml']);
    expect(r.code, r.stderr).toBe(0);
    const modeline = readFileSync(join(elsewhere, 'nest.yaml'), 'utf8').split('\n')[0]!;
    const ref = /^# yaml-language-server: \$schema=(\S+)$/.exec(modeline)?.[1];
    expect(ref && resolve(dirname(join(elsewhere, 'nest.yaml')), ref)).toBe(join(installed, 'schemas/manifest.schema.json'));
    const valid = await run(['nestctl', 'validate', 'nest.yaml']);
    expect(valid.code, valid.stderr).toBe(0);
  });
});
