#!/usr/bin/env bash
# Restart the lab host's LXD daemon WITHOUT stopping containers.
# PID 1 is not systemd on the lab machines, so this stands in for
# `systemctl restart lxd` (KillMode=process): SIGTERM the daemon (never
# `lxd shutdown`, which stops every container), wait for it to exit, start it
# again detached, and wait until it answers. The daemon re-reads the root lines
# of /etc/subuid and /etc/subgid at start.
# Usage: restart-lxd.sh            (no arguments; nestctl runs it as argv)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

[[ $# -eq 0 ]] || die "takes no arguments"

t0=$(now)
lxd_lock
old=$(lxd_daemon_pids | tr '\n' ' ')
if [[ -n $old ]]; then
  step "stopping lxd daemon (pid ${old% }) with SIGTERM; containers keep running"
  lxd_stop_daemon_only
else
  step "no lxd daemon running"
fi
step "starting lxd"
lxd_start
lxd_wait
step "lxd ready (pid $(lxd_daemon_pids | tr '\n' ' ' | sed 's/ $//')) in $(elapsed "$t0")"
