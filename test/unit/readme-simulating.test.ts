// docs/simulate.md, run as written: its world file and its `--state` cycle, in order, in a
// scratch directory holding a copy of examples/, with the edit its comment describes done
// between the commands. Each command's trailing comment, when it has one, must be in its output.

import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, nestctl } from './helpers/cli.js';
import { readDoc } from './helpers/docs.js';

// Up to the several-hosts part, whose world and commands are the next blocks.
const doc = readDoc('docs/simulate.md');
const section = doc.slice(0, doc.indexOf('\n## Several hosts\n'));
const block = (lang: string): string => {
  const m = new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(section);
  if (!m) throw new Error(`no ${lang} block in docs/simulate.md`);
  return m[1]!;
};

describe('docs/simulate.md', () => {
  it('the walk-through works as written: plan, apply, plan (no changes), edit, prune, destroy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nestctl-readme-'));
    cpSync(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true });
    const world = block('yaml');
    writeFileSync(join(dir, world.split('\n')[0]!.replace(/^# (\S+):.*/, '$1')), world);
    const lines = block('sh')
      .split('\n')
      .filter((l) => l.trim() !== '');
    expect(lines.filter((l) => l.startsWith('nestctl ')).length).toBeGreaterThanOrEqual(5);
    for (const line of lines) {
      const edit = /^# edit (\S+): rename (\S+) to (\S+)$/.exec(line);
      if (edit) {
        const file = join(dir, edit[1]!);
        writeFileSync(file, readFileSync(file, 'utf8').replace(`name: ${edit[2]}\n`, `name: ${edit[3]}\n`));
        continue;
      }
      const [command, comment] = line.split(/\s+#\s+/) as [string, string | undefined];
      expect(command.startsWith('nestctl ')).toBe(true);
      const r = await nestctl(command.split(/\s+/).slice(1), { cwd: dir });
      expect(r.code, `${command}\n${r.stdout}${r.stderr}`).toBe(0);
      if (comment) expect(r.stdout, command).toContain(comment);
    }
    const state = readFileSync(join(dir, 'sim.yaml'), 'utf8');
    expect(state).not.toContain('name: c1'); // destroyed
    expect(state).toContain('- nest'); // the host's images are still there
  });
});
