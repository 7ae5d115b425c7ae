// LxdLevel over Exec: the host is the machine's own Exec, a container's LXD is reached by
// nesting `lxc exec` (adapters/nested-exec.ts). Every command is an argv array at every depth.

import { CommandError, EnvironmentError, TimedOutError, UnseenError } from '../../core/errors.js';
import { FLAVOURS, daemonName, decideFlavour, isClient, type Flavour, type FlavourInfo, flavourInfo } from '../../core/flavour/index.js';
import {
  installedFlavours,
  observedImages,
  observedInstances,
  observedProfiles,
  parseProbe,
  parseProbeFacts,
} from '../../core/observe/parse-probe.js';
import type { ProfileBody } from '../../core/plan/model.js';
import {
  type FileState,
  type ObservedFile,
  type ObservedImage,
  type ObservedInstance,
  type ObservedLevel,
  type ObservedLxc,
  type ObservedProfile,
  fileIsAsWanted,
} from '../../core/observed.js';
import { sha256 } from '../../core/hash.js';
import { parseFileFacts } from '../../core/observe/parse-files.js';
import { FILE_REFUSED_EXIT, FILE_STALE_EXIT, READ_FILES_SCRIPT, WRITE_FILE_SCRIPT } from './files-script.js';
import type { Exec, ExecOptions, ExecResult, OutputListener } from '../../ports/exec.js';
import type {
  FileWrite,
  ImageBundle,
  InstanceSpec,
  InstanceUpdate,
  LxcCreate,
  LxcOwner,
  LxdLevel,
  ProbeWants,
  SubidFile,
  SubidWriteOptions,
} from '../../ports/lxd.js';
import { LxcAtLevel } from './lxc-level.js';
import { lxcAttachArgv } from './lxc-commands.js';
import { type Cli, nestedExec, projectArgs } from '../nested-exec.js';
import { probeRemoteTop, type RemoteLevelTop, remoteQueryArgv } from './remote-probe.js';
import { SharedRead } from '../shared-read.js';
import { ADDRESSES_ARG, IMAGES_QUERY, INSTANCES_QUERY, PROBE_MARK, PROBE_SCRIPT, PROFILES_QUERY } from './probe-script.js';
import { LOCKED_EXIT, REFUSED_EXIT, STALE_EXIT } from './write-subid-script.js';
import { REFUSED_HINT } from '../../core/subid/check-text.js';
import { profileCreateArgv, profileDeleteArgv, profileEditArgv, profileYaml } from './commands.js';
import {
  createInstanceArgv,
  deleteArgv,
  renameArgv,
  snapshotArgv,
  copyArgv,
  deleteSnapshotArgv,
  restoreArgv,
  discardArgv,
  queryArgv,
  readSubidArgv,
  exportImageArgv,
  probeArgv,
  pushFileArgv,
  TEMP_DIR_ARGV,
  fetchImageArgv,
  importImageArgv,
  instanceArgv,
  restartArgv,
  updateInstanceArgvs,
  WAIT_BOOT_ARGV,
  WAIT_READY_SECONDS,
  waitReadyArgv,
  writeSubidArgv,
} from './commands.js';
import { joinPath, parentPath } from '../../core/paths.js';
import { ask, CHANGE_TIMEOUT_MS, capped, END_MARK, READ_ATTEMPTS, READ_TIMEOUT_MS } from './bounded.js';

const BOOT_WAIT_MS = 180_000;
/** One `systemctl is-system-running --wait` of the boot wait; asked again until BOOT_WAIT_MS. */
const BOOT_ATTEMPT_MS = 45_000;

/** Start and stop: the daemon's own state says whether a killed client's change happened. */
const POWER_TIMEOUT_MS = 300_000;

export interface LevelOptions {
  /** Log every command (argv) run, for --verbose and tests. */
  trace?: (path: string, argv: readonly string[]) => void;
}

export class ExecLevel implements LxdLevel {
  /**
   * The flavour of this level's daemon: the one the manifest or the plan decided, else what the
   * first probe found (decideFlavour). Never a default: without one, the level is probed first.
   */
  private flavour: Flavour | null;

  /** The commands of this level: one that printed past its cap fails here, naming this level. */
  private readonly exec: Exec;

