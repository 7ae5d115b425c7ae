// A nested LXD stopped between two runs (systemctl stop lxd.socket lxd.service inside c1): its
// containers keep running, its pools, bridge and images stay on disk. The plan starts it again
// (the level's restart) instead of reading it as an uninitialised LXD, and apply converges.

import { describe, expect, it } from 'vitest';
import { createSimWorld, type LevelDescription, type WorldDescription } from '../../src/adapters/sim/index.js';
import { hostWith, nestInside, ours } from './helpers/sim-worlds.js';


/** c1 (converged for the manifest above) with `inside` as its inside. */
const world = (inside: LevelDescription): WorldDescription => hostWith([ours('c1', 'nest', { inside })]);
/** c1's LXD, initialised, with root:65536:65536 (what the manifest asks for), holding `instances`. */
const c1Inside = (daemon: 'up' | 'down', withC2: boolean): LevelDescription => nestInside(withC2 ? [ours('c1/c2', 'busybox')] : [], daemon, 65536);


describe('the simulator, for a nested LXD stopped by hand', () => {
  it('keeps its containers running while it is down (SIGTERM), and its restart brings it back with its state intact', async () => {
    const up = await createSimWorld(world(c1Inside('up', true))).level('c1').probe();
    const w = createSimWorld(world(c1Inside('down', true)));
    const down = await w.level('c1').probe();
    expect(down.daemon.kind).toBe('down');
    // c2 still runs: a probe inside it goes through c1's LXD, which is down, so it fails as lxc does.
    await expect(w.level('c1/c2').probe()).rejects.toThrow(/not running|connection refused|unix\.socket/i);
    await w.level('c1').restartDaemon(null);
    expect(w.restartCommands('c1')).toEqual([['systemctl', 'restart', 'lxd']]);
    const after = await w.level('c1').probe();
    expect(after.daemon.kind).toBe('up');
    for (const key of ['storagePools', 'networks', 'defaultProfileHasRoot', 'images', 'instances', 'subuid', 'subgid'] as const) {
      expect(after[key], key).toEqual(up[key]);
    }
    expect(after.instances.map((i) => i.status)).toEqual(['Running']);
  });
});
