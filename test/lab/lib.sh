# shellcheck shell=bash
# Shared helpers for the real-LXD lab scripts (sourced, not run).
# The lab host has no systemd as PID 1: the host LXD daemon is started by hand,
# and "restarting" it means SIGTERM (containers keep running) + start again.

export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"
export LC_ALL=C

LAB_LXD_LOG=${NESTCTL_LAB_LXD_LOG:-/var/log/lxd-lab.log}
LAB_WAIT_TIMEOUT=${NESTCTL_LAB_WAIT_TIMEOUT:-60}

lab_name=${0##*/}
lab_name=${lab_name%.sh}

step() { printf '==> [%s] %s\n' "$lab_name" "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'ERROR [%s]: %s\n' "$lab_name" "$*" >&2; exit 1; }

now() { date +%s.%N; }
# elapsed START -> "12.3s"
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.2fs", e - s }'; }

[[ $(id -u) -eq 0 ]] || die "must run as root"

# PIDs of a host daemon NAME (lxd or incusd): processes named NAME in *our* pid
# namespace whose argv[0] is NAME and whose first argument is an option (or absent).
# Excludes nested daemons (other pid namespaces, visible in our ps), container monitors
# ("[lxc monitor] ...", comm NAME) and helpers (`lxd forkexec`, `incusd waitready`).
lab_daemon_pids() { # NAME
  local name=$1 self_ns pid ns arg1 argv
  self_ns=$(readlink /proc/self/ns/pid)
  for pid in $(pgrep -x "$name" 2>/dev/null || true); do
    ns=$(readlink "/proc/$pid/ns/pid" 2>/dev/null) || continue
    [[ $ns == "$self_ns" ]] || continue
    # an exited daemon may linger as a zombie until PID 1 reaps it
    [[ $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) != Z ]] || continue
    # argv[0] must be the daemon itself: "[lxc monitor] ..." keeps comm but rewrites argv
    mapfile -d '' -t argv <"/proc/$pid/cmdline" 2>/dev/null || continue
    [[ ${#argv[@]} -gt 0 && ${argv[0]##*/} == "$name" ]] || continue
    arg1=${argv[1]:-}
    [[ -z $arg1 || $arg1 == -* ]] || continue
    echo "$pid"
  done
}
lxd_daemon_pids() { lab_daemon_pids lxd; }

lxd_reachable() { lxd waitready --timeout "${1:-1}" >/dev/null 2>&1; }

# Serialise daemon stop/start between concurrent lab scripts (several sessions
# may share a lab machine). Fd 9 is closed for the daemon itself (lxd_start).
LAB_LOCK=${NESTCTL_LAB_LOCK:-/run/nestctl-lab-lxd.lock}
lxd_lock() {
  exec 9>"$LAB_LOCK"
  flock -w 300 9 || die "could not lock $LAB_LOCK within 300s"
}

# Start a host daemon the lab way (detached, own session, no inherited stdio). Every inherited
# descriptor is closed: a daemon that kept a caller's `flock` descriptor would hold that lock
# for as long as it runs.
lab_daemon_start() { # COMMAND [ARG...]
  (
    for fd in $(ls /proc/$BASHPID/fd); do
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done 2>/dev/null
    exec setsid "$@" >/dev/null 2>&1 </dev/null
  ) &
  disown || true
}
lxd_start() { lab_daemon_start lxd --group root --logfile "$LAB_LXD_LOG"; }

lxd_wait() {
  lxd waitready --timeout "$LAB_WAIT_TIMEOUT" ||
    die "LXD not ready after ${LAB_WAIT_TIMEOUT}s (see $LAB_LXD_LOG)"
}

# Make sure the host daemon runs and answers.
lxd_ensure_running() {
  if lxd_reachable 1; then return 0; fi
  lxd_lock
  if lxd_reachable 1; then return 0; fi # someone else started it meanwhile
  if [[ -z $(lxd_daemon_pids) ]]; then
    info "starting lxd (log: $LAB_LXD_LOG)"
    lxd_start
  else
    info "lxd process present but not ready yet; waiting"
  fi
  lxd_wait
}

# Send SIGTERM to a host daemon (never `lxd shutdown` / `incus admin shutdown`: that stops
# every container) and wait until it has exited.
lab_daemon_stop() { # NAME
  local name=$1 pids pid deadline
  pids=$(lab_daemon_pids "$name")
  [[ -n $pids ]] || return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  deadline=$((SECONDS + LAB_WAIT_TIMEOUT))
  for pid in $pids; do
    while kill -0 "$pid" 2>/dev/null; do
      # a zombie counts as gone
      [[ $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) != Z ]] || break
      ((SECONDS < deadline)) || die "$name (pid $pid) did not exit ${LAB_WAIT_TIMEOUT}s after SIGTERM"
      sleep 0.1
    done
  done
}
lxd_stop_daemon_only() { lab_daemon_stop lxd; }

# The lab's `lxd init --preseed` / `incus admin init --preseed` document: dir pool "default",
# bridge BRIDGE (default lxdbr0) on CIDR, no NAT. Both daemons read the same format.
lab_preseed() { # CIDR [BRIDGE]
  local bridge=${2:-lxdbr0}
  cat <<EOF
config: {}
networks:
- name: $bridge
  type: bridge
  config:
    ipv4.address: $1
    ipv4.nat: "false"
    ipv6.address: none
storage_pools:
- name: default
  driver: dir
profiles:
- name: default
  devices:
    root: {path: /, pool: default, type: disk}
    eth0: {name: eth0, network: $bridge, type: nic}
EOF
}

# --- Incus (opt-in, NESTCTL_LAB_INCUS=1) -------------------------------------------------
# The host incusd is started by hand too, beside LXD: Debian's incus-base ships only
# systemd/sysvinit/runit units. Both daemons read root's first /etc/subuid and /etc/subgid
# line; stopping one daemon leaves the other's containers alone.
LAB_INCUSD=/usr/libexec/incus/incusd
LAB_INCUS_LOG=${NESTCTL_LAB_INCUS_LOG:-/var/log/incus-lab.log}
LAB_INCUS_LOCK=${NESTCTL_LAB_INCUS_LOCK:-/run/nestctl-lab-incus.lock}

incus_daemon_pids() { lab_daemon_pids incusd; }
incus_reachable() { incus admin waitready --timeout "${1:-1}" >/dev/null 2>&1 </dev/null; }
incus_lock() {
  exec 8>"$LAB_INCUS_LOCK"
  flock -w 300 8 || die "could not lock $LAB_INCUS_LOCK within 300s"
}
incus_start() { lab_daemon_start "$LAB_INCUSD" --group root --logfile "$LAB_INCUS_LOG"; }
incus_wait() {
  incus admin waitready --timeout "$LAB_WAIT_TIMEOUT" </dev/null ||
    die "Incus not ready after ${LAB_WAIT_TIMEOUT}s (see $LAB_INCUS_LOG)"
}

# Make sure the host incusd runs and answers.
incus_ensure_running() {
  if incus_reachable 1; then return 0; fi
  incus_lock
  if incus_reachable 1; then return 0; fi # someone else started it meanwhile
  if [[ -z $(incus_daemon_pids) ]]; then
    info "starting incusd (log: $LAB_INCUS_LOG)"
    incus_start
  else
    info "incusd process present but not ready yet; waiting"
  fi
  incus_wait
}
