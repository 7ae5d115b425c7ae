// The write-subid step: an edit of the entries nestctl manages (root's, dockremap's: one step per
// file for all of them) at apply, or a restore of the original (destroy).

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
