// A remote's top level whose machine its `shell:` prefix reaches (ssh root@h --): root's
// /etc/subuid and /etc/subgid are read and written there and its daemon restarted there, each
// step the same argv as on this machine, sent as one line of quoted words (shellStepArgv). All
// else stays with the level it wraps (the client's `REMOTE:` commands, or the simulator's).

import { CHANGE_TIMEOUT_MS, END_MARK } from './bounded.js';
import { CommandError, EnvironmentError } from '../../core/errors.js';
import { type Flavour, flavourInfo } from '../../core/flavour/index.js';
import type { FileState, ObservedLevel } from '../../core/observed.js';
import type { Exec, ExecOptions, ExecResult } from '../../ports/exec.js';
import type { LxdLevel, ProbeWants, SubidFile, SubidWriteOptions } from '../../ports/lxd.js';
import { DelegatingLevel } from '../delegating-level.js';
import { readSubidArgv, restartArgv, WAIT_READY_SECONDS, waitReadyArgv, writeSubidArgv } from './commands.js';
import { subidAnswer, subidWriteFailure } from './level.js';
import { shellStepArgv } from './remote-commands.js';

export interface HostShell {
  /** The remote's name in the client's configuration (for messages). */
  remote: string;
  /** The manifest's `shell:`: an argv prefix whose last argument a POSIX shell there reads. */
  prefix: readonly string[];
  /** Runs the prefixed argv on this machine. */
  exec: Exec;
  /** The daemon there restarted: what it hands out is read again. */
  restarted: () => Promise<void>;
  trace?: (path: string, argv: readonly string[]) => void;
}

export class ShellHostLevel extends DelegatingLevel {
  constructor(
    inner: LxdLevel,
    private readonly shell: HostShell,
    private readonly flavour: Flavour,
  ) {
    super(inner);
  }

  private get where(): string {
    return `remote ${this.shell.remote}`;
  }

  private async run(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    const line = shellStepArgv(this.shell.prefix, argv);
    this.shell.trace?.('', line);
    return this.shell.exec(line, { timeoutMs: CHANGE_TIMEOUT_MS, ...options });
  }

  private async ok(argv: readonly string[], options?: ExecOptions): Promise<void> {
    const r = await this.run(argv, options);
    if (r.code !== 0) throw new CommandError(shellStepArgv(this.shell.prefix, argv), r.code, r.stderr || r.stdout, this.where);
  }

  /** The client's view of the level, with root's files as they are on that machine. */
  override async probe(wants?: ProbeWants): Promise<ObservedLevel> {
    const [level, subuid, subgid] = await Promise.all([this.inner.probe(wants), this.readSubid('subuid'), this.readSubid('subgid')]);
    return { ...level, subuid: { ...level.subuid, ...subuid }, subgid: { ...level.subgid, ...subgid } };
  }

  override async readSubid(file: SubidFile): Promise<Pick<FileState, 'text' | 'sha256'>> {
    const argv = readSubidArgv(file);
    const r = await this.run(argv, { endMark: END_MARK });
    const answer = r.code === 0 ? subidAnswer(r.stdout) : null;
    if (answer) return answer;
    if (r.code !== 0) throw new CommandError(shellStepArgv(this.shell.prefix, argv), r.code, r.stderr || r.stdout, this.where);
    throw new EnvironmentError(
      `reading /etc/${file} on ${this.where} through shell: gave no answer`,
      `check that ${this.shell.prefix.join(' ')} runs a POSIX shell there, then run nestctl again`,
      '',
    );
  }

  override async writeSubid(file: SubidFile, text: string, expectedSha256: string | null, options: SubidWriteOptions = {}): Promise<void> {
    const argv = writeSubidArgv(file, expectedSha256, options.forgetOriginal ?? false, options.entries ?? []);
    const r = await this.run(argv, { stdin: text, endMark: END_MARK });
    if (r.code !== 0)
      throw subidWriteFailure(r, '') ?? new CommandError(shellStepArgv(this.shell.prefix, argv), r.code, r.stderr || r.stdout, this.where);
  }

  override async restartDaemon(command: readonly string[] | null): Promise<void> {
    const info = flavourInfo(this.flavour);
    await this.ok(command ?? restartArgv(info), { timeoutMs: 300_000 });
    await this.ok(waitReadyArgv(info), { timeoutMs: (WAIT_READY_SECONDS + 10) * 1000 });
    await this.shell.restarted();
  }
}
