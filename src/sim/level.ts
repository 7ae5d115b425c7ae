// LxdLevel over the simulated world: the same interface the real client implements, each call
// doing to the world what the real command would do to a machine.

import type { Flavour } from '../core/flavour/index.js';
import type { FileState, ObservedFile, ObservedImage, ObservedInstance, ObservedLevel, ObservedLxc, ObservedProfile } from '../core/observed.js';
import type { ProfileBody } from '../core/plan/model.js';
import { createProfile, deleteProfile, writeProfile } from './profiles.js';
import type { ExecResult, OutputListener } from '../ports/exec.js';
import { readFiles, runIn, writeFile } from './files.js';
import type { FileWrite, ImageBundle, InstanceSpec, InstanceUpdate, LxcCreate, LxcOwner, LxdLevel, SubidFile, SubidWriteOptions } from '../ports/lxd.js';
import * as lxcCmd from '../adapters/lxd/lxc-commands.js';
import { lxcCreate, lxcDelete, lxcStart, probeLxc, writeLxcFile } from './lxc.js';
import { discardBundle, exportImage, fetchImage, importImage, pushBundle } from './images.js';
import { createInstance, deleteInstance, startInstance, stopInstance, updateInstance } from './instances.js';
import { activate } from './power.js';
import { initDaemon } from './preseed.js';
import { reach } from './reach.js';
import { probeLevel } from './probe.js';
import { restartDaemon } from './restart.js';
import { joinPath, type World } from './state.js';
import { writeSubid } from './subid.js';
import { cliOf, findLevel, lxcContainerAt, selectDaemon } from './world.js';
import { flavourInfo } from '../core/flavour/index.js';
import { nestedArgv } from '../adapters/nested-exec.js';
import { SharedRead } from '../adapters/shared-read.js';
import * as cmd from '../adapters/lxd/commands.js';
import { IMAGES_QUERY, INSTANCES_QUERY, PROBE_SCRIPT, PROFILES_QUERY } from '../adapters/lxd/probe-script.js';
import { lxcFailure, socketRefused } from './errors.js';

/** Sees, for --simulate --verbose, the argv a real run would execute on the host for each call. */
export type SimTrace = (path: string, argv: readonly string[]) => void;

export class SimLevel implements LxdLevel {
  /** As in the real adapter: the flavour the manifest or plan decided, else what the first probe found. */
  private flavour: Flavour | null;

  constructor(
    private readonly world: World,
    readonly path: string,
    flavour: Flavour | null = null,
    private readonly trace: SimTrace | null = null,
  ) {
    this.flavour = flavour;
  }

  /** The argv as the host would run it: wrapped in `CLIENT exec NAME -T --` for every level above. */
  private show(...argvs: Array<readonly string[] | null>): void {
    if (!this.trace) return;
    for (const argv of argvs) {
      if (!argv) continue;
      let out = cmd.shownArgv(argv);
      const names = this.path === '' ? [] : this.path.split('/');
      for (let i = names.length - 1; i >= 0; i -= 1) {
        const parent = findLevel(this.world, names.slice(0, i).join('/'));
        const lxc = parent && !parent.lxd?.instances.some((x) => x.name === names[i]) ? lxcContainerAt(parent, names[i]!) : null;
        out = lxc ? lxcCmd.lxcAttachArgv(names[i]!, lxc.owner === 'root' ? { user: null, home: null } : { user: lxc.owner, home: parent!.lxc!.users[lxc.owner] ?? null }, out) : nestedArgv(parent ? cliOf(parent) : 'lxc', names[i]!, out);
      }
      this.trace(this.path, out);
    }
  }

  private cli(): cmd.Cli {
    const level = findLevel(this.world, this.path);
    return level ? cliOf(level) : 'lxc';
  }

  private info() {
    return flavourInfo(this.flavour ?? findLevel(this.world, this.path)?.lxd?.flavour ?? 'debian');
  }

  async probe(): Promise<ObservedLevel> {
    this.show(cmd.probeArgv(this.flavour ? flavourInfo(this.flavour) : null, PROBE_SCRIPT));
    const level = probeLevel(this.world, this.path, this.flavour);
    this.flavour ??= level.flavour;
    return level;
  }

  // As the real client (adapters/shared-read.ts): concurrent list reads share the one in flight
  // while nothing in the world changed, so the trace shows the commands a real run would run. A
  // read is answered on the event loop's next turn, not at once: steps started together (each
  // resumes in its own setImmediate, engine/apply.ts) then overlap, as their real reads would.
  private readonly instanceList = new SharedRead<ObservedInstance[]>(() => this.world.log.length);
  private readonly imageList = new SharedRead<ObservedImage[]>(() => this.world.log.length);

