// The setup commands the simulator understands, run as a container would run them: what they
// print streams out as it comes (sleep really waits), so a simulated apply shows output the way a
// real one does. Any other command succeeds, prints nothing and is only recorded (files.ts).
//
//   true, false, echo WORDS…, seq [FIRST] LAST, sleep SECONDS, touch PATH…
//   sh -c SCRIPT: those commands separated by `;` or newlines, words split at spaces (a word may be
//   quoted with '…' or "…", no escapes), `>&2` sends a command's output to stderr, `exit N` ends it.

import type { ExecResult, OutputListener, OutputStream } from '../ports/exec.js';

/** What a command may do to the container it runs in. */
export interface CommandHost {
  touch(file: string): void;
}

/** seq prints in pieces this big, letting timers (redraws, Ctrl-C) run between them. */
const CHUNK_CHARS = 64 * 1024;

interface Run {
  print(stream: OutputStream, text: string): Promise<void>;
}

/** Runs argv; output goes to `onOutput` as it comes, or into the result without it. */
export async function runSimCommand(argv: readonly string[], host: CommandHost, onOutput?: OutputListener): Promise<ExecResult> {
  const kept = { stdout: '', stderr: '' };
  const run: Run = {
    print: async (stream, text) => {
      if (onOutput) onOutput(stream, text);
      else kept[stream] += text;
      await new Promise<void>((resume) => setImmediate(resume));
    },
  };
  const [program, ...args] = argv;
  const code =
    program === 'sh' && args[0] === '-c' && args[1] !== undefined
      ? await script(args[1], host, run)
      : ((await command(argv, 'stdout', host, run)) ?? 0);
  return { code, ...kept };
}

/** Runs one command; a number is the script's exit (from `exit N`), null: carry on. */
async function command(argv: readonly string[], out: OutputStream, host: CommandHost, run: Run): Promise<number | null> {
  const [program, ...args] = argv;
  switch (program) {
    case 'false':
      return 1;
    case 'echo':
      await run.print(out, `${args.join(' ')}\n`);
      return null;
    case 'seq': {
      const [first, last] = args.length > 1 ? [Number(args[0]), Number(args[1])] : [1, Number(args[0])];
      let piece = '';
      for (let n = first; n <= last; n += 1) {
        piece += `${n}\n`;
        if (piece.length >= CHUNK_CHARS) {
          await run.print(out, piece);
          piece = '';
        }
      }
      if (piece !== '') await run.print(out, piece);
      return null;
    }
    case 'sleep':
      await new Promise<void>((resume) => setTimeout(resume, Number(args[0] ?? 0) * 1000));
      return null;
    case 'touch':
      for (const file of args) host.touch(file);
      return null;
    case 'exit':
      return Number(args[0] ?? 0);
    default:
      return null;
  }
}

async function script(text: string, host: CommandHost, run: Run): Promise<number> {
  let last = 0;
  for (const line of text.split(/[;\n]/)) {
    const words = [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
    const toStderr = words.at(-1) === '>&2';
    const argv = toStderr ? words.slice(0, -1) : words;
    if (argv.length === 0) continue;
    const exit = await command(argv, toStderr ? 'stderr' : 'stdout', host, run);
    if (argv[0] === 'exit') return exit ?? 0;
    last = exit ?? 0;
  }
  return last;
}
