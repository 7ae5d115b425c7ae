// A host of the manifest through the real client, over the machine `exec` runs on (this one's
// processes, or a simulated machine): this machine's daemon, and each remote's instances as
// `REMOTE:NAME` (the levels below through `lxc exec REMOTE:c1`), its range read once by an empty
// probe instance. Real and simulated runs build their hosts here, so they differ only in `exec`.

import { ExecLevel } from '../adapters/lxd/level.js';
import { ExecRemoteHost, rangeReadOnce } from '../adapters/lxd/remote-host.js';
import { ShellHostLevel } from '../adapters/lxd/shell-host.js';
import type { HostSpec } from '../core/manifest/model.js';
import type { Exec } from '../ports/exec.js';
import type { HostConnection } from '../ports/remote.js';

export type Trace = (path: string, argv: readonly string[]) => void;

export function hostConnection(h: HostSpec, exec: Exec, trace?: Trace): HostConnection {
  const opts = trace ? { trace } : {};
  if (h.place.kind === 'local') return { name: h.name, level: new ExecLevel(exec, '', opts, h.flavour), remote: null };
  const { client, flavour } = h.place;
  const top = { remote: h.place.remote, project: h.place.project };
  const local = new ExecLevel(exec, '', opts, flavour);
  const remote = rangeReadOnce(new ExecRemoteHost(exec, client, top, () => local.images()));
  const level = new ExecLevel(exec, '', opts, flavour, { ...top, range: () => remote.probeRange(null) });
  if (!h.place.shell) return { name: h.name, level, remote };
  // The daemon there restarted: its range is read again, by a new probe instance.
  const restarted = async (): Promise<void> => {
    remote.reread();
    await remote.probeRange(null);
  };
  return {
    name: h.name,
    level: new ShellHostLevel(level, { remote: h.place.remote, prefix: h.place.shell, exec, restarted, ...opts }, flavour),
    remote,
  };
}
