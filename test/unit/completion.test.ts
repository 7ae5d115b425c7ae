// nestctl completion: the scripts know every command and option the program has. What the program
// has is read here from commander's own help (`nestctl --help`, `nestctl help CMD`), not from the
// generator, so a list hard-coded in the generator would fall behind it and fail. With bash
// present, the bash script is run: COMP_WORDS in, COMPREPLY out.

import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, nestctl, runCommand } from './helpers/cli.js';

/** Whether a program is on PATH (checked without running it). */
const onPath = (program: string): boolean => (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, program)));

interface HelpedCommand {
  name: string;
  flags: string[];
}

/** The commands under "Commands:" of the program's help, and the flags under "Options:" of each. */
async function programFromHelp(): Promise<{ global: string[]; commands: HelpedCommand[] }> {
  const top = (await nestctl(['--help'])).stdout;
  const section = (help: string, title: string): string[] => {
    const start = help.indexOf(`\n${title}:\n`);
    if (start < 0) return [];
    const rest = help.slice(start + title.length + 3);
    const end = rest.search(/\n\S/);
    return (end < 0 ? rest : rest.slice(0, end)).split('\n').filter((l) => /^ {2}\S/.test(l));
  };
  const flags = (help: string): string[] =>
    section(help, 'Options').flatMap((l) =>
      [
        ...l
          .trim()
          .split(/\s{2,}/)[0]!
          .matchAll(/(?:^|[\s,])(--?[A-Za-z][\w-]*)/g),
      ].map((m) => m[1]!),
    );
  const names = section(top, 'Commands').map((l) => l.trim().split(/\s/)[0]!);
  const commands = await Promise.all(
    names.map(async (name) => ({ name, flags: name === 'help' ? ['-h', '--help'] : flags((await nestctl(['help', name])).stdout) })),
  );
  return { global: flags(top), commands };
}

const script = async (shell: string): Promise<string> => {
  const r = await nestctl(['completion', shell]);
  expect([r.code, r.stderr]).toEqual([0, '']);
  return r.stdout;
};

let program: Awaited<ReturnType<typeof programFromHelp>>;
beforeAll(async () => {
  program = await programFromHelp();
});

describe('the program as its help shows it', () => {
  it('is read (a parser that found nothing would make the checks below pass)', () => {
    const names = program.commands.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['validate', 'plan', 'apply', 'graph', 'fmt', 'completion']));
    expect(names).not.toContain('__complete-paths');
    expect(program.global).toEqual(expect.arrayContaining(['-V', '--version', '--no-color', '--help']));
    expect(program.commands.find((c) => c.name === 'plan')!.flags).toEqual(
      expect.arrayContaining(['--target', '--replace', '-v', '--world']),
    );
  });
});

