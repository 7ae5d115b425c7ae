// A level's classic LXC as the real probe saw it (ExecLevel.probeLxc, the same script nestctl
// runs), turned into the world description the simulator starts from: accounts and homes,
// lxc-usernet and nestctl's record of it, each user's default.conf, each owner's containers with
// their config, state and init's uid_map. Pure, so a unit test can build a world from a recorded
// probe (test/unit/agreement-lxc-world.test.ts).

import { defaultConfPath, USERNET_ORIGINAL } from '../../src/core/lxc/paths.js';
import type { ObservedLxc } from '../../src/core/observed.js';
import type { LxcContainerDescription, LxcDescription } from '../../src/sim/index.js';

/** The `lxc` part of a level's description, and the files that go beside it (default.conf, the usernet record). */
export interface LxcWorldPart {
  lxc: LxcDescription;
  files: Record<string, string>;
}

/** null: LXC is not installed at the level (the probe found no lxc-ls). */
export function lxcWorldPart(seen: ObservedLxc): LxcWorldPart | null {
  if (seen.version === null) return null;
  const users: Record<string, string> = {};
  const files: Record<string, string> = {};
  const containers: LxcContainerDescription[] = [];
  if (seen.usernetOriginal !== null) files[USERNET_ORIGINAL] = seen.usernetOriginal;
  for (const [owner, o] of Object.entries(seen.owners).sort(([a], [b]) => a.localeCompare(b))) {
    if (o.home === null) continue; // no such account: nothing of it to describe
    if (owner !== 'root') users[owner] = o.home;
    if (owner !== 'root' && o.defaultConf?.text != null) files[defaultConfPath(o.home)] = o.defaultConf.text;
    for (const c of o.containers) {
      if (c.state !== 'RUNNING' && c.state !== 'STOPPED')
        throw new Error(`${owner}'s LXC container ${c.name} is ${c.state}: the simulator knows RUNNING and STOPPED only`);
      containers.push({
        owner,
        name: c.name,
        state: c.state,
        config: c.config.text,
        ...(c.state === 'RUNNING' ? { uidMap: c.uidMap.map((e) => `${e.nsid} ${e.hostid} ${e.maprange}`).join('\n') } : {}),
      });
    }
  }
  return {
    lxc: {
      version: seen.version,
      apparmor: seen.apparmor,
      users,
      ...(seen.usernet.text !== null ? { usernet: seen.usernet.text } : {}),
      ...(containers.length > 0 ? { containers } : {}),
    },
    files,
  };
}
