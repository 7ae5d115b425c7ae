#!/usr/bin/env bash
# Restart the lab host's Incus daemon WITHOUT stopping containers (restart-lxd.sh's twin).
# PID 1 is not systemd on the lab machines, so this stands in for
# `systemctl restart incus` (KillMode=process in Debian's incus.service): SIGTERM incusd
# (never `incus admin shutdown`, which stops every instance), wait for it to exit, start it
# again detached, and wait until it answers. The daemon re-reads the root lines of
# /etc/subuid and /etc/subgid at start. The host LXD and its containers are not touched.
# Usage: restart-incus.sh            (no arguments; nestctl runs it as argv)
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

[[ $# -eq 0 ]] || die "takes no arguments"
[[ -x $LAB_INCUSD ]] || die "$LAB_INCUSD not found (set the lab up with NESTCTL_LAB_INCUS=1 setup-host.sh)"

t0=$(now)
incus_lock
old=$(incus_daemon_pids | tr '\n' ' ')
if [[ -n $old ]]; then
  step "stopping incusd (pid ${old% }) with SIGTERM; containers keep running"
  lab_daemon_stop incusd
else
  step "no incusd running"
fi
step "starting incusd"
incus_start
incus_wait
step "incus ready (pid $(incus_daemon_pids | tr '\n' ' ' | sed 's/ $//')) in $(elapsed "$t0")"