  constructor(
    /** Unguarded: the levels inside wrap it with their own name (capped), so a flood is blamed where it was asked. */
    private readonly rawExec: Exec,
    readonly path: string,
    private readonly options: LevelOptions = {},
    flavour: Flavour | null = null,
    /** A remote's top level (path ""): instance commands name `REMOTE:NAME`, nothing runs on that machine itself. */
    private readonly top: RemoteLevelTop | null = null,
  ) {
    this.flavour = flavour;
    this.exec = capped(rawExec, path);
  }

  /** An instance, profile or image of this level as the client names it: `REMOTE:NAME` on a remote. */
  private ref(name: string): string {
    return this.top ? `${this.top.remote}:${name}` : name;
  }

  /** A client command of this level: on a remote, in its project. */
  private here(argv: readonly string[]): string[] {
    return this.top ? [argv[0]!, ...projectArgs(this.top), ...argv.slice(1)] : [...argv];
  }

  /** What is never done on a remote's machine itself (no shell reaches it): a planning bug if asked. */
  private notOnRemote(what: string): EnvironmentError {
    return new EnvironmentError(
      `nestctl does not ${what} on remote ${this.top!.remote}'s machine: only its daemon is reached, through the client`,
      'plan again; a remote too small for its tree is refused at plan time with the lines to add there',
    );
  }

  /** Commands run through this level that may have changed it, finished or failed (SharedRead). */
  private changes = 0;
  private readonly instanceList = new SharedRead<string>(() => this.changes);
  private readonly imageList = new SharedRead<string>(() => this.changes);

  private async run(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    try {
      this.options.trace?.(this.path, argv);
      const r = await this.exec(argv, { timeoutMs: CHANGE_TIMEOUT_MS, ...options });
      if (r.code !== 0) throw classify(argv, r, this.path, this.flavour);
      return r;
    } finally {
      this.changes += 1;
    }
  }

  /** A command that changes nothing: reads in flight stay shareable. */
  private async runRead(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    this.options.trace?.(this.path, argv);
    const r = await ask(this.exec, argv, options);
    if (r.code !== 0) throw classify(argv, r, this.path, this.flavour);
    return r;
  }

  private async info(): Promise<FlavourInfo> {
    const flavour = this.flavour ?? (await this.probe()).flavour;
    if (flavour === null) {
      throw new EnvironmentError(
        `no LXD or Incus to talk to ${this.path ? `in ${this.path}` : 'on the host'}`,
        "install one, or say which one in the manifest (host.flavour, a container's flavour)",
        this.path,
      );
    }
    return flavourInfo(flavour);
  }

  private async lxc(): Promise<Cli> {
    return (await this.info()).client;
  }

  /** One round trip (probeArgv says what it asks). */
  private async runProbe(info: FlavourInfo | null, wants: ProbeWants): Promise<string> {
    const argv = probeArgv(info, wants, PROBE_SCRIPT);
    this.options.trace?.(this.path, probeArgv(info, wants));
    let r = await ask(this.exec, argv, { endMark: END_MARK });
    // A probe that ran but whose answer was lost on its way back is asked again (as readSubid).
    for (let attempt = 1; r.code === 0 && !r.stdout.includes(PROBE_MARK); attempt += 1) {
      if (attempt === READ_ATTEMPTS)
        throw new EnvironmentError(
          `the probe ${this.path ? `in ${this.path}` : 'on the host'} gave no answer ${READ_ATTEMPTS} times`,
          'check that sh works there, then run nestctl again',
          this.path,
        );
      r = await ask(this.exec, argv, { endMark: END_MARK });
    }
    if (r.code !== 0 && !r.stdout.includes(PROBE_MARK)) {
      const failed = classify(['sh', '-c', '<probe>'], r, this.path, this.flavour);
      // Inside a container, a probe that cannot run (no sh: exit 127; exec refused) leaves the
      // container's inside unseen; observation records that instead of failing.
      throw this.path !== '' && failed instanceof CommandError ? new UnseenError(failed.message, this.path) : failed;
    }
    return r.stdout;
  }

  /**
   * The first probe of a level whose flavour is not known yet, with and without the addresses;
   * others asked meanwhile that want the same share it.
   */
  private readonly discovery = new Map<boolean, Promise<ObservedLevel>>();

