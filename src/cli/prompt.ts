// The approval prompt of apply and destroy, on the terminal.

import { createInterface } from 'node:readline';
import { NestctlError } from '../core/errors.js';

/**
 * Only the word "yes" approves (Terraform's rule). End of input (Ctrl-D) and Ctrl-C at the
 * prompt both decline; the caller says the run was cancelled.
 */
export async function askApproval(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new NestctlError(
      'user',
      'apply needs approval, but there is no terminal to ask on',
      'review the plan with `nestctl plan`, then run `nestctl apply --auto-approve`',
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return await new Promise<boolean>((resolve) => {
      // Ctrl-C in raw mode reaches readline as a key, not as a signal to the process.
      rl.once('SIGINT', () => {
        process.stderr.write('^C\n');
        resolve(false);
      });
      rl.once('close', () => {
        process.stderr.write('\n');
        resolve(false);
      });
      rl.question(`${question}\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: `, (answer) =>
        resolve(answer.trim() === 'yes'),
      );
    });
  } finally {
    rl.removeAllListeners('close');
    rl.close();
    // Let later readers (listr2's renderer) find stdin as it was, and let the process exit.
    process.stdin.pause();
  }
}
