// A bound on work, not on speed: CPU time (user + system) this process spends in a synchronous
// call stays steady when other jobs share the machine, where wall time does not. Tests use it to
// catch blow-ups (quadratic work, runaway recursion) with a generous bound.

export function cpuMs<T>(fn: () => T): { value: T; ms: number } {
  const start = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(start);
  return { value, ms: (used.user + used.system) / 1000 };
}

/** The same for asynchronous work: everything this process did while `fn` ran counts. */
export async function cpuMsAsync<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(start);
  return { value, ms: (used.user + used.system) / 1000 };
}
