#!/usr/bin/env bash
# Delete lab instances on the host LXD (and with them everything nested inside).
# Usage: teardown-host.sh NAME...      e.g. teardown-host.sh lab-c1 lab-busy
#        teardown-host.sh --prefix lab-   (every instance whose name starts with lab-)
# Missing instances are skipped; exits non-zero only if a delete fails.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

lxd_reachable 5 || die "host LXD is not reachable"
names=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --prefix)
      [[ $# -ge 2 && -n $2 ]] || die "--prefix needs a value"
      mapfile -t -O "${#names[@]}" names < <(lxc list --format csv -c n </dev/null | awk -v p="$2" 'index($0, p) == 1')
      shift 2 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) names+=("$1"); shift ;;
  esac
done
[[ ${#names[@]} -gt 0 ]] || { step "nothing to delete"; exit 0; }

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
exit "$rc"
