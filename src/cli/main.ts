#!/usr/bin/env node
// The only wiring point: parse arguments, run a command, exit with its code.

// Each command's module (and what it needs: yaml, the validators, listr2, diff) is imported only
// when that command runs, so `--version`, `--help` and `validate` do not load the others.

import { Argument, Command, Option } from 'commander';
import { colourWanted, colours } from '../render/colour.js';
import { EnvironmentError, NestctlError } from '../core/errors.js';
import { FLAVOURS } from '../core/flavour/index.js';
import { VERSION } from './version.js';
import { terminalText } from '../render/visible.js';

const report = () => import('./report.js');

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
  // Which LXD a command talks to (this machine, or a simulated world) and how: plan, apply, destroy, viz, status.
  const connectionOptions = (cmd: Command): Command =>
    cmd
      .option('--simulate', 'plan against a fresh simulated LXD host instead of this machine')
      .option('--world <file>', 'simulated starting point (YAML/JSON world description); implies --simulate')
      .option(
        '--state <file>',
        'continue a simulation: start from this world file when it exists (else a fresh one, or --world), save the world there after apply or destroy; implies --simulate',
      )
      .option('--host-restart <argv>', 'command that restarts the host LXD without stopping containers (words, or a JSON array)')
      .option('--parallel <n>', 'with several hosts: how many to observe and plan side by side (default 4)')
      .option('-v, --verbose', 'list every step and key of the plan on its own, and print every command run at every level');

  // Commands that plan a manifest as apply does: plan and apply (a saved plan records them).
  const planningOptions = (cmd: Command): Command =>
    cmd
      .option('--prune', 'also destroy containers nestctl created that the manifest no longer lists')
      .option(
        '--replace <path>',
        'delete and create again this node (e.g. c1/c2) and all it holds, though the manifest does not require it; repeatable',
        (v: string, prev: string[] = []) => [...prev, v],
      )
      .option('--target <path>', 'only this node (e.g. c1/c2), its subtree and what its ancestors must do for it')
      .option(
        '--snapshot',
        'snapshot each existing container before the plan changes it (lxc snapshot), so a failed apply can be rolled back',
      );

  // Commands that change things: apply and destroy.
  const executeOptions = (cmd: Command): Command =>
    cmd
      .option('--auto-approve', 'do not ask for approval')
      .option('--json', 'newline-delimited JSON events on stdout (needs --auto-approve, or for apply a saved plan)')
      .addOption(new Option('--ci', 'plain progress lines even on a terminal').default(Boolean(process.env.CI)))
      .option('--lock-timeout <duration>', 'wait this long (e.g. 30s, 2m) for another nestctl apply on this host to finish', '0');

  program
    .command('validate')
    .description('check a manifest (schema, names, id allocation) without touching any host')
    .argument('<file>', 'manifest')
    .option('--json', 'machine-readable result')
    .action(async (file: string, opts: { json?: boolean }) => {
      code = await (await import('./commands/validate.js')).validateCommand(file, opts, c());
    });

  connectionOptions(
    planningOptions(
      program
        .command('plan')
        .description('show what apply would change on the host and inside every container')
        .argument('<file>', 'manifest')
        .option('--json', 'print the plan as one JSON document (nothing else on stdout)')
        .option('--out <plan.json>', 'save the plan; `nestctl apply plan.json` then performs exactly it')
        .option('--detailed-exitcode', 'exit 0 without changes, 2 with changes, 1 on error'),
    ),
  ).action(async (file: string, opts) => {
    code = await (await import('./commands/plan.js')).planCommand(file, opts, c());
  });

  connectionOptions(
    executeOptions(
      planningOptions(
        program
          .command('apply')
          .description('plan, ask for approval, and carry the plan out level by level; or apply a saved plan')
          .argument('<file>', 'manifest, or a plan saved with plan --out (applied without asking, refused if stale)')
          .option(
            '--rollback-on-failure',
            'when a step fails, restore the containers snapshotted before it (with --snapshot, or a plan saved with it) and what ran inside them',
          ),
      ),
    ),
  ).action(async (file: string, opts) => {
    code = await (await import('./commands/apply.js')).applyCommand(file, opts, c());
  });

  connectionOptions(
    executeOptions(
      program
        .command('destroy')
        .description('delete, bottom-up, the containers of the manifest that nestctl created')
        .argument('<file>', 'manifest')
        .option('--restore-ids', "put root's subid lines back as they were before nestctl first changed them"),
    ),
  ).action(async (file: string, opts) => {
    code = await (await import('./commands/apply.js')).applyCommand(file, opts, c(), 'destroy');
  });

  program
    .command('show')
    .description('render a plan saved with plan --out')
    .argument('<plan>', 'saved plan (JSON)')
    .option('--json', 'print it as JSON')
    .option('-v, --verbose', 'list every step and key of the plan on its own')
    .action(async (file: string, opts: { json?: boolean; verbose?: boolean }) => {
      code = await (await import('./commands/show.js')).showCommand(file, opts, c());
    });

  program
    .command('init')
    .description('write a starter manifest with the schema modeline for editors')
    .argument('[file]', 'where to write it', 'nestctl.yaml')
    .option('--force', 'overwrite an existing file')
    .action(async (file: string, opts: { force?: boolean }) => {
      code = await (await import('./commands/init.js')).initCommand(file, opts, c());
    });

  connectionOptions(
    program
      .command('viz')
      .description('draw the id ranges of every level, as host ids')
      .argument('<file>', 'manifest')
      .addOption(
        new Option('--format <format>', 'text, or svg: a standalone SVG document on stdout').choices(['text', 'svg']).default('text'),
      ),
  ).action(async (file: string, opts) => {
    code = await (await import('./commands/viz.js')).vizCommand(file, opts, c());
  });

  connectionOptions(
    program
      .command('status')
      .description('show every container of the manifest as it is now, and whether plan would change it')
      .argument('<file>', 'manifest')
      .option('--json', 'print the status as one JSON document (nothing else on stdout)')
      .option('--detailed-exitcode', 'exit 0 when plan has no changes, 2 when it has some (or is refused), 1 on error'),
  ).action(async (file: string, opts) => {
    code = await (await import('./commands/status.js')).statusCommand(file, opts, c());
  });

  connectionOptions(
    program
      .command('import')
      .description('write a manifest of the containers on this machine and every level inside them it can reach')
      .option('--out <file>', 'write the manifest there instead of to standard output')
      .option('--force', 'with --out: overwrite an existing file')
      .addOption(new Option('--flavour <flavour>', 'the daemon to read on the host when several are installed').choices(FLAVOURS))
      .option(
        '--remote <name>',
        'also a remote of the client configuration (lxc remote list); repeatable',
        (v: string, prev: string[] = []) => [...prev, v],
      )
      .addOption(new Option('--cli <client>', 'the client whose configuration holds the remotes').choices(['lxc', 'incus'])),
  ).action(async (opts) => {
    code = await (await import('./commands/import.js')).importCommand(opts, c());
  });

  connectionOptions(
    planningOptions(
      program
        .command('graph')
        .description("print the plan's steps and the order apply runs them in, as a Graphviz DOT graph")
        .argument('<file>', 'manifest'),
    ),
  ).action(async (file: string, opts) => {
    code = await (await import('./commands/graph.js')).graphCommand(file, opts, c());
  });

  program
    .command('fmt')
    .description('rewrite manifests in canonical form (schema key order, 2-space indentation, comments kept)')
    .argument('<file...>', 'manifests')
    .option('--check', 'change nothing: list the files that are not canonical, with a diff, and exit 1 if there are any')
    .action(async (files: string[], opts: { check?: boolean }) => {
      code = await (await import('./commands/fmt.js')).fmtCommand(files, opts, c());
    });

  program
    .command('completion')
    .description('print a shell completion script (commands, options, manifests, node paths for --target and --replace)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      code = (await import('./commands/completion.js')).completionCommand(shell, program);
    });

  // Called by the completion scripts: the manifest's node paths, one a line; silent on any error.
  program
    .command('__complete-paths', { hidden: true })
    .argument('<file>')
    .action(async (file: string) => {
      code = await (await import('./commands/completion.js')).completePathsCommand(file);
    });

  // Which command ran (or failed in commander's own parsing), so errors can honour its --json.
  let active: Command | null = null;
  program.hook('preAction', (_program, actionCommand) => {
    active = actionCommand;
  });
  for (const cmd of program.commands) {
    cmd.exitOverride((err) => {
      active = cmd;
      throw err;
    });
  }

  try {
    await program.parseAsync(argv);
  } catch (e) {
    const ce = e as { code?: string; message?: string };
    const commanderError = typeof ce.code === 'string' && ce.code.startsWith('commander.');
    if (commanderError && (ce.code === 'commander.helpDisplayed' || ce.code === 'commander.version')) return 0;
    const cmd = active as Command | null;
    const error = commanderError
      ? new NestctlError('user', String(ce.message).replace(/^error: /, ''), `see nestctl ${cmd ? `${cmd.name()} ` : ''}--help`)
      : e;
    if (cmd && jsonWanted(cmd)) {
      if (cmd.name() === 'validate') {
        const { errorDiagnostics, printValidateJson } = await import('./commands/validate.js');
        const file = cmd.args.find((a) => !a.startsWith('-')) ?? '';
        printValidateJson(errorDiagnostics(error), file);
      } else await (await report()).reportJsonError(error);
    }
    // Commander has already printed its own message (and the usage) on stderr.
    return commanderError ? 1 : (await report()).reportError(error, c());
  }
  return code;
}