  /**
   * One round trip: with the flavour known, the probe asks that daemon; without, it asks the one
   * installed and the answer is kept when decideFlavour agrees (a second probe only if it does
   * not). Done once: concurrent probes share that answer instead of racing to learn the flavour.
   * The instances' addresses are read only when `wants.addresses` asks for them.
   */
  async probe(wants: ProbeWants = {}): Promise<ObservedLevel> {
    if (this.top) {
      const flavour = this.flavour ?? 'debian';
      this.options.trace?.(this.path, ['<probe>', ...(wants.addresses ? [ADDRESSES_ARG] : []), `${this.top.remote}:`]);
      return probeRemoteTop(this.exec, flavourInfo(flavour).client, this.top, flavour, wants);
    }
    if (this.flavour !== null)
      return parseProbe(this.path, await this.runProbe(flavourInfo(this.flavour), wants), PROBE_MARK, this.flavour);
    const addresses = wants.addresses ?? false;
    let shared = this.discovery.get(addresses);
    if (!shared) {
      shared = this.discover({ addresses }).finally(() => this.discovery.delete(addresses));
      this.discovery.set(addresses, shared);
    }
    return shared;
  }

  private async discover(wants: ProbeWants): Promise<ObservedLevel> {
    let out = await this.runProbe(null, wants);
    const installed = installedFlavours(out, PROBE_MARK, this.path);
    const decided = decideFlavour(null, installed, this.path || 'host', this.path ? `the flavour of ${this.path}` : 'host.flavour');
    const flavour = decided.ok ? decided.flavour : null;
    if (flavour !== null) {
      if (parseProbeFacts(out, PROBE_MARK, this.path).get('asked')?.status !== flavour)
        out = await this.runProbe(flavourInfo(flavour), wants);
      this.flavour = flavour;
    }
    return parseProbe(this.path, out, PROBE_MARK, flavour);
  }

  // Concurrent steps share one list read in flight (SharedRead); each parses its own copy.
  async instances(): Promise<ObservedInstance[]> {
    return observedInstances(await this.query<unknown>(INSTANCES_QUERY, this.instanceList), this.path);
  }

  async images(): Promise<ObservedImage[]> {
    return observedImages(await this.query<unknown>(IMAGES_QUERY, this.imageList), this.path);
  }

  async profiles(): Promise<ObservedProfile[]> {
    return observedProfiles(await this.query<unknown>(PROFILES_QUERY), this.path);
  }

  private async query<T>(url: string, shared?: SharedRead<string>): Promise<T> {
    const argv = this.top ? remoteQueryArgv(await this.lxc(), this.top, url) : queryArgv(await this.lxc(), url);
    const ask = async (): Promise<string> => (await this.runRead(argv)).stdout;
    const stdout = shared ? await shared.read(ask) : await ask();
    try {
      return JSON.parse(stdout) as T;
    } catch {
      throw new CommandError(argv, 0, `not JSON: ${stdout.slice(0, 200)}`, this.path);
    }
  }

  async readSubid(file: SubidFile): Promise<Pick<FileState, 'text' | 'sha256'>> {
    if (this.top) {
      const range = (await this.top.range())[file === 'subuid' ? 'uid' : 'gid'];
      const text = `root:${range.start}:${range.size}\n`;
      return { text, sha256: sha256(text) };
    }
    // Only the script's own first line decides: an answer with neither (output lost on its way
    // back through `lxc exec`) is read again, never taken for an absent file.
    for (let attempt = 1; ; attempt += 1) {
      const answer = subidAnswer((await this.runRead(readSubidArgv(file), { endMark: END_MARK })).stdout);
      if (answer) return answer;
      if (attempt === READ_ATTEMPTS) {
        throw new EnvironmentError(
          `reading /etc/${file} ${this.path ? `in ${this.path}` : 'on the host'} gave no answer ${READ_ATTEMPTS} times`,
          'check that the container runs and sh works in it, then apply again',
          this.path,
        );
      }
    }
  }

