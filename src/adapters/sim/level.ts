// LxdLevel over the simulated world: the same interface the real client implements, each call
// doing to the world what the real command would do to a machine.

import type { Flavour } from '../../core/flavour/index.js';
import type { ObservedFile, ObservedLevel } from '../../core/observed.js';
import type { ExecResult } from '../../ports/exec.js';
import { readFiles, runIn, writeFile } from './files.js';
import type { FileWrite, ImageBundle, InstanceSpec, InstanceUpdate, LxdLevel, SubidFile } from '../../ports/lxd.js';
import { discardBundle, exportImage, fetchImage, importImage, pushBundle } from './images.js';
import { createInstance, deleteInstance, startInstance, stopInstance, updateInstance } from './instances.js';
import { initDaemon } from './preseed.js';
import { probeLevel } from './probe.js';
import { restartDaemon } from './restart.js';
import { joinPath, type World } from './state.js';
import { writeSubid } from './subid.js';
import { findLevel, selectDaemon } from './world.js';

export class SimLevel implements LxdLevel {
  /** As in the real adapter: the flavour the manifest or plan decided, else what the first probe found. */
  private flavour: Flavour | null;

  constructor(
    private readonly world: World,
    readonly path: string,
    flavour: Flavour | null = null,
  ) {
    this.flavour = flavour;
  }

  async probe(): Promise<ObservedLevel> {
    const level = probeLevel(this.world, this.path, this.flavour);
    this.flavour ??= level.flavour;
    return level;
  }

  /** Talk to this level's daemon: on a host with LXD and Incus, the one decided. */
  private use(): void {
    if (this.flavour === null) return;
    const level = findLevel(this.world, this.path);
    if (level) selectDaemon(level, this.flavour);
  }

  async writeSubid(file: SubidFile, text: string, expectedSha256: string | null, options: { forgetOriginal?: boolean } = {}): Promise<void> {
    this.use();
    writeSubid(this.world, this.path, file, text, expectedSha256, options);
  }

  async restartDaemon(command: readonly string[] | null): Promise<void> {
    this.use();
    restartDaemon(this.world, this.path, command);
  }

  async initDaemon(preseedYaml: string): Promise<void> {
    this.use();
    initDaemon(this.world, this.path, preseedYaml);
  }

  async fetchImage(remoteRef: string, alias: string): Promise<void> {
    this.use();
    fetchImage(this.world, this.path, remoteRef, alias);
  }

  async exportImage(fingerprint: string): Promise<ImageBundle> {
    this.use();
    return exportImage(this.world, this.path, fingerprint);
  }

  async pushBundle(bundle: ImageBundle, childName: string): Promise<ImageBundle> {
    this.use();
    return pushBundle(this.world, this.path, bundle, childName);
  }

  async importImage(bundle: ImageBundle, aliases: readonly string[]): Promise<void> {
    this.use();
    importImage(this.world, this.path, bundle, aliases);
  }

  async discardBundle(bundle: ImageBundle): Promise<void> {
    this.use();
    discardBundle(this.world, this.path, bundle);
  }

  async createInstance(spec: InstanceSpec): Promise<void> {
    this.use();
    createInstance(this.world, this.path, spec);
  }

  /** `hosting`: the real client also waits for boot; here boot is immediate. */
  async startInstance(name: string, _hosting: boolean): Promise<void> {
    this.use();
    startInstance(this.world, this.path, name);
  }

  async stopInstance(name: string): Promise<void> {
    this.use();
    stopInstance(this.world, this.path, name);
  }

  async deleteInstance(name: string): Promise<void> {
    this.use();
    deleteInstance(this.world, this.path, name);
  }

  async updateInstance(name: string, update: InstanceUpdate): Promise<void> {
    this.use();
    updateInstance(this.world, this.path, name, update);
  }

  async readFiles(name: string, paths: readonly string[]): Promise<Record<string, ObservedFile | null>> {
    this.use();
    return readFiles(this.world, this.path, name, paths);
  }

  async writeFile(name: string, file: FileWrite): Promise<void> {
    this.use();
    writeFile(this.world, this.path, name, file);
  }

  async runIn(name: string, argv: readonly string[]): Promise<ExecResult> {
    this.use();
    return runIn(this.world, this.path, name, argv);
  }

  child(name: string, flavour: Flavour | null): LxdLevel {
    this.use();
    return new SimLevel(this.world, joinPath(this.path, name), flavour);
  }
}