describe.each(['bash', 'zsh', 'fish'])('nestctl completion %s', (shell) => {
  it('names every command and every option of each, and not the hidden __complete-paths as a command', async () => {
    const text = await script(shell);
    for (const flag of program.global) expect(text, flag).toContain(shell === 'fish' ? flag.replace(/^--?/, '') : flag);
    for (const cmd of program.commands) {
      expect(text, cmd.name).toMatch(new RegExp(`(^|[\\s'(])${cmd.name}[\\s:)]`, 'm'));
      for (const flag of cmd.flags) {
        const spelled = shell === 'fish' ? (flag.startsWith('--') ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`) : flag;
        expect(text, `${cmd.name} ${flag}`).toContain(spelled);
      }
    }
    expect(text).not.toMatch(/__complete-paths[:']/);
  });
});

describe('the scripts parse', () => {
  it.skipIf(!onPath('bash'))('bash -n accepts the bash script', async () => {
    const r = await runCommand(['bash', '-n'], { input: await script('bash') });
    expect([r.code, r.stderr]).toEqual([0, '']);
  });

  // From a file: fish -n does not read a script from a pipe it did not open itself.
  for (const shell of ['zsh', 'fish'] as const) {
    it.skipIf(!onPath(shell))(`${shell} -n accepts the ${shell} script (skipped where ${shell} is not installed)`, async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'nestctl-completion-')), `nestctl.${shell}`);
      writeFileSync(file, await script(shell));
      const r = await runCommand([shell, '-n', file]);
      expect([r.code, r.stderr]).toEqual([0, '']);
    });
  }

  it('refuses a shell it does not know', async () => {
    const r = await nestctl(['completion', 'tcsh']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bash, zsh, fish');
  });
});

describe('nestctl __complete-paths', () => {
  it('prints the node paths of the manifest, one a line', async () => {
    const r = await nestctl(['__complete-paths', 'examples/seed.yaml']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, 'c1\nc1/c2\nc1/c2/c3\n', '']);
  });

  it('includes classic LXC containers, which --target takes', async () => {
    const r = await nestctl(['__complete-paths', 'examples/lxc-user.yaml']);
    expect(r.stdout.split('\n')).toEqual(expect.arrayContaining(['box', 'vault']));
  });

  it('prints the paths of a manifest whose ids do not fit (validate refuses it; the paths are still there)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestctl-complete-'));
    const big = join(dir, 'big.yaml');
    writeFileSync(
      big,
      'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    image: nest\n    idmap: {isolated: true, size: 65536}\n    containers:\n      - name: c2\n        image: busybox\n',
    );
    expect((await nestctl(['validate', big])).code).toBe(1);
    const r = await nestctl(['__complete-paths', big]);
    expect([r.code, r.stdout]).toEqual([0, 'c1\nc1/c2\n']);
  });

  it('prints nothing and exits 0 on any error: a missing file, a manifest that does not validate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestctl-complete-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: nestctl/v1\ncontainers:\n  - name: c1\n    imgae: x\n');
    for (const file of [join(dir, 'missing.yaml'), bad, dir]) {
      const r = await nestctl(['__complete-paths', file]);
      expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
    }
  });
});

const hasBash = onPath('bash');

describe.skipIf(!hasBash)('the bash script, run by bash', () => {
  // `nestctl` on PATH is the built CLI, as an installed one would be.
  const bin = mkdtempSync(join(tmpdir(), 'nestctl-bin-'));
  writeFileSync(join(bin, 'nestctl'), `#!/bin/sh\nexec node ${JSON.stringify(CLI)} "$@"\n`);
  chmodSync(join(bin, 'nestctl'), 0o755);
  const scriptFile = join(bin, 'nestctl.bash');
  beforeAll(async () => {
    writeFileSync(scriptFile, await script('bash'));
  });

  /** COMPREPLY after completing the word at `cword` of `words`. */
  async function complete(words: string[], cword = words.length - 1): Promise<string[]> {
    const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = await runCommand(
      [
        'bash',
        '-c',
        `source "$1"; COMP_WORDS=(${quoted}); COMP_CWORD=${cword}; _nestctl; printf '%s\\n' "\${COMPREPLY[@]}"`,
        'bash',
        scriptFile,
      ],
      { cwd: ROOT, env: { PATH: `${bin}:${process.env.PATH}` } },
    );
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter((l) => l !== '');
  }

  it('completes commands, but not the hidden one', async () => {
    expect(await complete(['nestctl', 'pl'])).toEqual(['plan']);
    expect(await complete(['nestctl', 'co'])).toEqual(['completion']);
    expect(await complete(['nestctl', '__'])).toEqual([]);
    expect(await complete(['nestctl', '--no-color', 'gr'])).toEqual(['graph']);
  });

  it("completes a command's options", async () => {
    expect(await complete(['nestctl', 'plan', '--ta'])).toEqual(['--target']);
    expect(await complete(['nestctl', 'fmt', '--'])).toEqual(['--check', '--help']);
  });

  it('completes the manifest argument with file names', async () => {
    expect(await complete(['nestctl', 'plan', 'examples/se'])).toEqual(['examples/seed.yaml']);
  });

  it('completes --target and --replace with the node paths of the manifest on the line, wherever it stands', async () => {
    expect(await complete(['nestctl', 'plan', '--target', '', 'examples/seed.yaml'], 3)).toEqual(['c1', 'c1/c2', 'c1/c2/c3']);
    expect(await complete(['nestctl', 'apply', '--simulate', 'examples/seed.yaml', '--replace', 'c1/'])).toEqual(['c1/c2', 'c1/c2/c3']);
    expect(await complete(['nestctl', 'graph', '--world', 'w.yaml', 'examples/isolated.yaml', '--target', 'ci/t'])).toEqual([
      'ci/tenant-a',
      'ci/tenant-b',
    ]);
    // No manifest yet, or one that is not valid: nothing.
    expect(await complete(['nestctl', 'plan', '--target', ''])).toEqual([]);
    expect(await complete(['nestctl', 'plan', '--target', '', 'README.md'], 3)).toEqual([]);
  });

  it('completes choices: viz --format, the shell of completion', async () => {
    expect(await complete(['nestctl', 'viz', '--format', ''])).toEqual(['text', 'svg']);
    expect(await complete(['nestctl', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
  });
});
