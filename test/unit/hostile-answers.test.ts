// What comes from inside a container is hostile: shown, never obeyed; bounded; checked before
// anything is built from it. Each case is what a container whose root nestctl does not control
// can say: a file full of terminal escapes, a config value with a bidi override, an answer of
// hundreds of megabytes, a probe that lists a record twice or names an instance like a path.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import { PROBE_MARK } from '../../src/adapters/lxd/probe-script.js';
import { processExec } from '../../src/adapters/process-exec.js';
import { OutputTooLargeError, UntrustedAnswerError } from '../../src/core/errors.js';
import { parseLxcProbe } from '../../src/core/observe/parse-lxc.js';
import { observedInstances, observedProfiles, parseProbe, parseProbeFacts } from '../../src/core/observe/parse-probe.js';
import type { Exec, ExecOptions } from '../../src/ports/exec.js';
import { colours } from '../../src/render/colour.js';
import { terminalText, visible, visibleLines } from '../../src/render/visible.js';
import { nestctl } from './helpers/cli.js';

const ACTING = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const tmp = mkdtempSync(join(tmpdir(), 'nestctl-hostile-answers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the sanitiser (render/visible.ts)', () => {
  it('leaves nothing that acts in any text, and changes nothing that prints', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        expect(visible(s)).not.toMatch(ACTING);
        expect(terminalText(s, false)).not.toContain('\u001b');
        expect(visibleLines(s).replace(/[\n\t]/g, '')).not.toMatch(ACTING);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        fc.pre(!ACTING.test(s));
        expect(visible(s)).toBe(s);
      }),
    );
  });

  it('writes each acting character as an escape a reader can see', () => {
    expect(visible('a\u001b[2Jb')).toBe('a\\x1b[2Jb');
    expect(visible('abc\u202edef')).toBe('abc\\u202edef');
    expect(visible('\u009b31m')).toBe('\\x9b31m');
    expect(visible('x\ny')).toBe('x\\x0ay');
    expect(visibleLines('x\ny\tz\r')).toBe('x\ny\tz\\x0d');
    expect(visible('tag\u{e0041}')).toBe('tag\\u{e0041}');
  });

  it("keeps nestctl's own colours on a terminal and no other sequence; with colours off, not one ESC", () => {
    const c = colours(true);
    const line = `${c.red('- x')} \u001b]0;title\u0007 \u001b[2J`;
    const shown = terminalText(line, true);
    expect(shown.startsWith('\u001b[31m- x\u001b[39m')).toBe(true);
    expect(shown).toContain('\\x1b]0;title\\x07');
    expect(shown).toContain('\\x1b[2J');
    expect(terminalText(line, false)).not.toContain('\u001b');
  });
});

