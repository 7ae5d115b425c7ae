// The commands of the README and of docs/ work as written: every command in a fenced `sh` block
// that runs nestctl (`nestctl …`, `npx nestctl …`, `node …`, also after `&&` as in the one-line
// try-it) and touches no host (`--simulate` or `validate`) is run against the built CLI, in a
// scratch directory that sees the checkout's examples, and must exit as the file says.

import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, runCommand } from './helpers/cli.js';
import { markdownFiles, readDoc } from './helpers/docs.js';

const README = readDoc('README.md');

/** Shell words of a simple command (quotes, no expansions: the README's commands are plain). */
function words(command: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"([^"$`\\]*)"|([^\s'"]+)/g;
  for (const m of command.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

interface ReadmeCommand {
  line: string;
  argv: string[];
  exits: number[];
}

/** The commands of every fenced sh block: one per `&&` part, comments, pipes and redirections cut off. */
function readmeCommands(markdown: string): ReadmeCommand[] {
  const found: ReadmeCommand[] = [];
  for (const block of markdown.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    for (const line of block[1]!.split('\n')) {
      const code = line.replace(/\s+#.*$/, '').trim();
      for (const part of code.split('&&').map((p) => p.trim())) {
        // `cmd || [ $? -eq 2 ]` documents a second accepted exit code.
        const [run, orElse] = part.split('||').map((p) => p.trim());
        const accepted = /^\[ \$\? -eq (\d+) \]$/.exec(orElse ?? '');
        const argv = words(run!.split(/\s[|>]/)[0]!);
        if (!/^(nestctl|npx nestctl|node)\b/.test(argv.join(' '))) continue;
        if (!argv.includes('--simulate') && !argv.includes('validate')) continue;
        found.push({ line: code, argv, exits: accepted ? [0, Number(accepted[1])] : [0] });
      }
    }
  }
  return found;
}

/** `nestctl` and `npx nestctl` resolve to the built CLI. */
const resolved = (argv: string[]): string[] => {
  const rest = argv[0] === 'npx' ? argv.slice(2) : argv[0] === 'nestctl' ? argv.slice(1) : null;
  return rest ? ['node', CLI, ...rest] : argv;
};

const scratch = mkdtempSync(join(tmpdir(), 'nestctl-readme-'));
for (const dir of ['examples', 'schemas', 'test']) symlinkSync(join(ROOT, dir), join(scratch, dir));

describe("the README's commands", () => {
  const lines = readmeCommands(README).map((c) => c.argv.join(' '));

  it('include the one-line try-it, validate and a simulated plan', () => {
    expect(lines).toContain('nestctl apply --simulate --auto-approve examples/seed.yaml');
    expect(lines).toContain('nestctl validate examples/seed.yaml');
    expect(lines).toContain('nestctl plan --simulate examples/seed.yaml');
  });

  it('document the commands CI runs (.ci/run: npm ci, npm test, npm run test:e2e)', () => {
    const ci = readDoc('.ci/run');
    for (const command of ['npm ci', 'npm test', 'npm run test:e2e']) {
      expect(ci).toContain(command);
      expect(README).toMatch(new RegExp(`^(sudo )?${command}\\b`, 'm'));
    }
  });
});

describe.each(markdownFiles())('the commands of %s', (file) => {
  const text = readDoc(file);
  const commands = readmeCommands(text);

  it('never run npx with sudo (outside the checkout it would fetch a package from the registry)', () => {
    expect(text).not.toMatch(/sudo\s+npx\b/);
  });

  it.each(commands.map((c) => [c.line, c] as const))('%s', async (_, c) => {
    const r = await runCommand(resolved(c.argv), { cwd: scratch, timeoutMs: 18_000 });
    expect(r.timedOut).toBe(false);
    expect(c.exits, `exit ${r.code}: ${r.stderr}`).toContain(r.code);
  });
});

describe('readmeCommands', () => {
  it('takes the nestctl parts of && chains and pipes, and only those that touch no host (--simulate, validate)', () => {
    const md = [
      '```sh',
      'git clone x && cd x && npm install && nestctl apply --simulate m.yaml',
      'sudo nestctl plan m.yaml',
      'nestctl plan --detailed-exitcode --simulate m.yaml || [ $? -eq 2 ]',
      'nestctl plan --world w.yaml --state s.yaml m.yaml',
      "nestctl validate --json 'a b.yaml' | jq .valid   # comment",
      'nestctl viz --simulate --format svg m.yaml > ids.svg',
      '```',
      '```yaml',
      'nestctl validate no.yaml',
      '```',
    ].join('\n');
    expect(readmeCommands(md)).toEqual([
      {
        line: 'git clone x && cd x && npm install && nestctl apply --simulate m.yaml',
        argv: ['nestctl', 'apply', '--simulate', 'm.yaml'],
        exits: [0],
      },
      {
        line: 'nestctl plan --detailed-exitcode --simulate m.yaml || [ $? -eq 2 ]',
        argv: ['nestctl', 'plan', '--detailed-exitcode', '--simulate', 'm.yaml'],
        exits: [0, 2],
      },
      { line: "nestctl validate --json 'a b.yaml' | jq .valid", argv: ['nestctl', 'validate', '--json', 'a b.yaml'], exits: [0] },
      {
        line: 'nestctl viz --simulate --format svg m.yaml > ids.svg',
        argv: ['nestctl', 'viz', '--simulate', '--format', 'svg', 'm.yaml'],
        exits: [0],
      },
    ]);
  });
});
