// How a simulated command answers, in the shapes the real tools use: output and exit 0, or a
// message on stderr with the tool's exit code; and how the machine's parts enter a container.

import type { ExecOptions, ExecResult } from '../ports/exec.js';
import type { World } from './state.js';

export const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
export const json = (value: unknown): ExecResult => ok(`${JSON.stringify(value)}\n`);
/** A script's or tool's refusal: its own exit code and words. */
export const failed = (code: number, message: string): ExecResult => ({ code, stdout: '', stderr: `${message}\n` });
/** What `lxc`/`incus` print when the daemon refuses: "Error: …", exit 1. */
export const clientError = (message: string): ExecResult => failed(1, `Error: ${message}`);

/** argv in the machine inside container `name` of the level at `path`. */
export type Enter = (world: World, path: string, name: string, argv: readonly string[], options: ExecOptions) => Promise<ExecResult>;