  async writeSubid(file: SubidFile, text: string, expectedSha256: string | null, options: SubidWriteOptions = {}): Promise<void> {
    if (this.top) throw this.notOnRemote(`write /etc/${file}`);
    // The planned entries travel as an argument, apart from the text on stdin: a text cut short
    // on its way through the nested `lxc exec` hops is refused instead of installed.
    const argv = writeSubidArgv(file, expectedSha256, options.forgetOriginal ?? false, options.entries ?? []);
    this.options.trace?.(this.path, argv);
    const r = await this.exec(argv, { stdin: text, timeoutMs: READ_TIMEOUT_MS, endMark: END_MARK });
    if (r.timedOut && (await this.readSubid(file)).text === text) return;
    if (r.code !== 0) throw subidWriteFailure(r, this.path) ?? classify(argv, r, this.path, this.flavour);
  }

  async restartDaemon(command: readonly string[] | null): Promise<void> {
    if (this.top) throw this.notOnRemote('restart the daemon');
    const info = await this.info();
    if (command) await this.run(command, { timeoutMs: 300_000 });
    else await this.run(restartArgv(info), { timeoutMs: 300_000 });
    await this.waitReady();
  }

  async waitDaemon(): Promise<void> {
    if (this.top) throw this.notOnRemote('wait for the daemon');
    await this.waitReady();
  }

  private async waitReady(): Promise<void> {
    await this.run(waitReadyArgv(await this.info()), { timeoutMs: (WAIT_READY_SECONDS + 10) * 1000 });
  }

  async initDaemon(preseedYaml: string): Promise<void> {
    if (this.top) throw this.notOnRemote('initialise the daemon');
    const info = await this.info();
    await this.waitReady();
    await this.run([...info.initArgv], { stdin: preseedYaml });
  }

  async fetchImage(remoteRef: string, alias: string): Promise<void> {
    const argv = fetchImageArgv(await this.lxc(), remoteRef, alias).map((w) => (this.top && w === 'local:' ? `${this.top.remote}:` : w));
    await this.run(this.here(argv), { timeoutMs: 1_800_000 });
  }

  async exportImage(fingerprint: string): Promise<ImageBundle> {
    const dir = await this.tempDir();
    await this.run(this.here(exportImageArgv(await this.lxc(), this.ref(fingerprint), dir)), { timeoutMs: 1_800_000 });
    const files = (await this.run(['find', dir, '-type', 'f'])).stdout.split('\n').filter(Boolean);
    return { level: this.path, fingerprint, files: orderImageFiles(files) };
  }

  async pushBundle(bundle: ImageBundle, childName: string): Promise<ImageBundle> {
    const cli = await this.lxc();
    const child = this.child(childName, null) as ExecLevel;
    const dir = await child.tempDir();
    for (const file of bundle.files) {
      await this.run(this.here(pushFileArgv(cli, file, this.ref(childName), dir)), { timeoutMs: 1_800_000 });
    }
    return { level: child.path, fingerprint: bundle.fingerprint, files: bundle.files.map((f) => `${dir}/${f.split('/').pop()}`) };
  }

  async importImage(bundle: ImageBundle, aliases: readonly string[]): Promise<void> {
    const cli = await this.lxc();
    // On a remote the files are here and go to its store: `lxc image import FILES REMOTE:`.
    const argv = importImageArgv(cli, this.top ? [...bundle.files, `${this.top.remote}:`] : bundle.files, aliases);
    await this.run(this.here(argv), { timeoutMs: 1_800_000 });
  }

  async discardBundle(bundle: ImageBundle): Promise<void> {
    const argv = discardArgv(bundle.files);
    if (argv) await this.run(argv);
  }

  async createInstance(spec: InstanceSpec): Promise<void> {
    await this.run(
      this.here(createInstanceArgv(await this.lxc(), { ...spec, name: this.ref(spec.name), fingerprint: this.ref(spec.fingerprint) })),
      { timeoutMs: 1_800_000 },
    );
  }

  async startInstance(name: string, waitBoot: boolean): Promise<void> {
    await this.power('start', name, 'Running');
    if (waitBoot) await (this.child(name, null) as ExecLevel).waitBoot(this.flavour);
  }

