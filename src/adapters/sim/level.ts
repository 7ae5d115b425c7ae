// LxdLevel over the simulated world: the same interface the real client implements, each call
// doing to the world what the real command would do to a machine.

import type { ObservedLevel } from '../../core/observed.js';
import type { ImageBundle, InstanceSpec, InstanceUpdate, LxdLevel, SubidFile } from '../../ports/lxd.js';
import { discardBundle, exportImage, fetchImage, importImage, pushBundle } from './images.js';
import { createInstance, deleteInstance, startInstance, stopInstance, updateInstance } from './instances.js';
import { initDaemon } from './preseed.js';
import { probeLevel } from './probe.js';
import { restartDaemon } from './restart.js';
import { joinPath, type World } from './state.js';
import { writeSubid } from './subid.js';

export class SimLevel implements LxdLevel {
  constructor(
    private readonly world: World,
    readonly path: string,
  ) {}

  async probe(): Promise<ObservedLevel> {
    return probeLevel(this.world, this.path);
  }

  async writeSubid(file: SubidFile, text: string, expectedSha256: string | null, options: { forgetOriginal?: boolean } = {}): Promise<void> {
    writeSubid(this.world, this.path, file, text, expectedSha256, options);
  }

  async restartDaemon(command: readonly string[] | null): Promise<void> {
    restartDaemon(this.world, this.path, command);
  }

  async initDaemon(preseedYaml: string): Promise<void> {
    initDaemon(this.world, this.path, preseedYaml);
  }

  async fetchImage(remoteRef: string, alias: string): Promise<void> {
    fetchImage(this.world, this.path, remoteRef, alias);
  }

  async exportImage(fingerprint: string): Promise<ImageBundle> {
    return exportImage(this.world, this.path, fingerprint);
  }

  async pushBundle(bundle: ImageBundle, childName: string): Promise<ImageBundle> {
    return pushBundle(this.world, this.path, bundle, childName);
  }

  async importImage(bundle: ImageBundle, aliases: readonly string[]): Promise<void> {
    importImage(this.world, this.path, bundle, aliases);
  }

  async discardBundle(bundle: ImageBundle): Promise<void> {
    discardBundle(this.world, this.path, bundle);
  }

  async createInstance(spec: InstanceSpec): Promise<void> {
    createInstance(this.world, this.path, spec);
  }

  /** `hosting`: the real client also waits for boot; here boot is immediate. */
  async startInstance(name: string, _hosting: boolean): Promise<void> {
    startInstance(this.world, this.path, name);
  }

  async stopInstance(name: string): Promise<void> {
    stopInstance(this.world, this.path, name);
  }

  async deleteInstance(name: string): Promise<void> {
    deleteInstance(this.world, this.path, name);
  }

  async updateInstance(name: string, update: InstanceUpdate): Promise<void> {
    updateInstance(this.world, this.path, name, update);
  }

  child(name: string): LxdLevel {
    return new SimLevel(this.world, joinPath(this.path, name));
  }
}
