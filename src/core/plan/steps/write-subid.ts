// The write-subid step: an edit of one owner's entries (apply: root's for the level's daemon, or an
// LXC user's) or a restore of the original (destroy).

import type { RootEdit } from '../../subid/file.js';
import { levelLabel } from '../../paths.js';
import type { Precondition, Step } from '../model.js';

export interface SubidWrite {
  level: string;
  file: 'subuid' | 'subgid';
  dependsOn: string[];
  reason: string;
  before: string | null;
  after: string | null;
  edit: RootEdit | null;
  restore: boolean;
  precondition: Precondition;
}

/** `user`: the LXC user whose line it writes (its id names them); absent for the daemon's owner. */
export function writeSubidStep(w: SubidWrite, user?: string): Step {
  return { id: `${levelLabel(w.level)}:write-subid:${w.file}${user ? `:${user}` : ''}`, kind: 'write-subid', ...w };
}