  async instances(): Promise<ObservedInstance[]> {
    return structuredClone(await this.instanceList.read(() => nextTurn(this.query(INSTANCES_QUERY).instances)));
  }

  async images(): Promise<ObservedImage[]> {
    return structuredClone(await this.imageList.read(() => nextTurn(this.query(IMAGES_QUERY).images)));
  }

  async profiles(): Promise<ObservedProfile[]> {
    return this.query(PROFILES_QUERY).profiles;
  }

  /** `lxc query URL`: what the probe reads of it; refused as the client is when the daemon does not answer. */
  private query(url: string): ObservedLevel {
    const argv = cmd.queryArgv(this.cli(), url);
    this.show(argv);
    const level = probeLevel(this.world, this.path, this.flavour);
    if (level.daemon.kind !== 'up') throw lxcFailure(this.path, argv, socketRefused(level.flavour ?? this.info().flavour));
    return level;
  }

  async readSubid(file: SubidFile): Promise<Pick<FileState, 'text' | 'sha256'>> {
    this.show(cmd.readSubidArgv(file));
    const { text, sha256 } = probeLevel(this.world, this.path, this.flavour)[file];
    return { text, sha256 };
  }

  /** Talk to this level's daemon: on a host with LXD and Incus, the one decided. */
  private use(): void {
    if (this.flavour === null) return;
    const level = findLevel(this.world, this.path);
    if (level) selectDaemon(level, this.flavour);
  }

  async writeSubid(file: SubidFile, text: string, expectedSha256: string | null, options: SubidWriteOptions = {}): Promise<void> {
    this.use();
    this.show(cmd.writeSubidArgv(file, expectedSha256, options.forgetOriginal ?? false, options.entries ?? []));
    writeSubid(this.world, this.path, file, text, expectedSha256, options);
  }

  async restartDaemon(command: readonly string[] | null): Promise<void> {
    this.use();
    this.show(command ?? cmd.restartArgv(this.info()), cmd.waitReadyArgv(this.info()));
    restartDaemon(this.world, this.path, command);
  }

  async initDaemon(preseedYaml: string): Promise<void> {
    this.use();
    this.show(cmd.waitReadyArgv(this.info()), [...this.info().initArgv]);
    initDaemon(this.world, this.path, preseedYaml);
  }

  async fetchImage(remoteRef: string, alias: string): Promise<void> {
    this.use();
    this.show(cmd.fetchImageArgv(this.cli(), remoteRef, alias));
    fetchImage(this.world, this.path, remoteRef, alias);
  }

  async exportImage(fingerprint: string): Promise<ImageBundle> {
    this.use();
    const bundle = exportImage(this.world, this.path, fingerprint);
    const dir = bundle.files[0]?.slice(0, bundle.files[0].lastIndexOf('/')) ?? '';
    this.show(cmd.TEMP_DIR_ARGV, cmd.exportImageArgv(this.cli(), fingerprint, dir), ['find', dir, '-type', 'f']);
    return bundle;
  }

  async pushBundle(bundle: ImageBundle, childName: string): Promise<ImageBundle> {
    this.use();
    const pushed = pushBundle(this.world, this.path, bundle, childName);
    const dir = pushed.files[0]?.slice(0, pushed.files[0].lastIndexOf('/')) ?? '';
    (this.child(childName, null) as SimLevel).show(cmd.TEMP_DIR_ARGV);
    this.show(...bundle.files.map((f) => cmd.pushFileArgv(this.cli(), f, childName, dir)));
    return pushed;
  }

  async importImage(bundle: ImageBundle, aliases: readonly string[]): Promise<void> {
    this.use();
    this.show(cmd.importImageArgv(this.cli(), bundle.files, aliases));
    importImage(this.world, this.path, bundle, aliases);
  }

  async discardBundle(bundle: ImageBundle): Promise<void> {
    this.use();
    this.show(cmd.discardArgv(bundle.files));
    discardBundle(this.world, this.path, bundle);
  }

  async createInstance(spec: InstanceSpec): Promise<void> {
    this.use();
    this.show(cmd.createInstanceArgv(this.cli(), spec));
    createInstance(this.world, this.path, spec);
  }

  /** `waitBoot`: the real client also waits for boot; here boot is immediate. */
  async startInstance(name: string, _waitBoot: boolean): Promise<void> {
    this.use();
    this.show(cmd.instanceArgv(this.cli(), 'start', name));
    startInstance(this.world, this.path, name);
  }

