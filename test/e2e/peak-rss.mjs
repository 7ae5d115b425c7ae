// Preloaded into a nestctl run (node --import) by test/e2e/hostile.e2e.test.ts: on exit, the
// process's peak resident set size in KiB goes to the file NESTCTL_PEAK_RSS_FILE names.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  if (process.env.NESTCTL_PEAK_RSS_FILE) writeFileSync(process.env.NESTCTL_PEAK_RSS_FILE, String(process.resourceUsage().maxRSS));
});
