// The LXC probe's output (adapters/lxd/lxc-scripts.ts) → ObservedLxc. Pure. The facts come in
// order: an `owner` line opens an owner, a `container` line one of its containers.

import { parseProcIdMap } from '../ids/idmap.js';
import type { ObservedLxc, ObservedLxcContainer, ObservedLxcOwner, TextFile } from '../observed.js';
import { sha256 } from '../hash.js';
import { refuse } from './untrusted.js';

/** `owners`: the users asked about (or 'any', when every owner was asked for); an answer about anyone else, or about one twice, is refused. */
export function parseLxcProbe(output: string, mark: string, level: string, owners: readonly string[] | 'any'): ObservedLxc {
  const out: ObservedLxc = {
    version: null,
    apparmor: false,
    usernet: { text: null, sha256: null },
    usernetOriginal: null,
    owners: Object.create(null) as ObservedLxc['owners'],
  };
  let owner: ObservedLxcOwner | null = null;
  let container: ObservedLxcContainer | null = null;
  const text = (status: string, body: string): TextFile =>
    status === 'absent' ? { text: null, sha256: null } : { text: body, sha256: sha256(body) };
  for (const line of output.split('\n')) {
    if (!line.startsWith(`${mark} `)) continue;
    const [, name, status = '', b64 = ''] = line.split(' ');
    const body = Buffer.from(b64, 'base64').toString('utf8');
    switch (name) {
      case 'version':
        out.version = status === 'absent' ? null : body.trim() || 'unknown';
        break;
      case 'apparmor':
        out.apparmor = status === 'yes';
        break;
      case 'usernet':
        out.usernet = text(status, body);
        break;
      case 'usernet_orig':
        out.usernetOriginal = text(status, body).text;
        break;
      case 'owner':
        if (owners !== 'any' && !owners.includes(body))
          refuse(`the LXC probe answers for user ${JSON.stringify(body)}, who was not asked about`, level);
        if (Object.hasOwn(out.owners, body)) refuse(`the LXC probe answers twice for user ${JSON.stringify(body)}`, level);
        owner = { home: null, defaultConf: null, containers: [] };
        container = null;
        out.owners[body] = owner;
        break;
      case 'home':
        if (owner) owner.home = body;
        break;
      case 'default_conf':
        if (owner) owner.defaultConf = text(status, body);
        break;
      case 'container':
        if (owner?.containers.some((c) => c.name === body)) refuse(`the LXC probe lists container ${JSON.stringify(body)} twice`, level);
        container = { name: body, state: 'UNKNOWN', uidMap: [], config: { text: '', sha256: sha256('') } };
        owner?.containers.push(container);
        break;
      case 'state':
        if (container) container.state = body.trim() || 'UNKNOWN';
        break;
      case 'uid_map':
        if (container && status !== 'absent') container.uidMap = parseProcIdMap(body);
        break;
      case 'config':
        if (container && status !== 'absent') container.config = { text: body, sha256: sha256(body) };
        break;
    }
  }
  return out;
}