  /** Start or stop; a client killed past its time succeeded when the daemon shows the state it was to reach. */
  private async power(action: 'start' | 'stop', name: string, reached: string): Promise<void> {
    try {
      await this.run(this.here(instanceArgv(await this.lxc(), action, this.ref(name))), { timeoutMs: POWER_TIMEOUT_MS });
    } catch (e) {
      if (!(e instanceof TimedOutError)) throw e;
      const now = (await this.instances()).find((i) => i.name === name);
      if (now?.status !== reached) throw e;
    }
  }

  /** Wait until exec works and, where systemd runs, boot has finished (the nested daemon is then up). `above`: the daemon it runs on. */
  private async waitBoot(above: Flavour | null): Promise<void> {
    const deadline = Date.now() + BOOT_WAIT_MS;
    let last = '';
    while (Date.now() < deadline) {
      const argv = WAIT_BOOT_ARGV;
      this.options.trace?.(this.path, argv);
      // Asked again after a while rather than waited on for the whole time: a stuck client
      // (bounded.ts) costs one attempt, not the wait.
      const r = await this.exec(argv, { timeoutMs: Math.max(1000, Math.min(BOOT_ATTEMPT_MS, deadline - Date.now())) });
      // 127: exec works but the image has no sh; nothing there can say more about its boot.
      if (r.code === 0 || r.code === 127) return;
      if (r.timedOut) {
        last = 'still booting';
        continue;
      }
      // A daemon on the way down to this container is gone: no boot to wait for.
      if (DAEMON_UNREACHABLE.test(r.stderr)) throw classify(argv, r, parentPath(this.path), above);
      last = r.stderr.trim();
      await new Promise((res) => setTimeout(res, 500));
    }
    throw new EnvironmentError(`${this.path} did not finish booting in ${BOOT_WAIT_MS / 1000} s: ${last}`, undefined, this.path);
  }

  async stopInstance(name: string): Promise<void> {
    await this.power('stop', name, 'Stopped');
  }

  /** A client killed past its time (bounded.ts) renamed it when the daemon lists the new name and not the old. */
  async renameInstance(name: string, newName: string): Promise<void> {
    try {
      await this.run(this.here(renameArgv(await this.lxc(), this.ref(name), this.ref(newName))), { timeoutMs: POWER_TIMEOUT_MS });
    } catch (e) {
      if (!(e instanceof TimedOutError)) throw e;
      const names = (await this.instances()).map((i) => i.name);
      if (names.includes(name) || !names.includes(newName)) throw e;
    }
  }

  async snapshotInstance(name: string, snapshot: string): Promise<void> {
    await this.run(this.here(snapshotArgv(await this.lxc(), this.ref(name), snapshot)), { timeoutMs: 1_800_000 });
  }

  async copyInstance(source: string, snapshot: string, name: string, target?: string): Promise<void> {
    await this.run(this.here(copyArgv(await this.lxc(), this.ref(source), snapshot, this.ref(name), target)), { timeoutMs: 1_800_000 });
  }

  async restoreSnapshot(name: string, snapshot: string): Promise<void> {
    await this.run(this.here(restoreArgv(await this.lxc(), this.ref(name), snapshot)), { timeoutMs: 1_800_000 });
  }

  async deleteSnapshot(name: string, snapshot: string): Promise<void> {
    await this.run(this.here(deleteSnapshotArgv(await this.lxc(), this.ref(name), snapshot)), { timeoutMs: 600_000 });
  }

  async deleteInstance(name: string): Promise<void> {
    await this.run(this.here(deleteArgv(await this.lxc(), this.ref(name))), { timeoutMs: 600_000 });
  }

  async updateInstance(name: string, update: InstanceUpdate): Promise<void> {
    for (const argv of updateInstanceArgvs(await this.lxc(), this.ref(name), update)) await this.run(this.here(argv));
  }

  async createProfile(name: string, body: ProfileBody): Promise<void> {
    await this.run(this.here(profileCreateArgv(await this.lxc(), this.ref(name))));
    await this.writeProfile(name, body);
  }

  async writeProfile(name: string, body: ProfileBody): Promise<void> {
    await this.run(this.here(profileEditArgv(await this.lxc(), this.ref(name))), { stdin: profileYaml(body) });
  }

  async deleteProfile(name: string): Promise<void> {
    await this.run(this.here(profileDeleteArgv(await this.lxc(), this.ref(name))));
  }

