#!/usr/bin/env bash
# The raw-lxc baseline: the classic 3-level recipe typed by an expert, no checks, no planning.
# Same end state as `nestctl apply examples/seed.yaml` (with containers named ${P}c1..c3).
# Usage: baseline-recipe.sh PREFIX RESTART_COMMAND
set -euo pipefail
P=$1 RESTART=$2
set_root() { # $1 = exec prefix (may be empty), $2 = entry
  for f in /etc/subuid /etc/subgid; do
    $1 sh -c 'grep -v "^root:" "$1" > "$1.new"; echo "$2" >> "$1.new"; mv "$1.new" "$1"' sh "$f" "$2"
  done
}
preseed() { # $1 = exec prefix, $2 = bridge address
  printf 'storage_pools:\n- name: default\n  driver: dir\nnetworks:\n- name: lxdbr0\n  type: bridge\n  config:\n    ipv4.address: %s\n    ipv4.nat: "false"\n    ipv6.address: none\nprofiles:\n- name: default\n  devices:\n    root: {path: /, pool: default, type: disk}\n    eth0: {name: eth0, network: lxdbr0, type: nic}\n' "$2" | $1 lxd init --preseed
}
copy_image() { # $1 = alias, then the chain of containers to push through
  local alias=$1; shift
  local d; d=$(mktemp -d)
  lxc image export -q "$alias" "$d/" >/dev/null
  local ex="" path=""
  for c in "$@"; do
    $ex lxc exec "$c" -- mkdir -p /var/tmp/img
    for f in "$d"/*; do
      if [ -z "$path" ]; then lxc file push -q "$f" "$c/var/tmp/img/"; else $ex lxc file push -q "/var/tmp/img/$(basename "$f")" "$c/var/tmp/img/"; fi
    done
    ex="$ex lxc exec $c --"; path=1
  done
  $ex sh -c 'lxc image import -q /var/tmp/img/meta-* $(ls /var/tmp/img/*.tar.* | grep -v /meta-) --alias "$1" && rm -rf /var/tmp/img' sh "$alias"
  rm -rf "$d"
}
wait_boot() { until $1 systemctl is-system-running --wait 2>/dev/null | grep -qE 'running|degraded'; do sleep 0.3; done; }

set_root "" "root:500000:196608"; "$RESTART" >/dev/null
lxc launch -q nest "${P}c1" -c security.nesting=true
E1="lxc exec ${P}c1 --"
wait_boot "$E1"
set_root "$E1" "root:65536:131072"; $E1 systemctl restart lxd
preseed "$E1" 10.78.1.1/24
copy_image nest "${P}c1"
$E1 lxc launch -q nest "${P}c2" -c security.nesting=true
E2="$E1 lxc exec ${P}c2 --"
wait_boot "$E2"
set_root "$E2" "root:65536:65536"; $E2 systemctl restart lxd
preseed "$E2" 10.78.2.1/24
copy_image busybox "${P}c1" "${P}c2"
$E2 lxc launch -q busybox "${P}c3"
