// Once per e2e run, in Vitest's main process and before any test file: install and start LXD and
// import the lab images (test/lab/setup-host.sh). Doing it here keeps a minutes-long setup out
// of the test workers.

import { labUnavailable, setupHost } from './lab.js';

export default async function setup(): Promise<void> {
  if (labUnavailable() !== null) return; // each suite reports itself as skipped, with the reason
  const t0 = Date.now();
  await setupHost();
  process.stderr.write(`lab setup (test/lab/setup-host.sh): ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}
