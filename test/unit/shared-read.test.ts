// Concurrent steps at one level share the instance (or image) list read in flight, through the
// real client over a fake exec whose commands finish when the test says so. A read asked after a
// change made through the level finished never takes an answer that may predate that change.

import { describe, expect, it } from 'vitest';
import { ExecLevel } from '../../src/adapters/lxd/level.js';
import { IMAGES_QUERY, INSTANCES_QUERY } from '../../src/adapters/lxd/probe-script.js';
import type { Exec, ExecResult } from '../../src/ports/exec.js';

const F = 'f'.repeat(64);
const instance = (name: string) => ({ name, project: 'default', status: 'Stopped', profiles: ['default'], config: {} });

/** An exec whose calls wait until `finish` is called for them; `events` says what started and ended, in order. */
function gatedExec() {
  const events: string[] = [];
  const pending: Array<{ label: string; done: (r: ExecResult) => void }> = [];
  const label = (argv: readonly string[]): string =>
    argv.includes(INSTANCES_QUERY) ? 'instances' : argv.includes(IMAGES_QUERY) ? 'images' : argv.slice(1, 2).join(' ');
  const exec: Exec = (argv) =>
    new Promise<ExecResult>((done) => {
      events.push(`start ${label(argv)}`);
      pending.push({ label: label(argv), done });
    });
  /** Ends the oldest pending call labelled `what` with `stdout` (or a failure). */
  const finish = async (what: string, stdout = '', code = 0): Promise<void> => {
    const i = pending.findIndex((p) => p.label === what);
    if (i < 0) throw new Error(`no pending ${what} (pending: ${pending.map((p) => p.label).join(', ')})`);
    const [p] = pending.splice(i, 1);
    events.push(`end ${what}`);
    p!.done({ code, stdout, stderr: code === 0 ? '' : 'Error: boom\n' });
    await settle();
  };
  return { exec, events, finish, pending: () => pending.map((p) => p.label) };
}
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
};

describe('one instance list per level at a time', () => {
  it('concurrent reads share the one in flight; each caller gets its own copy', async () => {
    const g = gatedExec();
    const level = new ExecLevel(g.exec, '', {}, 'debian');
    const a = level.instances();
    const b = level.instances();
    await settle();
    expect(g.pending()).toEqual(['instances']);
    await g.finish('instances', JSON.stringify([instance('c1')]));
    const [x, y] = await Promise.all([a, b]);
    expect(x).toEqual(y);
    expect(x.map((i) => i.name)).toEqual(['c1']);
    expect(x).not.toBe(y);
    x[0]!.config['user.x'] = '1';
    expect(y[0]!.config).toEqual({});
    expect(g.events).toEqual(['start instances', 'end instances']);
  });

  it("a read asked after the caller's own change finished runs again, after the change: the one in flight may predate it", async () => {
    const g = gatedExec();
    const level = new ExecLevel(g.exec, '', {}, 'debian');
    const before = level.instances(); // another step's re-check, started before the create
    await settle();
    const create = level.createInstance({ name: 'c1', fingerprint: F, profiles: ['default'], config: {} });
    await settle();
    await g.finish('init');
    await create;
    const after = level.instances(); // the creating step looks again: must see c1
    await settle();
    expect(g.pending()).toEqual(['instances', 'instances']);
    await g.finish('instances', '[]');
    await g.finish('instances', JSON.stringify([instance('c1')]));
    expect((await before).map((i) => i.name)).toEqual([]);
    expect((await after).map((i) => i.name)).toEqual(['c1']);
    expect(g.events).toEqual(['start instances', 'start init', 'end init', 'start instances', 'end instances', 'end instances']);
  });

  it('a change that failed counts too (it may have changed something), and a change still running does not stop a join', async () => {
    const g = gatedExec();
    const level = new ExecLevel(g.exec, '', {}, 'debian');
    const first = level.instances();
    await settle();
    const start = level.startInstance('c1', false);
    await settle();
    const joined = level.instances(); // start not finished: whatever it does is not yet owed to anyone
    await settle();
    expect(g.pending()).toEqual(['instances', 'start']);
    await g.finish('start', '', 1);
    await expect(start).rejects.toThrow();
    const fresh = level.instances();
    await settle();
    expect(g.pending()).toEqual(['instances', 'instances']);
    await g.finish('instances', '[]');
    await g.finish('instances', JSON.stringify([instance('c1')]));
    expect(await joined).toEqual(await first);
    expect((await fresh).map((i) => i.name)).toEqual(['c1']);
  });

  it('a read that ended is not kept: the next one runs the client again', async () => {
    const g = gatedExec();
    const level = new ExecLevel(g.exec, '', {}, 'debian');
    const a = level.instances();
    await settle();
    await g.finish('instances', '[]');
    await a;
    const b = level.instances();
    await settle();
    await g.finish('instances', '[]');
    await b;
    expect(g.events).toEqual(['start instances', 'end instances', 'start instances', 'end instances']);
  });

  it('a failed read fails every caller that shared it, and the next read runs again', async () => {
    const g = gatedExec();
    const level = new ExecLevel(g.exec, '', {}, 'debian');
    const a = level.instances();
    const b = level.instances();
    await settle();
    await g.finish('instances', '', 1);
    await expect(a).rejects.toThrow(/boom/);
    await expect(b).rejects.toThrow(/boom/);
    const c = level.instances();
    await settle();
    expect(g.pending()).toEqual(['instances']);
    await g.finish('instances', '[]');
    expect(await c).toEqual([]);
  });

  it('images are shared the same way, apart from instances; an import finished makes the next read a new one', async () => {
    const g = gatedExec();
    const level = new ExecLevel(g.exec, '', {}, 'debian');
    const reads = [level.images(), level.images(), level.instances()];
    await settle();
    expect(g.pending()).toEqual(['images', 'instances']);
    const imported = level.importImage({ level: '', fingerprint: F, files: ['/tmp/x/meta.tar.xz', '/tmp/x/rootfs.squashfs'] }, ['busybox']);
    await settle();
    await g.finish('image');
    await imported;
    const later = level.images();
    await settle();
    expect(g.pending()).toEqual(['images', 'instances', 'images']);
    await g.finish('images', '[]');
    await g.finish('instances', '[]');
    await g.finish('images', JSON.stringify([{ fingerprint: F, aliases: [{ name: 'busybox' }] }]));
    await Promise.all(reads);
    expect((await later).map((i) => i.fingerprint)).toEqual([F]);
  });
});