  async stopInstance(name: string): Promise<void> {
    this.use();
    this.show(cmd.instanceArgv(this.cli(), 'stop', name));
    stopInstance(this.world, this.path, name);
  }

  async deleteInstance(name: string): Promise<void> {
    this.use();
    this.show(cmd.deleteArgv(this.cli(), name));
    deleteInstance(this.world, this.path, name, true);
  }

  async updateInstance(name: string, update: InstanceUpdate): Promise<void> {
    this.use();
    this.show(...cmd.updateInstanceArgvs(this.cli(), name, update));
    updateInstance(this.world, this.path, name, update);
  }

  async createProfile(name: string, body: ProfileBody): Promise<void> {
    this.use();
    this.show(cmd.profileCreateArgv(this.cli(), name), cmd.profileEditArgv(this.cli(), name));
    createProfile(this.world, this.path, name);
    writeProfile(this.world, this.path, name, body);
  }

  async writeProfile(name: string, body: ProfileBody): Promise<void> {
    this.use();
    this.show(cmd.profileEditArgv(this.cli(), name));
    writeProfile(this.world, this.path, name, body);
  }

  async deleteProfile(name: string): Promise<void> {
    this.use();
    this.show(cmd.profileDeleteArgv(this.cli(), name));
    deleteProfile(this.world, this.path, name);
  }

  async readFiles(name: string, paths: readonly string[]): Promise<Record<string, ObservedFile | null>> {
    this.use();
    return readFiles(this.world, this.path, name, paths);
  }

  async writeFile(name: string, file: FileWrite): Promise<void> {
    this.use();
    writeFile(this.world, this.path, name, file);
  }

  async probeLxc(owners: readonly string[], options: { everyOwner?: boolean } = {}): Promise<ObservedLxc> {
    this.show(lxcCmd.lxcProbeArgv(owners, options.everyOwner ?? false));
    return probeLxc(this.world, this.path, owners, options.everyOwner ?? false);
  }

  async writeLxcFile(file: string, owner: string, text: string, expected: string | null, options: { forgetOriginal?: boolean } = {}): Promise<void> {
    const home = owner === 'root' ? null : (findLevel(this.world, this.path)?.lxc?.users[owner] ?? null);
    this.show(lxcCmd.writeLxcFileArgv(file, owner === 'root' ? { user: null, home: null } : { user: owner, home }, expected, options.forgetOriginal ?? false));
    writeLxcFile(this.world, this.path, file, owner, text, expected, options);
  }

  async lxcCreate(spec: LxcCreate): Promise<void> {
    const configFile = spec.owner.user === null && spec.config !== null ? lxcCmd.rootCreateConfigFile(spec.name) : null;
    if (configFile) this.show(lxcCmd.writeLxcFileArgv(configFile, spec.owner, null, false));
    const argv = lxcCmd.lxcCreateArgv(spec, configFile);
    this.show(argv);
    lxcCreate(this.world, this.path, spec, argv);
  }

  async waitDaemon(): Promise<void> {
    this.use();
    const argv = cmd.waitReadyArgv(this.info());
    this.show(argv);
    activate(this.world, reach(this.world, this.path, argv), argv);
  }

  async lxcStart(name: string, owner: LxcOwner, cgroup: 'none' | 'systemd-run'): Promise<void> {
    const argv = lxcCmd.lxcStartArgv(name, owner, cgroup);
    this.show(argv);
    lxcStart(this.world, this.path, name, owner, argv);
  }

  async lxcDelete(name: string, owner: LxcOwner, running: boolean): Promise<void> {
    const argv = lxcCmd.lxcDestroyArgv(name, owner);
    this.show(running ? lxcCmd.lxcStopArgv(name, owner) : null, argv);
    lxcDelete(this.world, this.path, name, owner, running, argv);
  }

  async runIn(name: string, argv: readonly string[], onOutput?: OutputListener): Promise<ExecResult> {
    this.use();
    return runIn(this.world, this.path, name, argv, onOutput);
  }

  lxcChild(name: string): LxdLevel {
    return new SimLevel(this.world, joinPath(this.path, name), null, this.trace);
  }

  child(name: string, flavour: Flavour | null): LxdLevel {
    this.use();
    return new SimLevel(this.world, joinPath(this.path, name), flavour, this.trace);
  }
}

/** `value`, once the event loop has gone round once. */
function nextTurn<T>(value: T): Promise<T> {
  return new Promise((resolve) => setImmediate(() => resolve(value)));
}
