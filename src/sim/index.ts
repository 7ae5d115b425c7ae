// The simulated LXD: machines that answer the real client's commands (machine.ts) with LXD's
// and LXC's rules, for fast tests, `nestctl plan|apply --simulate`, and comparison with real LXD;
// world files to describe them (world-file.ts) and inspection for tests (sim-world.ts).

export { DEBIAN_SUBID } from './world-file.js';
export { defaultWorld, freshHostsWorld, manifestImages, manifestLxcUsers } from './default-world.js';
export { parseWorld } from './parse-world.js';
export { assumedByDefault, imageProblems, WORLD_FILE_NOTE } from './assumptions.js';
export { describeWorld, describeWorldText, type ServerWorld } from './describe-world.js';
export type {
  FileDescription,
  HostDescription,
  ImageDescription,
  ImageLxdDescription,
  InstanceDescription,
  LevelDescription,
  LxcContainerDescription,
  LxcDescription,
  LxdDescription,
  MemberDescription,
  ServerDescription,
  WorldDescription,
} from './world-file.js';
export { serverWorld } from './world-file.js';
export type { OpRecord, World } from './state.js';
export { type DaemonRange, type RouteStep, type SimulatedWorld, simulatedWorldOf, simulateWorld } from './sim-world.js';
export { simServer, simServerExec, simServerOf, type SimServer } from './remote.js';
export { relayedInto, serverMachine } from './server-machine.js';
export { simShellExec } from './shell.js';
export { simClient, type SimRemote } from './client.js';
