// `lxc profile create|edit|delete` on the simulated daemon, with LXD's refusals (lxd/profiles.go:
// a name taken, a profile in use, the default profile).

import type { ProfileBody } from '../core/plan/model.js';
import { lxcFailure } from './errors.js';
import { activate } from './power.js';
import { reach } from './reach.js';
import type { LxdState, World } from './state.js';
import { cliArgv, record, tick } from './world.js';

function daemonAt(world: World, path: string, argv: string[]): LxdState {
  return activate(world, reach(world, path, argv), argv);
}

export function createProfile(world: World, path: string, name: string): void {
  const argv = cliArgv(world, path, ['profile', 'create', name]);
  const lxd = daemonAt(world, path, argv);
  if (lxd.profiles.some((p) => p.name === name)) throw lxcFailure(path, argv, 'The profile already exists');
  lxd.profiles.push({ name, config: {}, devices: {} });
  tick(world);
  record(world, path, 'profile-create', name);
}

/** `profile edit` with YAML on stdin: the whole profile is replaced (a PUT). */
export function writeProfile(world: World, path: string, name: string, body: ProfileBody): void {
  const argv = cliArgv(world, path, ['profile', 'edit', name]);
  const lxd = daemonAt(world, path, argv);
  const profile = lxd.profiles.find((p) => p.name === name);
  if (!profile) throw lxcFailure(path, argv, 'Profile not found');
  profile.description = body.description;
  profile.config = { ...body.config };
  profile.devices = Object.fromEntries(Object.entries(body.devices).map(([k, d]) => [k, { ...d }]));
  tick(world);
  record(world, path, 'profile-edit', name);
}

export function deleteProfile(world: World, path: string, name: string): void {
  const argv = cliArgv(world, path, ['profile', 'delete', name]);
  const lxd = daemonAt(world, path, argv);
  if (name === 'default') throw lxcFailure(path, argv, 'The "default" profile cannot be deleted');
  if (!lxd.profiles.some((p) => p.name === name)) throw lxcFailure(path, argv, 'Profile not found');
  if (lxd.instances.some((i) => i.profiles.includes(name))) throw lxcFailure(path, argv, 'Profile is currently in use');
  lxd.profiles = lxd.profiles.filter((p) => p.name !== name);
  tick(world);
  record(world, path, 'profile-delete', name);
}
