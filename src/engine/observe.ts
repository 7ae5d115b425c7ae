// Walk the manifest tree over live LXD: the host first, then every running container that hosts
// children, sibling levels in parallel, one probe (one round trip) per level.

import type { ContainerSpec, Manifest } from '../core/manifest/model.js';
import { type LevelObservation, type ObservedLevel, type ObservedTree, managedInstance } from '../core/observed.js';
import type { LxdLevel } from '../ports/lxd.js';

export async function observeTree(host: LxdLevel, manifest: Manifest): Promise<ObservedTree> {
  const levels: Record<string, LevelObservation> = {};
  const hostLevel = await host.probe();
  levels[''] = { kind: 'observed', level: hostLevel };
  await observeChildren(host, hostLevel, manifest.containers, levels);
  return { levels };
}

async function observeChildren(
  api: LxdLevel,
  level: ObservedLevel,
  specs: ContainerSpec[],
  levels: Record<string, LevelObservation>,
): Promise<void> {
  await Promise.all(
    specs
      .filter((s) => s.containers.length > 0)
      .map(async (spec) => {
        const inst = managedInstance(level, spec.name);
        if (!inst) {
          levels[spec.path] = { kind: 'absent', reason: `${spec.path} does not exist` };
          return;
        }
        if (inst.status !== 'Running') {
          levels[spec.path] = { kind: 'absent', reason: `${spec.path} is ${inst.status.toLowerCase()}` };
          return;
        }
        const child = api.child(spec.name);
        const observed = await child.probe();
        levels[spec.path] = { kind: 'observed', level: observed };
        await observeChildren(child, observed, spec.containers, levels);
      }),
  );
}
