// -v for the real and the simulated connection alike.

/** -v: every command run, as `[LEVEL] argv` on stderr (in a simulation: what a real run would execute). */
export const traceOf = (verbose: boolean | undefined) => (verbose ? (path: string, argv: readonly string[]) => process.stderr.write(`[${path || 'host'}] ${argv.join(' ')}\n`) : undefined);
