// Where LXC keeps things, as its own tools do: a user's containers under
// ~/.local/share/lxc and their defaults in ~/.config/lxc/default.conf (lxc.conf(5), "unprivileged
// containers"); root's under /var/lib/lxc; the veth allowance in /etc/lxc/lxc-usernet.

export const USERNET = '/etc/lxc/lxc-usernet';
/** What nestctl found in lxc-usernet before its first edit (destroy puts it back). */
export const USERNET_ORIGINAL = '/var/lib/nestctl/lxc-usernet.orig';
export const ROOT_LXC_DIR = '/var/lib/lxc';
/** The bridge Debian's lxc-net makes (LXC_BRIDGE in LXC's config/init/common/lxc-net.in): the default link inside an LXC container. */
export const LXC_NET_BRIDGE = 'lxcbr0';
/** Included by a container that runs LXC containers itself (LXC's config/templates/nesting.conf.in). */
export const NESTING_CONF = '/usr/share/lxc/config/nesting.conf';
/** nestctl's own record in a container's config: the comment line that proves it made it. */
export const MARKER_PREFIX = '# nestctl.path = ';

/** The directory holding an owner's containers (lxc-create -P). */
export const lxcDir = (user: string | null, home: string | null): string => (user === null ? ROOT_LXC_DIR : `${home}/.local/share/lxc`);
export const defaultConfPath = (home: string): string => `${home}/.config/lxc/default.conf`;
export const containerConfigPath = (dir: string, name: string): string => `${dir}/${name}/config`;

/** The owner key of observed LXC facts: the user, or "root". */
export const ownerKey = (user: string | null): string => user ?? 'root';

/** How a plan names an LXC container among others (its path and owner, "root" or a user). */
export const lxcLabel = (path: string, owner: string): string => `LXC container ${path} of ${owner}`;

/** The node path recorded in a container's config, or null when nestctl did not make it. */
export function markedPath(config: string): string | null {
  const line = config.split('\n').find((l) => l.startsWith(MARKER_PREFIX));
  return line === undefined ? null : line.slice(MARKER_PREFIX.length).trim();
}