/** --json as the command parsed it; for commander's own errors (parsing stopped early), as given. */
function jsonWanted(cmd: Command): boolean {
  if (!JSON_COMMANDS.includes(cmd.name())) return false;
  if (cmd.opts<{ json?: boolean }>().json === true) return true;
  const end = cmd.args.indexOf('--');
  return (end < 0 ? cmd.args : cmd.args.slice(0, end)).includes('--json');
}

const JSON_COMMANDS = ['plan', 'apply', 'destroy', 'validate', 'show', 'status'];

const fail = (e: unknown): void => {
  void report()
    .then(
      ({ reportError }) => reportError(e, colours(false)),
      () => process.stderr.write(terminalText(`internal error: ${e instanceof Error ? e.message : String(e)}\n`, false)),
    )
    .finally(() => process.exit(1));
};

// A reader that stops early (`| head`) is not an error of ours, and no reason to stop: an apply
// cut off there would leave a tree half-made and report success. The rest of stdout is dropped,
// the command runs to its end and exits with its own code.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
  fail(new EnvironmentError(`cannot write to standard output: ${e.message}`));
});
// Nowhere left to report a broken stderr; say it with the exit code.
process.stderr.on('error', () => process.exit(1));
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

main(process.argv).then((code) => {
  process.exitCode = code;
}, fail);
