// An LxdLevel that hands every call to another one: the base of a level that changes how a few
// of them are done (adapters/lxd/shell-host.ts) and leaves the rest as they are.

import type { Flavour } from '../core/flavour/index.js';
import type {
  FileState,
  ObservedFile,
  ObservedImage,
  ObservedInstance,
  ObservedLevel,
  ObservedLxc,
  ObservedProfile,
} from '../core/observed.js';
import type { ProfileBody } from '../core/plan/model.js';
import type { ExecResult, OutputListener } from '../ports/exec.js';
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
} from '../ports/lxd.js';

export class DelegatingLevel implements LxdLevel {
  constructor(protected readonly inner: LxdLevel) {}

  get path(): string {
    return this.inner.path;
  }

  probe(wants?: ProbeWants): Promise<ObservedLevel> {
    return this.inner.probe(wants);
  }
  instances(): Promise<ObservedInstance[]> {
    return this.inner.instances();
  }
  images(): Promise<ObservedImage[]> {
    return this.inner.images();
  }
  profiles(): Promise<ObservedProfile[]> {
    return this.inner.profiles();
  }
  readSubid(file: SubidFile): Promise<Pick<FileState, 'text' | 'sha256'>> {
    return this.inner.readSubid(file);
  }
  writeSubid(file: SubidFile, text: string, expectedSha256: string | null, options?: SubidWriteOptions): Promise<void> {
    return this.inner.writeSubid(file, text, expectedSha256, options);
  }
  restartDaemon(command: readonly string[] | null): Promise<void> {
    return this.inner.restartDaemon(command);
  }
  initDaemon(preseedYaml: string): Promise<void> {
    return this.inner.initDaemon(preseedYaml);
  }
  fetchImage(remoteRef: string, alias: string): Promise<void> {
    return this.inner.fetchImage(remoteRef, alias);
  }
  exportImage(fingerprint: string): Promise<ImageBundle> {
    return this.inner.exportImage(fingerprint);
  }
  pushBundle(bundle: ImageBundle, childName: string): Promise<ImageBundle> {
    return this.inner.pushBundle(bundle, childName);
  }
  importImage(bundle: ImageBundle, aliases: readonly string[]): Promise<void> {
    return this.inner.importImage(bundle, aliases);
  }
  discardBundle(bundle: ImageBundle): Promise<void> {
    return this.inner.discardBundle(bundle);
  }
  createInstance(spec: InstanceSpec): Promise<void> {
    return this.inner.createInstance(spec);
  }
  startInstance(name: string, waitBoot: boolean): Promise<void> {
    return this.inner.startInstance(name, waitBoot);
  }
  stopInstance(name: string): Promise<void> {
    return this.inner.stopInstance(name);
  }
  renameInstance(name: string, newName: string): Promise<void> {
    return this.inner.renameInstance(name, newName);
  }
  snapshotInstance(name: string, snapshot: string): Promise<void> {
    return this.inner.snapshotInstance(name, snapshot);
  }
  copyInstance(source: string, snapshot: string, name: string, target?: string): Promise<void> {
    return this.inner.copyInstance(source, snapshot, name, target);
  }
  restoreSnapshot(name: string, snapshot: string): Promise<void> {
    return this.inner.restoreSnapshot(name, snapshot);
  }
  deleteSnapshot(name: string, snapshot: string): Promise<void> {
    return this.inner.deleteSnapshot(name, snapshot);
  }
  deleteInstance(name: string): Promise<void> {
    return this.inner.deleteInstance(name);
  }
  updateInstance(name: string, update: InstanceUpdate): Promise<void> {
    return this.inner.updateInstance(name, update);
  }
  createProfile(name: string, body: ProfileBody): Promise<void> {
    return this.inner.createProfile(name, body);
  }
  writeProfile(name: string, body: ProfileBody): Promise<void> {
    return this.inner.writeProfile(name, body);
  }
  deleteProfile(name: string): Promise<void> {
    return this.inner.deleteProfile(name);
  }
  readFiles(name: string, paths: readonly string[]): Promise<Record<string, ObservedFile | null>> {
    return this.inner.readFiles(name, paths);
  }
  writeFile(name: string, file: FileWrite): Promise<void> {
    return this.inner.writeFile(name, file);
  }
  runIn(name: string, argv: readonly string[], onOutput?: OutputListener): Promise<ExecResult> {
    return this.inner.runIn(name, argv, onOutput);
  }
  probeLxc(owners: readonly string[], options?: { everyOwner?: boolean }): Promise<ObservedLxc> {
    return this.inner.probeLxc(owners, options);
  }
  writeLxcFile(file: string, owner: string, text: string, expected: string | null, options?: { forgetOriginal?: boolean }): Promise<void> {
    return this.inner.writeLxcFile(file, owner, text, expected, options);
  }
  lxcCreate(spec: LxcCreate): Promise<void> {
    return this.inner.lxcCreate(spec);
  }
  waitDaemon(): Promise<void> {
    return this.inner.waitDaemon();
  }
  lxcStart(name: string, owner: LxcOwner, cgroup: 'none' | 'systemd-run'): Promise<void> {
    return this.inner.lxcStart(name, owner, cgroup);
  }
  lxcChild(name: string, user: string | null): LxdLevel {
    return this.inner.lxcChild(name, user);
  }
  lxcDelete(name: string, owner: LxcOwner, running: boolean): Promise<void> {
    return this.inner.lxcDelete(name, owner, running);
  }
  child(name: string, flavour: Flavour | null): LxdLevel {
    return this.inner.child(name, flavour);
  }
}
