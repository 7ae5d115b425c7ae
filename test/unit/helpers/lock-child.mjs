// A separate process contending for the host lock, driven over stdin by host-lock.test.ts:
// prints "ready", takes the lock on "go" (prints "won" or "lost MESSAGE"), then holds it until
// stdin ends (normal release) or "exit" (process.exit without calling release).
// Uses the built module: npm test builds dist/ first.
import { createInterface } from 'node:readline';
import { lockHost } from '../../../dist/src/adapters/host-lock.js';

const [path, timeoutMs = '0'] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin });
let release = null;
lines.on('line', async (line) => {
  if (line === 'go') {
    try {
      release = await lockHost({ path, timeoutMs: Number(timeoutMs), onWait: () => process.stdout.write('waiting\n') });
      process.stdout.write('won\n');
    } catch (e) {
      process.stdout.write(`lost ${e.message}\n`);
      process.exit(0);
    }
  }
  if (line === 'exit') process.exit(7);
});
lines.on('close', () => {
  release?.();
  process.exit(0);
});
process.stdout.write('ready\n');