  /** Exec inside container `name` (through this level's client). */
  private inside(name: string): Exec {
    const cli = this.flavour ? flavourInfo(this.flavour).client : () => this.lxc();
    return capped(nestedExec(this.rawExec, cli, name, this.top ?? undefined), joinPath(this.path, name));
  }

  async readFiles(name: string, paths: readonly string[]): Promise<Record<string, ObservedFile | null>> {
    const where = joinPath(this.path, name);
    const argv = ['sh', '-c', READ_FILES_SCRIPT, 'files', ...paths];
    this.options.trace?.(where, ['sh', '-c', '<read-files>', ...argv.slice(3)]);
    const r = await ask(this.inside(name), argv, { endMark: END_MARK });
    const facts = r.code === 0 ? parseFileFacts(r.stdout, PROBE_MARK, paths) : null;
    if (facts) return facts;
    const failed = classify(['sh', '-c', '<read-files>'], r, where, this.flavour);
    throw failed instanceof CommandError && r.code !== 4 ? new UnseenError(failed.message, where) : failed;
  }

  async writeFile(name: string, file: FileWrite): Promise<void> {
    const where = joinPath(this.path, name);
    const expected = file.expected === null ? 'absent' : file.expected;
    const argv = [
      'sh',
      '-c',
      WRITE_FILE_SCRIPT,
      'push-file',
      file.path,
      file.mode.toString(8),
      String(file.uid),
      String(file.gid),
      expected,
    ];
    this.options.trace?.(where, ['sh', '-c', '<write-file>', ...argv.slice(3)]);
    const r = await this.inside(name)(argv, { stdin: Buffer.from(file.data, 'base64'), timeoutMs: 300_000, endMark: END_MARK });
    if (r.timedOut) {
      const now = (await this.readFiles(name, [file.path]))[file.path];
      if (fileIsAsWanted(now, { ...file, sha256: sha256(Buffer.from(file.data, 'base64')) })) return;
    }
    if (r.code === FILE_STALE_EXIT) throw new EnvironmentError(`plan is stale: ${r.stderr.trim()}`, 'run nestctl plan again', where);
    if (r.code === FILE_REFUSED_EXIT)
      throw new EnvironmentError(r.stderr.trim(), `remove or rename what is at ${file.path} in ${where}, or choose another path`, where);
    if (r.code !== 0) throw classify(['sh', '-c', '<write-file>'], r, where, this.flavour);
  }

  private get lxcHere(): LxcAtLevel {
    // A remote's top level runs its commands here with REMOTE: names; lxc-* would act on this machine.
    if (this.top) throw this.notOnRemote('run classic LXC containers');
    return new LxcAtLevel(this.exec, this.path, this.options.trace);
  }

  async probeLxc(owners: readonly string[], options: { everyOwner?: boolean } = {}): Promise<ObservedLxc> {
    return this.lxcHere.probe(owners, options.everyOwner ?? false);
  }

  async writeLxcFile(
    file: string,
    owner: string,
    text: string,
    expected: string | null,
    options: { forgetOriginal?: boolean } = {},
  ): Promise<void> {
    const home = owner === 'root' ? null : ((await this.probeLxc([owner])).owners[owner]?.home ?? null);
    await this.lxcHere.writeFile(file, owner, text, expected, options.forgetOriginal ?? false, home);
  }

  async lxcCreate(spec: LxcCreate): Promise<void> {
    await this.lxcHere.create(spec);
  }

  async lxcStart(name: string, owner: LxcOwner, cgroup: 'none' | 'systemd-run'): Promise<void> {
    await this.lxcHere.start(name, owner, cgroup);
  }

  async lxcDelete(name: string, owner: LxcOwner, running: boolean): Promise<void> {
    await this.lxcHere.delete(name, owner, running);
  }

  async runIn(name: string, argv: readonly string[], onOutput?: OutputListener): Promise<ExecResult> {
    this.options.trace?.(joinPath(this.path, name), argv);
    return this.inside(name)(argv, { timeoutMs: 3_600_000, ...(onOutput ? { onOutput } : {}) });
  }

  private async tempDir(): Promise<string> {
    return (await this.runRead(TEMP_DIR_ARGV)).stdout.trim();
  }

