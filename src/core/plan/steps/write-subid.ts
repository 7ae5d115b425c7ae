// The write-subid step: at apply, one edit per file of every owner entry nestctl manages at the
// level (root's for its daemon, with root's LXC slices; dockremap's; each LXC user's); at destroy,
// a restore of the original.

import type { SubidEdit } from '../../subid/file.js';
import { levelLabel } from '../../paths.js';
import type { Precondition, Step } from '../model.js';

export interface SubidWrite {
  level: string;
  file: 'subuid' | 'subgid';
  dependsOn: string[];
  reason: string;
  before: string | null;
  after: string | null;
  edit: SubidEdit | null;
  restore: boolean;
  precondition: Precondition;
}

export function writeSubidStep(w: SubidWrite): Step {
  return { id: `${levelLabel(w.level)}:write-subid:${w.file}`, kind: 'write-subid', ...w };
}
