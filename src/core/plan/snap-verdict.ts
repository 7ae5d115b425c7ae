// The snap LXD's verdict on a level, predicted before anything runs. The snap never reads
// /etc/subuid: its range is kernelDefaultMap's (lxd/idmap/idmapset_linux.go), taken from its own
// namespace, on a host with the full kernel map the fixed 1000000:1000000000, inside a container
// from 100000 to the end of the container's map and only with at least 65537 ids
// (`Endid-Startid < 65536` is skipped). Without it the snap runs privileged containers only.

import { KERNEL_DEFAULT_MIN, daemonName, kernelDefaultRange } from '../flavour/index.js';
import type { IdRange } from '../ids/range.js';
import type { NodeAllocation } from '../ids/allocate.js';
import type { ContainerSpec, Flavour, Manifest } from '../manifest/model.js';
import { levelLabel } from '../paths.js';
import { type Diagnostic, nodeAt } from '../diagnostics.js';

/** What the verdict reads of a level (daemon-range.ts's RangeRequest). */
interface SnapLevel {
  manifest: Manifest;
  path: string;
  flavour: Flavour;
  /** Ids the level's own namespace holds. */
  ownSize: number;
  children: Array<{ spec: ContainerSpec; alloc: NodeAllocation }>;
}

const span = (r: IdRange): string => `ids ${r.start}–${r.start + r.size - 1}`;

/** "c1 (snap LXD)": the level and the daemon that decides. */
const who = (r: SnapLevel): string => `${levelLabel(r.path)} (${r.flavour} ${daemonName(r.flavour)})`;

/** "c1 (snap LXD): ids 100000–265535 from its container's map; fits c1/c2 (65536)", for the plan's warnings. */
export function snapVerdict(r: SnapLevel, range: IdRange, slices: Map<string, IdRange>): string {
  const source = r.path === '' ? 'from the kernel default' : "from its container's map";
  const children = r.children.map(({ spec, alloc }) => {
    const slice = slices.get(spec.name);
    return slice ? `${spec.path} (isolated, ${slice.size})` : `${spec.path} (${alloc.need})`;
  });
  return `${who(r)}: ${span(range)} ${source}; ${children.length > 0 ? `fits ${children.join(', ')}` : 'holds no containers of the manifest'}`;
}

/** Why a nested snap cannot hand out what its children need, and what would make it. */
export function snapRefusal(r: SnapLevel, required: number): Diagnostic {
  const range = kernelDefaultRange(false, r.ownSize);
  const why =
    range.size < KERNEL_DEFAULT_MIN
      ? `the snap takes ids from 100000 up and needs at least ${KERNEL_DEFAULT_MIN} of them (kernelDefaultMap), so it could run privileged containers only`
      : `the snap takes ids from 100000 up, ${range.size} of them, but the containers in it need ${required - 100000}`;
  const spec = specAt(r.manifest.containers, r.path);
  const fixes: string[] = [];
  if (spec?.flavour !== 'snap') fixes.push(`set flavour: snap on ${r.path} so nestctl sizes its map for the snap`);
  // Not idmap.size: the level is refused from the map it has, before a remap could be planned.
  fixes.push(`recreate ${r.path} (nestctl destroy --target ${r.path}, then apply): a container's map is computed only when it is created`);
  return {
    severity: 'error',
    fault: 'user',
    where: nodeAt(r.manifest.file, r.path, spec?.pos),
    message: `${who(r)}: its container's map holds ${r.ownSize} ids, and ${required} are needed: ${why}`,
    hint: fixes.join('; then '),
  };
}

function specAt(specs: ContainerSpec[], path: string): ContainerSpec | null {
  const [head, ...rest] = path.split('/');
  const spec = specs.find((s) => s.name === head) ?? null;
  return spec && rest.length > 0 ? specAt(spec.containers, rest.join('/')) : spec;
}