  lxcChild(name: string, user: string | null): LxdLevel {
    // A user's home (for -P and HOME) is read once, on the first command run inside.
    let owner: Promise<LxcOwner> | null = null;
    const ownerOf = (): Promise<LxcOwner> =>
      (owner ??=
        user === null
          ? Promise.resolve({ user: null, home: null })
          : this.probeLxc([user]).then((o) => ({ user, home: o.owners[user]?.home ?? null })));
    const exec: Exec = async (argv, options) => this.rawExec(lxcAttachArgv(name, await ownerOf(), argv), options);
    return new ExecLevel(exec, joinPath(this.path, name), this.options, null);
  }

  /** `flavour`: of the daemon inside, when the manifest or the plan says; else its first probe finds it. */
  child(name: string, flavour: Flavour | null): LxdLevel {
    const cli = this.flavour ? flavourInfo(this.flavour).client : () => this.lxc();
    return new ExecLevel(nestedExec(this.rawExec, cli, name, this.top ?? undefined), joinPath(this.path, name), this.options, flavour);
  }
}

/** Metadata tarball first (`lxc image import META ROOTFS`). */
function orderImageFiles(files: string[]): string[] {
  const base = (f: string): string => f.split('/').pop() ?? f;
  return [...files].sort((a, b) => Number(!base(a).startsWith('meta-')) - Number(!base(b).startsWith('meta-')));
}

/** The answer of readSubidArgv's script (`present` and the text, or `absent`); null when its first line is neither (the output was lost). */
export function subidAnswer(out: string): Pick<FileState, 'text' | 'sha256'> | null {
  const cut = out.indexOf('\n');
  const head = cut < 0 ? out : out.slice(0, cut);
  if (head === 'absent') return { text: null, sha256: null };
  if (head !== 'present') return null;
  const text = out.slice(cut + 1);
  return { text, sha256: sha256(text) };
}

/** What the write-subid script's own exit codes mean; null for any other failure. */
export function subidWriteFailure(r: ExecResult, path: string): EnvironmentError | null {
  if (r.code === STALE_EXIT) return new EnvironmentError(`plan is stale: ${r.stderr.trim()}`, 'run nestctl plan again', path);
  if (r.code === LOCKED_EXIT)
    return new EnvironmentError(r.stderr.trim(), 'wait for the other tool (usermod, useradd) to finish, then apply again', path);
  if (r.code === REFUSED_EXIT) return new EnvironmentError(r.stderr.trim(), REFUSED_HINT, path);
  return null;
}

/** What lxc prints when the daemon it talks to is not there (its socket is gone or refuses). */
const DAEMON_UNREACHABLE = /unix\.socket: connect: (no such file|connection refused)/i;

/** The daemon at `path` (of `flavour`; null: not known) does not answer on its socket. */
export function daemonNotRunning(path: string, flavour: Flavour | null): EnvironmentError {
  return new EnvironmentError(
    `the ${flavour ? `${daemonName(flavour)} ` : ''}daemon is not running${path ? ` in ${path}` : ' on the host'}`,
    flavour ? `start it (systemctl start ${flavourInfo(flavour).unit}) and try again` : 'start it and try again',
    path,
  );
}

/** Turn a failed command into an error that says what the user can do. */
function classify(argv: readonly string[], r: ExecResult, path: string, flavour: Flavour | null): EnvironmentError {
  if (r.timedOut) return new TimedOutError(argv, r.stderr, path);
  const err = r.stderr;
  if (/permission denied/i.test(err) && /unix\.socket/.test(err)) {
    const groups = flavour ? [flavourInfo(flavour).adminGroup] : [...new Set(FLAVOURS.map((f) => flavourInfo(f).adminGroup))];
    return new EnvironmentError(
      `permission denied on the ${flavour ? `${daemonName(flavour)} ` : "daemon's "}socket${path ? ` in ${path}` : ''}`,
      `run nestctl as root or as a member of the ${groups.join(' or ')} group`,
      path,
    );
  }
  if (DAEMON_UNREACHABLE.test(err)) return daemonNotRunning(path, flavour);
  if (r.code === 127 && isClient(argv[0]) && argv[2] !== undefined) {
    return new CommandError(argv, r.code, `command not found inside the container: ${err}`, path);
  }
  return new CommandError(argv, r.code, err || r.stdout, path);
}
