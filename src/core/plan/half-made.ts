// A container whose create LXD never finished: the daemon was killed while it unpacked the image.
// LXD records the instance before it creates its root volume; only once the volume is complete
// does it set volatile.apply_template=create (CreateInstanceFromImage → DeferTemplateApply,
// lxd/storage/backend_lxd.go, LXD 5.0.2), and the first start removes that key (onStart,
// lxd/instance/drivers/driver_lxc.go) and records volatile.last_state.power (recordLastState,
// driver_common.go). Incus 6.0 does the same (internal/server/storage/backend.go,
// driver_common.go). So an instance with neither key never finished its create and never ran
// (onStart drops the one and records the other before the container's init is run).
//
// Earlier nestctl marked its creates with user.nestctl.creating and removed the mark once `init`
// returned; the mark alone proves nothing (a finished create whose mark was never removed carries
// it still), so only LXD's keys decide.

import type { ObservedInstance } from '../observed.js';
import { MARKER_PATH } from './desired-config.js';

const APPLY_TEMPLATE = 'volatile.apply_template';
const LAST_POWER = 'volatile.last_state.power';

/** LXD never finished creating the instance (whoever asked for it). Pure. */
export function createNeverFinished(inst: Pick<ObservedInstance, 'status' | 'config'>): boolean {
  return inst.status !== 'Running' && inst.config[APPLY_TEMPLATE] === undefined && inst.config[LAST_POWER] === undefined;
}

/** `inst` is nestctl's container at `path`, and its create never finished. Pure. */
export function halfMade(inst: ObservedInstance, path: string): boolean {
  return inst.config[MARKER_PATH] === path && createNeverFinished(inst);
}
