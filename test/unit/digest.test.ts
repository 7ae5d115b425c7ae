// The digest of what a plan was computed from must not move with clock readings (the daemon's
// start time is an estimate on hosts without systemd), but must move when the daemon's having
// read the current subid files does.

import { describe, expect, it } from 'vitest';
import type { ObservedLevel, ObservedTree } from '../../src/core/observed.js';
import { observedDigest } from '../../src/core/plan/digest.js';
import { level } from './helpers/build.js';

const tree = (host: ObservedLevel): ObservedTree => ({ levels: { '': { kind: 'observed', level: host } } });
const startedAt = (s: number): Partial<ObservedLevel> => ({ daemon: { kind: 'up', version: '5.0.2', startedAt: s } });

describe('observedDigest', () => {
  it('is the same for two probes whose start-time estimates differ by milliseconds', () => {
    expect(observedDigest(tree(level('', { ...startedAt(200.123), now: 300 })))).toBe(
      observedDigest(tree(level('', { ...startedAt(200.131), now: 301.5 }))),
    );
  });

  it('differs when the daemon has not read the current files yet (files newer than its start)', () => {
    // The helper's files have mtime 100.
    expect(observedDigest(tree(level('', startedAt(99))))).not.toBe(observedDigest(tree(level('', startedAt(101)))));
  });

  it('differs when an instance appears', () => {
    expect(observedDigest(tree(level('')))).not.toBe(
      observedDigest(tree(level('', { instances: [{ name: 'x', project: 'default', status: 'Running', profiles: [], config: {} }] }))),
    );
  });

  it('differs when a cluster member a container is placed on hands out another map', () => {
    const on = (size: number): ObservedTree => ({
      ...tree(level('')),
      members: { m2: { uid: { start: 65536, size }, gid: { start: 65536, size } } },
    });
    expect(observedDigest(on(131072))).not.toBe(observedDigest(on(196608)));
    expect(observedDigest(on(131072))).not.toBe(observedDigest(tree(level(''))));
  });
});
