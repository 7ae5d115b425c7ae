// The LXC probe's answer (adapters/lxd/lxc-scripts.ts, LXC_PROBE_SCRIPT) for what a simulated
// level holds: the fact lines core/observe/parse-lxc.ts reads from a real one.

import type { ObservedLxc, TextFile } from '../core/observed.js';
import { fact, procIdMap } from './encode-probe.js';

const text = (name: string, f: TextFile): string => (f.text === null ? fact(name, 'absent') : fact(name, '0', f.text));

export function encodeLxcProbe(lxc: ObservedLxc): string {
  const lines = [
    lxc.version === null ? fact('version', 'absent') : fact('version', 'ok', `${lxc.version}\n`),
    fact('apparmor', lxc.apparmor ? 'yes' : 'no'),
    text('usernet', lxc.usernet),
    lxc.usernetOriginal === null ? fact('usernet_orig', 'absent') : fact('usernet_orig', '0', lxc.usernetOriginal),
  ];
  for (const [name, owner] of Object.entries(lxc.owners)) {
    if (owner.home === null) {
      lines.push(fact('owner', 'absent', name));
      continue;
    }
    lines.push(fact('owner', 'ok', name), fact('home', 'ok', owner.home));
    if (name !== 'root') lines.push(text('default_conf', owner.defaultConf ?? { text: null, sha256: null }));
    for (const c of owner.containers) {
      lines.push(
        fact('container', 'ok', c.name),
        fact('state', 'ok', `${c.state}\n`),
        c.uidMap.length > 0 ? fact('uid_map', '0', procIdMap(c.uidMap)) : fact('uid_map', 'absent'),
        fact('config', '0', c.config.text ?? ''),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
