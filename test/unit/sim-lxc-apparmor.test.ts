// AppArmor is the kernel's: /sys/module/apparmor/parameters/enabled, which the LXC probe reads
// (adapters/lxd/lxc-scripts.ts), says the same inside a container as on the host (sysfs module
// parameters are not namespaced; AppArmor's is mode 0444, security/apparmor/lsm.c). The simulated
// levels inside containers say what the host's kernel says: a user's default.conf there gets
// lxc.apparmor.profile = unconfined from it (core/lxc/desired.ts), as on a real host.

import { describe, expect, it } from 'vitest';
import { type Loaded, loadLines, planOn } from './helpers/engine.js';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld } from '../../src/sim/index.js';
import { startApply } from '../../src/engine/apply.js';

const M: Loaded = loadLines(
  'apparmor.yaml',
  'apiVersion: nestctl/v1',
  'containers:',
  '  - name: outer',
  '    image: nest-tools',
  '    containers:',
  '      - name: rbox',
  '        runtime: lxc',
  '        template: download',
  '        containers:',
  '          - name: deep',
  '            runtime: lxc',
);

function world(apparmor: boolean) {
  const desc = defaultWorld([{ alias: 'nest-tools', hostsLxd: true, hostsLxc: true }]);
  desc.host.lxc = { apparmor, users: {} };
  return createSimWorld(desc);
}

describe('AppArmor as the LXC probe sees it inside containers (simulated)', () => {
  for (const apparmor of [true, false]) {
    it(`says the host kernel's (${apparmor ? 'enabled' : 'disabled'}) inside an LXD container and inside an LXC container in it`, async () => {
      const w = world(apparmor);
      expect((await startApply(await planOn(w.host(), M), w.host()).finished).failed).toEqual([]);
      const outer = w.host().child('outer', null);
      expect((await outer.probeLxc(['root'])).apparmor).toBe(apparmor);
      expect((await outer.lxcChild('rbox', null).probeLxc(['root'])).apparmor).toBe(apparmor);
    });
  }
});
