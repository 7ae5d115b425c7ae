// What the parts of the simulated machine (machine-*.ts) share.

import type { ExecOptions, ExecResult } from '../ports/exec.js';
import type { World } from './state.js';

/** argv in the machine inside container `name` of the level at `path`. */
export type Enter = (world: World, path: string, name: string, argv: readonly string[], options: ExecOptions) => Promise<ExecResult>;
