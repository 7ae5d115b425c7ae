// -v for the real and the simulated connection alike: both run the same client (ExecLevel).

import { shownArgv } from '../adapters/lxd/commands.js';
import { terminalText } from '../render/visible.js';

/** -v: every command the client runs, as `[LEVEL] argv` on stderr, each constant script by its name. */
export const traceOf = (verbose: boolean | undefined) =>
  verbose
    ? (path: string, argv: readonly string[]) =>
        process.stderr.write(terminalText(`[${path || 'host'}] ${shownArgv(argv).join(' ')}\n`, false))
    : undefined;
