// The one command that reads everything about a level in a single round trip, so observing
// costs one `sh -c` (one chain of `lxc exec`) per level.
// A constant script: no manifest data is ever spliced into it. Each fact is one line:
//   @@nestctl@@ NAME STATUS BASE64
// where STATUS is an exit code, a file mtime, or "absent". src/core/observe/parse-probe.ts reads it.
// Run as `sh -c PROBE_SCRIPT probe [--addresses] CLIENT UNIT`: it reports which daemons are
// installed (raw facts; the core decides the level's flavour) and, when CLIENT (lxc or incus) is
// given, asks that daemon, whose systemd unit is UNIT, for everything else. When the flavour is
// not known yet, `sh -c PROBE_SCRIPT probe [--addresses] '' '' FLAVOUR CLIENT UNIT…` (one triple
// per flavour, from the descriptors) asks the one daemon installed and says which (`asked
// FLAVOUR`), so an unnamed level still costs one round trip; the caller checks that choice against
// decideFlavour. The instances' addresses (ADDRESSES_QUERY) are read only after ADDRESSES_ARG.

import { endMarked } from './bounded.js';

export const PROBE_MARK = '@@nestctl@@';

/** What the probe asks for the instances and the images; steps re-check them with the same query alone. */
export const INSTANCES_QUERY = '/1.0/instances?recursion=1&all-projects=true';
export const IMAGES_QUERY = '/1.0/images?recursion=1';
/** The pools with their drivers (Docker's storage driver depends on what a container's root disk is on). */
export const POOLS_QUERY = '/1.0/storage-pools?recursion=1';
export const PROFILES_QUERY = '/1.0/profiles?recursion=1';
/**
 * The instances with their state (`recursion=2`: InstanceFull), read only for their addresses
 * (`status`); kept apart from INSTANCES_QUERY so a daemon that cannot render a state still lists
 * its instances, and the plan never depends on it.
 */
export const ADDRESSES_QUERY = '/1.0/instances?recursion=2&all-projects=true';
/** The probe's first argument that adds ADDRESSES_QUERY (only `status` shows addresses; plan, apply and destroy never ask). */
export const ADDRESSES_ARG = '--addresses';

// String.raw: the shell sees every backslash as written here.
export const PROBE_SCRIPT = endMarked(String.raw`
sec() { printf '${PROBE_MARK} %s %s ' "$1" "$2"; }
run() { name=$1; shift; out=$("$@" 2>&1); rc=$?; sec "$name" "$rc"; printf '%s' "$out" | base64 -w0; echo; }
file() { if [ -e "$2" ]; then sec "$1" "$(stat -c %.9Y "$2")"; base64 -w0 < "$2"; echo; else sec "$1" absent; echo; fi; }
sec now "$(date +%s.%N)"; echo
if [ -d /run/systemd/system ]; then sec systemd yes; else sec systemd no; fi; echo
file uid_map /proc/self/uid_map
file subuid /etc/subuid
file subgid /etc/subgid
file subuid_orig /var/lib/nestctl/subuid.orig
file subgid_orig /var/lib/nestctl/subgid.orig
run kernel uname -r
has() { n=$1; shift; if "$@" >/dev/null 2>&1; then sec "$n" yes; eval "$n=1"; else sec "$n" no; eval "$n="; fi; echo; }
lxd_bin() { command -v lxd || [ -x /usr/sbin/lxd ] || [ -x /usr/bin/lxd ]; }
has has_snap_lxd [ -x /snap/bin/lxd ]
has has_lxd lxd_bin
has has_incus command -v incus
if [ "$1" = ${ADDRESSES_ARG} ]; then addresses=1; shift; else addresses=; fi
cli=$1; unit=$2
if [ -z "$cli" ] && [ $# -ge 2 ]; then
  # decideFlavour without a manifest flavour: the snap's LXD, else the deb's, else Incus; LXD
  # beside Incus is a refusal, so nothing is asked.
  if [ -n "$has_snap_lxd" ]; then want=snap; elif [ -n "$has_lxd" ]; then want=debian; else want=; fi
  if [ -n "$has_incus" ]; then [ -z "$want" ] || exit 0; want=incus; fi
  [ -n "$want" ] || exit 0
  shift 2
  while [ $# -ge 3 ]; do
    if [ "$1" = "$want" ]; then cli=$2; unit=$3; sec asked "$want"; echo; break; fi
    shift 3
  done
fi
case "$cli" in lxc|incus) ;; *) exit 0;; esac
run server "$cli" query /1.0
[ "$rc" = 0 ] || exit 0
# When the daemon started, to tell whether it has read the current subid files. systemd knows it
# to the microsecond; otherwise the daemon's own pid (environment.server_pid, in this level's
# namespace) and its start tick give it. Never search by process name: the host also sees nested
# daemons and "[lxc monitor]" processes called lxd.
if [ -d /run/systemd/system ]; then
  ts=$(systemctl show "$unit" -p ExecMainStartTimestamp --timestamp=us+utc 2>/dev/null | sed 's/^ExecMainStartTimestamp=//')
  if [ -n "$ts" ]; then sec daemon_started_utc ok; printf '%s' "$ts" | base64 -w0; echo; fi
fi
pid=$(printf '%s' "$out" | sed -n 's/.*"server_pid":[[:space:]]*\([0-9][0-9]*\).*/\1/p' | head -n 1)
if [ -n "$pid" ] && [ -r "/proc/$pid/stat" ]; then
  t=$(date +%s.%N)
  sec daemon_started "$(awk -v t="$t" -v hz="$(getconf CLK_TCK)" 'NR == FNR { up = $1; next } { printf "%.3f", t - (up - $22 / hz) }' /proc/uptime "/proc/$pid/stat")"; echo
fi
run instances "$cli" query '${INSTANCES_QUERY}'
if [ -n "$addresses" ]; then run addresses "$cli" query '${ADDRESSES_QUERY}'; fi
run images "$cli" query '${IMAGES_QUERY}'
run pools "$cli" query '${POOLS_QUERY}'
run networks "$cli" query '/1.0/networks?recursion=1'
run profiles "$cli" query '${PROFILES_QUERY}'
`);
