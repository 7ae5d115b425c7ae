#!/usr/bin/env node
// The only wiring point: parse arguments, run a command, exit with its code.

import { Command, Option } from 'commander';
import { colourWanted, colours } from '../render/colour.js';
import { applyCommand } from './commands/apply.js';
import { planCommand } from './commands/plan.js';
import { validateCommand } from './commands/validate.js';
import { vizCommand } from './commands/viz.js';
import { reportError } from './io.js';
import { VERSION } from './version.js';

async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command()
    .name('nestctl')
    .description('Plan and apply trees of nested LXD/Incus containers.')
    .version(VERSION)
    .option('--no-color', 'no colours (NO_COLOR is honoured too)')
    .showHelpAfterError()
    .exitOverride();

  const c = () => colours(colourWanted(process.stdout, program.opts<{ color: boolean }>().color));
  const targetOptions = (cmd: Command): Command =>
    cmd
      .option('--simulate', 'plan against a fresh simulated LXD host instead of this machine')
      .option('--world <file>', 'simulated starting point (YAML/JSON world description); implies --simulate')
      .option('--host-restart <argv>', 'command that restarts the host LXD without stopping containers (words, or a JSON array)')
      .option('-v, --verbose', 'print every command run at every level');

  program
    .command('validate')
    .description('check a manifest (schema, names, id allocation) without touching any host')
    .argument('<file>', 'manifest')
    .option('--json', 'machine-readable result')
    .action(async (file: string, opts: { json?: boolean }) => {
      code = await validateCommand(file, opts, c());
    });

  targetOptions(
    program
      .command('plan')
      .description('show what apply would change on the host and inside every container')
      .argument('<file>', 'manifest')
      .option('--json', 'print the plan as JSON')
      .option('--out <plan.json>', 'save the plan')
      .option('--detailed-exitcode', 'exit 0 without changes, 2 with changes, 1 on error'),
  ).action(async (file: string, opts) => {
    code = await planCommand(file, opts, c());
  });

  targetOptions(
    program
      .command('apply')
      .description('plan, ask for approval, and carry the plan out level by level')
      .argument('<file>', 'manifest')
      .option('--auto-approve', 'do not ask for approval')
      .addOption(new Option('--ci', 'plain progress lines even on a terminal').default(Boolean(process.env.CI))),
  ).action(async (file: string, opts) => {
    code = await applyCommand(file, opts, c());
  });

  targetOptions(
    program
      .command('viz')
      .description('draw the id ranges of every level')
      .argument('<file>', 'manifest'),
  ).action(async (file: string, opts) => {
    code = await vizCommand(file, opts, c());
  });

  try {
    await program.parseAsync(argv);
  } catch (e) {
    const ce = e as { code?: string; exitCode?: number };
    if (typeof ce.code === 'string' && ce.code.startsWith('commander.')) {
      return ce.code === 'commander.helpDisplayed' || ce.code === 'commander.version' ? 0 : 1;
    }
    return reportError(e, c());
  }
  return code;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`internal error: ${String(e)}\n`);
    process.exitCode = 1;
  },
);
