import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockHost } from '../../src/adapters/host-lock.js';

describe('host apply lock', () => {
  const path = () => join(mkdtempSync(join(tmpdir(), 'nestctl-lock-')), 'nestctl.lock');

  it('lets one apply in and refuses a second while the first runs', () => {
    const p = path();
    const release = lockHost(p);
    expect(() => lockHost(p)).toThrow(`another nestctl (pid ${process.pid}) is applying on this host`);
    release();
    expect(existsSync(p)).toBe(false);
    lockHost(p)();
  });

  it('takes over a lock whose process is gone', () => {
    const p = path();
    writeFileSync(p, '2147483646\n');
    const release = lockHost(p);
    expect(existsSync(p)).toBe(true);
    release();
  });
});
