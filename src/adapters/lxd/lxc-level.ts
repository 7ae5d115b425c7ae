// Classic LXC over an Exec at one level (the host, or inside containers through nested
// `lxc exec`): ExecLevel's LXC methods. Every call is an argv from lxc-commands.ts.

import { END_MARK } from './bounded.js';
import { CommandError, EnvironmentError } from '../../core/errors.js';
import { USERNET } from '../../core/lxc/paths.js';
import { parseLxcProbe } from '../../core/observe/parse-lxc.js';
import type { ObservedLxc } from '../../core/observed.js';
import type { Exec, ExecResult } from '../../ports/exec.js';
import type { LxcCreate, LxcOwner } from '../../ports/lxd.js';
import {
  lxcCreateArgv,
  lxcDestroyArgv,
  lxcProbeArgv,
  lxcStartArgv,
  lxcStopArgv,
  rootCreateConfigFile,
  writeLxcFileArgv,
} from './lxc-commands.js';
import { LXC_STALE_EXIT } from './lxc-scripts.js';
import { PROBE_MARK } from './probe-script.js';

export type Trace = ((path: string, argv: readonly string[]) => void) | undefined;

export class LxcAtLevel {
  constructor(
    private readonly exec: Exec,
    private readonly path: string,
    private readonly trace: Trace,
  ) {}

  private async run(argv: readonly string[], stdin?: string): Promise<ExecResult> {
    this.trace?.(this.path, argv);
    // Its scripts are end-marked (lxc-scripts.ts); the lxc-* commands print no mark.
    const r = await this.exec(argv, { ...(stdin === undefined ? {} : { stdin }), timeoutMs: 600_000, endMark: END_MARK });
    if (r.code === LXC_STALE_EXIT && argv.includes('nestctl-write-lxc-file'))
      throw new EnvironmentError(r.stderr.trim(), 'run nestctl plan again', this.path);
    if (r.code !== 0) throw new CommandError(argv, r.code, r.stderr, this.path);
    return r;
  }

  async probe(owners: readonly string[], everyOwner: boolean): Promise<ObservedLxc> {
    const r = await this.run(lxcProbeArgv(owners, everyOwner));
    if (!r.stdout.includes(PROBE_MARK))
      throw new EnvironmentError(
        `the LXC probe ${this.path ? `in ${this.path}` : 'on the host'} gave no answer`,
        'check that sh works there, then run nestctl again',
        this.path,
      );
    const seen = parseLxcProbe(r.stdout, PROBE_MARK, this.path, everyOwner ? 'any' : owners);
    return everyOwner ? { ...seen, everyOwner: true } : seen;
  }

  async writeFile(
    file: string,
    owner: string,
    text: string,
    expected: string | null,
    forgetOriginal: boolean,
    home: string | null,
  ): Promise<void> {
    const as: LxcOwner = owner === 'root' ? { user: null, home: null } : { user: owner, home };
    if (file === USERNET && as.user !== null) throw new EnvironmentError(`${USERNET} is root's`, undefined, this.path);
    await this.run(writeLxcFileArgv(file, as, expected, forgetOriginal), text);
  }

  async create(c: LxcCreate): Promise<void> {
    let configFile: string | null = null;
    if (c.owner.user === null && c.config !== null) {
      configFile = rootCreateConfigFile(c.name);
      await this.run(writeLxcFileArgv(configFile, c.owner, null, false), c.config).catch(async (e: unknown) => {
        // A file left by an earlier, failed create: its content is nestctl's own, written again.
        if (!(e instanceof EnvironmentError)) throw e;
        await this.run(['rm', '-f', '--', configFile!]);
        await this.run(writeLxcFileArgv(configFile!, c.owner, null, false), c.config!);
      });
    }
    await this.run(lxcCreateArgv(c, configFile));
  }

  async start(name: string, owner: LxcOwner, cgroup: 'none' | 'systemd-run'): Promise<void> {
    await this.run(lxcStartArgv(name, owner, cgroup));
  }

  async delete(name: string, owner: LxcOwner, running: boolean): Promise<void> {
    if (running) await this.run(lxcStopArgv(name, owner));
    await this.run(lxcDestroyArgv(name, owner));
  }
}
