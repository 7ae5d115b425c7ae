#!/usr/bin/env bash
# Delete lab instances on the host LXD (and with them everything nested inside).
# Usage: teardown-host.sh NAME...      e.g. teardown-host.sh lab-c1 lab-busy
#        teardown-host.sh --prefix lab-   (every instance whose name starts with lab-)
#        teardown-host.sh --stop-incus    (also SIGTERM the hand-started host incusd, after
#                                          any deletes; its containers keep running)
# Missing instances are skipped; exits non-zero only if a delete fails.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

names=()
prefixes=()
stop_incus=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --prefix)
      [[ $# -ge 2 && -n $2 ]] || die "--prefix needs a value"
      prefixes+=("$2")
      shift 2 ;;
    --stop-incus) stop_incus=1; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) names+=("$1"); shift ;;
  esac
done
# LXD is needed only when there is something to delete on it
if [[ ${#names[@]} -gt 0 || ${#prefixes[@]} -gt 0 ]]; then
  lxd_reachable 5 || die "host LXD is not reachable"
fi
for p in "${prefixes[@]}"; do
  mapfile -t -O "${#names[@]}" names < <(lxc list --format csv -c n </dev/null | awk -v p="$p" 'index($0, p) == 1')
done
[[ ${#names[@]} -gt 0 || $stop_incus -eq 1 ]] || { step "nothing to delete"; exit 0; }

rc=0
for n in "${names[@]}"; do
  if lxc info "$n" >/dev/null 2>&1; then
    t0=$(now)
    if lxc delete --force "$n" </dev/null; then
      step "deleted $n ($(elapsed "$t0"))"
    else
      rc=1
    fi
  else
    step "$n: not present"
  fi
done
if ((stop_incus)); then
  incus_lock
  pids=$(incus_daemon_pids | tr '\n' ' ')
  if [[ -n $pids ]]; then
    t0=$(now)
    lab_daemon_stop incusd
    step "stopped incusd (pid ${pids% }) with SIGTERM ($(elapsed "$t0")); its containers keep running"
  else
    step "incusd: not running"
  fi
fi
exit "$rc"
