// This machine's client with its remotes, simulated: argv that name `REMOTE:` go to that remote's
// server (its daemon answers them as the client sends them over HTTPS), the `shell:` line of a
// remote host to that machine's shell, everything else to this machine. The real client runs
// over it exactly as it runs over this machine's processes (cli/connection.ts).

import type { Exec, ExecOptions, ExecResult } from '../ports/exec.js';
import { LOCK_PROFILE } from '../adapters/lxd/remote-commands.js';
import { answer, simMachine } from './machine.js';
import type { SimServer } from './remote.js';
import { simShellExec } from './shell.js';
import type { World } from './state.js';

/** A remote as the client knows it: its server, the machine behind it, and its `shell:` prefix if the manifest gives one. */
export interface SimRemote {
  server: SimServer;
  world: World;
  /** What the server itself answers (who it is, probe instances, the lock, relays, moves): sim/remote.ts. */
  serverExec: Exec;
  shell: readonly string[] | null;
}

const isRef = (word: string, remote: string): boolean => word.startsWith(`${remote}:`);

export function simClient(local: World, remotes: readonly SimRemote[]): Exec {
  const here = simMachine(local);
  return async (argv, options = {}) => {
    for (const r of remotes) {
      if (r.shell && argv.length === r.shell.length + 1 && r.shell.every((w, i) => argv[i] === w))
        return simShellExec(() => r.world, r.shell)(argv, options);
      if (argv.some((w) => isRef(w, r.server.remote))) return toRemote(local, r, argv, options);
    }
    return here(argv, options);
  };
}

/** Words of a remote command without `--project P` (the simulated server has one project) and `-q`. */
const plain = (argv: readonly string[]): string[] => argv.filter((w, i) => w !== '-q' && w !== '--project' && argv[i - 1] !== '--project');

/** Whether the server itself answers it, not its daemon's instances. */
function forServer(r: SimRemote, argv: readonly string[]): boolean {
  const [, verb, sub, ...rest] = plain(argv);
  const name = [sub, ...rest].find((w) => w !== undefined && isRef(w, r.server.remote))?.slice(r.server.remote.length + 1) ?? '';
  if (verb === 'query') return name === '/1.0' || name.startsWith('/1.0/cluster/');
  if (verb === 'init') return argv.includes('--empty');
  if (verb === 'config') return sub === 'get' || r.server.instances.has(name);
  if (verb === 'delete') return r.server.instances.has(name);
  if (verb === 'profile') return name === LOCK_PROFILE;
  if (verb === 'image' && sub === 'copy') return argv.includes('relay');
  return verb === 'move';
}

async function toRemote(local: World, r: SimRemote, argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
  if (forServer(r, argv)) return serverAnswer(r, argv, options);
  const dashes = argv.indexOf('--');
  const [command, inner] = dashes < 0 ? [plain(argv), []] : [plain(argv.slice(0, dashes)), argv.slice(dashes)];
  const [, verb, sub] = command;
  const prefix = `${r.server.remote}:`;
  // As the server sees it: REMOTE:X is X; `image copy SRC REMOTE:` fetches into its own store (local: there).
  const there = command.flatMap((w) =>
    w === prefix ? (verb === 'image' && sub === 'copy' ? ['local:'] : []) : [isRef(w, r.server.remote) ? w.slice(prefix.length) : w],
  );
  // Files named on this machine travel with the request: the client uploads them to the server.
  const uploads =
    verb === 'file' || (verb === 'image' && sub === 'import') ? command.filter((w) => w.startsWith('/') && local.host.files[w]) : [];
  for (const f of uploads) r.world.host.files[f] = { ...local.host.files[f]! };
  try {
    const result = await answer(r.world, '', [...there, ...inner], options);
    // `image export REMOTE:FP DIR/` downloads the files into DIR here.
    if (verb === 'image' && sub === 'export' && result.code === 0) {
      const dir = command.at(-1)!.replace(/\/$/, '');
      for (const [f, file] of Object.entries(r.world.host.files)) {
        if (!f.startsWith(`${dir}/`)) continue;
        local.host.files[f] = file;
        delete r.world.host.files[f];
      }
    }
    return result;
  } finally {
    for (const f of uploads) delete r.world.host.files[f];
  }
}

async function serverAnswer(r: SimRemote, argv: readonly string[], options: ExecOptions): Promise<ExecResult> {
  const result = await r.serverExec(argv, options);
  // The server's /1.0 names its daemon's version too, as the machine's own daemon reports it.
  if (result.code !== 0 || !plain(argv).includes(`${r.server.remote}:/1.0`)) return result;
  const version = r.world.host.lxd?.version ?? 'unknown';
  const body = JSON.parse(result.stdout) as { environment?: Record<string, unknown> };
  return { ...result, stdout: `${JSON.stringify({ ...body, environment: { ...body.environment, server_version: version } })}\n` };
}
