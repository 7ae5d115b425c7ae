// What the simulated lxc-create leaves in a container's config, against LXC 5.0.2 (Debian 12's,
// built without OpenSSL): lxccontainer.c prepend_lxc_header's comment header, the base config
// verbatim, lxc.rootfs.path, then the busybox template's own lines (templates/lxc-busybox.in,
// copy_configuration). The agreement e2e compares this text with real LXC's.

import { describe, expect, it } from 'vitest';
import { createSimWorld } from '../../src/cli/sim-world.js';
import { defaultWorld } from '../../src/sim/index.js';
import { createdConfig } from '../../src/sim/lxc.js';

const BUSYBOX_LINES = [
  'lxc.signal.halt = SIGUSR1',
  'lxc.signal.reboot = SIGTERM',
  'lxc.uts.name = "box"',
  'lxc.autodev = 1',
  'lxc.tty.max = 5',
  'lxc.pty.max = 1',
  'lxc.cap.drop = sys_module mac_admin mac_override sys_time',
  '',
  '# When using LXC with apparmor, uncomment the next line to run unconfined:',
  '#lxc.apparmor.profile = unconfined',
  '',
  'lxc.mount.auto = cgroup:mixed proc:mixed sys:ro',
  'lxc.mount.entry = shm dev/shm tmpfs defaults,create=dir 0 0',
  'lxc.mount.entry = mqueue dev/mqueue mqueue defaults,optional,create=dir 0 0',
  'lxc.mount.entry = /lib lib none ro,bind 0 0',
  'lxc.mount.entry = /usr/lib usr/lib none ro,bind 0 0',
  'lxc.mount.entry = /lib64 lib64 none ro,bind 0 0',
  'lxc.mount.entry = /usr/lib64 usr/lib64 none ro,bind 0 0',
  'lxc.mount.entry = /sys/kernel/security sys/kernel/security none ro,bind,optional 0 0',
];

const HEADER = [
  '# Template used to create this container: /usr/share/lxc/templates/lxc-busybox',
  '# Parameters passed to the template:',
  '# For additional config options, please look at lxc.container.conf(5)',
  '',
  '# Uncomment the following line to support nesting containers:',
  '#lxc.include = /usr/share/lxc/config/nesting.conf',
  '# (Be aware this has security implications)',
  '',
];

describe('the config the simulated lxc-create -t busybox writes (LXC 5.0.2)', () => {
  it("is the header, the base config as written (blank lines and comments kept), lxc.rootfs.path, then the template's lines", () => {
    const base = 'lxc.idmap = u 0 100000 65536\n\n# mine\nlxc.idmap = g 0 100000 65536\n';
    expect(createdConfig('busybox', [], base, '/home/alice/.local/share/lxc', 'box')).toBe(
      [
        ...HEADER,
        'lxc.idmap = u 0 100000 65536',
        '',
        '# mine',
        'lxc.idmap = g 0 100000 65536',
        'lxc.rootfs.path = dir:/home/alice/.local/share/lxc/box/rootfs',
        ...BUSYBOX_LINES,
        '',
      ].join('\n'),
    );
  });

  it('is what lxc-create leaves at a level, from the -f file for root', async () => {
    const world = createSimWorld(defaultWorld([{ alias: 'busybox', hostsLxd: false }]));
    world.installLxc('', {});
    const host = world.host();
    await host.lxcCreate({
      name: 'box',
      owner: { user: null, home: null },
      template: 'busybox',
      templateArgs: [],
      config: 'lxc.net.0.type = empty\n',
    });
    expect(world.file('', '/var/lib/lxc/box/config')).toBe(
      [...HEADER, 'lxc.net.0.type = empty', 'lxc.rootfs.path = dir:/var/lib/lxc/box/rootfs', ...BUSYBOX_LINES, ''].join('\n'),
    );
  });
});