describe('plan shows a hostile container as text', () => {
  // c1 is nestctl's and converged but for a file and a config value someone set by hand inside.
  const world = `host:
  lxd: { flavour: debian, initialised: true }
  systemd: true
  subuid: "root:500000:65536\\n"
  subgid: "root:500000:65536\\n"
  images:
    - { alias: busybox }
  instances:
    - name: c1
      image: busybox
      config:
        user.nestctl.managed: "true"
        user.nestctl.path: c1
        user.note: "abc\\u202edef\\u009b31m"
      inside:
        files:
          /etc/motd: "hello\\e[2J\\e]0;pwned\\a\\e]8;;http://evil/\\e\\\\link\\e]8;;\\e\\\\\\n"
`;
  const manifest = `apiVersion: nestctl/v1
host:
  base: 500000
containers:
  - name: c1
    image: busybox
    config:
      user.note: plain
    files:
      - path: /etc/motd
        content: "hello\\n"
`;
  writeFileSync(join(tmp, 'world.yaml'), world);
  writeFileSync(join(tmp, 'm.yaml'), manifest);

  it('prints the file diff and the value escaped, with no raw control or bidi character', async () => {
    const r = await nestctl(['plan', '--world', join(tmp, 'world.yaml'), join(tmp, 'm.yaml')], { env: { NO_COLOR: '1' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('-hello\\x1b[2J\\x1b]0;pwned\\x07\\x1b]8;;http://evil/\\x1b\\link');
    expect(r.stdout).toContain('~ user.note = "abc\\u202edef\\x9b31m" → "plain"');
    expect(r.stdout).not.toMatch(/[\u001b\u0007\u009b\u202e]/);
  });

  it('keeps the exact text in --json', async () => {
    const r = await nestctl(['plan', '--json', '--world', join(tmp, 'world.yaml'), join(tmp, 'm.yaml')]);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { steps: Array<{ kind: string; text?: { before: string }; before?: Record<string, string> }> };
    expect(plan.steps.find((s) => s.kind === 'push-file')?.text?.before).toContain('hello\u001b[2J\u001b]0;pwned\u0007');
    expect(plan.steps.find((s) => s.kind === 'update-config')?.before?.['user.note']).toBe('abc\u202edef\u009b31m');
  });
});

describe('every command’s output is bounded (adapters/process-exec.ts)', () => {
  it('kills a command past its cap and says which stream ran over', async () => {
    const t0 = Date.now();
    const r = await processExec(['sh', '-c', 'yes'], { maxOutputBytes: 1 << 20 });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.overflowed).toBe('stdout');
    expect(r.code).not.toBe(0);
    expect(Buffer.byteLength(r.stdout)).toBe(1 << 20);
    expect(r.stderr).toContain(`printed more than ${1 << 20} bytes on stdout`);
  });

  it('bounds stderr the same way', async () => {
    const r = await processExec(['sh', '-c', 'yes >&2'], { maxOutputBytes: 65536 });
    expect(r.overflowed).toBe('stderr');
  });

  it('has a default cap of 32 MiB', async () => {
    const r = await processExec(['head', '-c', String(40 << 20), '/dev/zero']);
    expect(r.overflowed).toBe('stdout');
    expect(r.stdout.length).toBe(32 << 20);
  });

  it('fails a flooded read at the level that asked, once, without reading what came', async () => {
    const calls: Array<{ argv: readonly string[]; options?: ExecOptions }> = [];
    const exec: Exec = async (argv, options) => {
      calls.push({ argv, ...(options ? { options } : {}) });
      return { code: 137, stdout: `${PROBE_MARK} now 1 \n`, stderr: '(killed)', overflowed: 'stdout' };
    };
    const c2 = new ExecLevel(exec, '', {}, 'debian').child('c1', 'debian').child('c2', 'debian');
    const failed = c2.probe();
    await expect(failed).rejects.toBeInstanceOf(OutputTooLargeError);
    await expect(failed).rejects.toMatchObject({
      level: 'c1/c2',
      message: expect.stringMatching(/in c1\/c2 printed more than 32 MiB on stdout/),
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.argv.slice(0, 6)).toEqual(['lxc', 'exec', 'c1', '-T', '--', 'lxc']);
  });
});

describe('a lying answer is refused, naming the level', () => {
  const refused = (f: () => unknown, what: RegExp) => {
    expect(f).toThrow(UntrustedAnswerError);
    expect(f).toThrow(what);
  };

  it('refuses a probe fact given twice', () => {
    const out = `${PROBE_MARK} subuid 1 ${Buffer.from('root:1:2\n').toString('base64')}\n${PROBE_MARK} subuid 1 \n`;
    refused(() => parseProbeFacts(out, PROBE_MARK, 'c1'), /the answer in c1 is refused: the probe's fact "subuid" came twice/);
  });

  it('refuses instance names a daemon never gives: a path, "..", a sibling posing as a child', () => {
    for (const name of ['c2/c3', '..', '', '-x', 'x-', 'a b', 'a\u001b', 'x'.repeat(64), 42]) {
      refused(() => observedInstances([{ name, status: 'Running' }], 'c1'), /an instance is named/);
    }
    expect(observedInstances([{ name: 'c2', status: 'Running' }], 'c1')).toHaveLength(1);
  });

  it('refuses a record listed twice and records of the wrong shape', () => {
    refused(
      () =>
        observedInstances(
          [
            { name: 'c2', status: 'Running' },
            { name: 'c2', status: 'Stopped' },
          ],
          'c1',
        ),
      /instance "default\/c2" is listed twice/,
    );
    refused(() => observedInstances({ name: 'c2' }, 'c1'), /the instance list is not a list/);
    refused(() => observedInstances([{ name: 'c2', status: 'Running', config: { 'user.x': 1 } }], 'c1'), /is not a string/);
    refused(() => observedProfiles([{ name: 'default' }, { name: 'default' }], 'c1'), /profile "default" is listed twice/);
  });

  it('keeps a key called __proto__ as data: no prototype is reached', () => {
    const api = JSON.parse('[{"name":"c2","status":"Running","config":{"__proto__":"x","constructor":"y"}}]') as unknown;
    const [c2] = observedInstances(api, 'c1');
    expect(Object.keys(c2!.config)).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(c2!.config, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(c2!.config)).toBeNull();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('refuses an LXC answer about a user not asked about, or about one twice', () => {
    const owner = (name: string) => `${PROBE_MARK} owner ok ${Buffer.from(name).toString('base64')}`;
    refused(() => parseLxcProbe(owner('__proto__'), PROBE_MARK, 'c1', ['alice']), /user "__proto__", who was not asked about/);
    refused(() => parseLxcProbe(`${owner('alice')}\n${owner('alice')}`, PROBE_MARK, 'c1', ['alice']), /twice for user "alice"/);
    expect(Object.keys(parseLxcProbe(owner('alice'), PROBE_MARK, 'c1', ['alice']).owners)).toEqual(['alice']);
  });
});

describe('the hostile corpus: random probe answers', () => {
  const fact = fc.tuple(
    fc.constantFrom(
      'instances',
      'addresses',
      'images',
      'profiles',
      'server',
      'subuid',
      'uid_map',
      'pools',
      'networks',
      'members',
      'has_lxd',
      'now',
      '__proto__',
    ),
    fc.constantFrom('0', '1', 'yes', 'no', 'absent', '17.5'),
    fc.oneof(
      fc.json(),
      fc.constantFrom(
        '[{"name":"c2/c3","status":"Running"}]',
        '[{"name":"c2","status":"Running","config":{"__proto__":"x"}}]',
        '{"__proto__":{"polluted":"yes"}}',
        '[{"name":"default","devices":{"__proto__":{"type":"disk","path":"/"}}}]',
        '[{"name":"c2","state":{"network":{"__proto__":{"addresses":[{"family":"inet","address":"10.0.0.2","scope":"global"}]}}}}]',
        '[{"name":"c2","state":{"network":{"eth0":{"addresses":[{"family":"inet","address":[1],"scope":"global"}]}}}}]',
      ),
      fc.string({ unit: 'binary', maxLength: 40 }),
    ),
  );
  it('either reads a level or refuses it as untrusted; never another error, never a polluted prototype', () => {
    fc.assert(
      fc.property(fc.array(fact, { maxLength: 8 }), (facts) => {
        const out = facts
          .map(([name, status, body]) => `${PROBE_MARK} ${name} ${status} ${Buffer.from(body).toString('base64')}`)
          .join('\n');
        try {
          parseProbe('c1', out, PROBE_MARK, 'debian');
        } catch (e) {
          expect(e).toBeInstanceOf(UntrustedAnswerError);
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(({} as Record<string, unknown>).type).toBeUndefined();
      }),
      { numRuns: 400 },
    );
  });
});
