#!/usr/bin/env bash
# Another machine for several-host tests, made of a nesting container on the lab host (see
# test/lab/README.md): its LXD listens on a fixed address of the lab bridge and is added to the
# host's lxc client as a remote, trusted by token.
#   remote.sh up NAME ADDRESS INNER_CIDR   e.g. up nxr1 10.66.0.201 10.78.1.1/24
#   remote.sh down NAME                    remove the remote and delete the container
# Idempotent; run setup-host.sh first (it imports the nest image). Works with no stdin.
set -euo pipefail
LAB_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
. "$LAB_DIR/lib.sh"

in_c() { lxc exec "$NAME" -T -- "$@" </dev/null; }

up() {
  local t0 ids token
  t0=$(now)
  if ! lxc info "$NAME" >/dev/null 2>&1 </dev/null; then
    step "remote $NAME: launching a nesting container"
    lxc launch nest "$NAME" -c security.nesting=true -c user.nestctl-lab.remote=true </dev/null >/dev/null
  fi
  for _ in $(seq 120); do
    case $(in_c systemctl is-system-running 2>/dev/null || true) in running | degraded) break ;; esac
    sleep 0.5
  done
  # the nest image has no network configuration: a fixed address on the lab bridge
  in_c ip link set eth0 up
  in_c sh -c 'ip -4 addr show dev eth0 | grep -q "inet $1/"' sh "$ADDR" || in_c ip addr add "$ADDR/24" dev eth0
  if [[ -z $(in_c lxc storage list --format csv 2>/dev/null || true) ]]; then
    step "remote $NAME: its LXD gets the container's ids and listens on $ADDR:8443"
    ids=$(in_c awk 'NR == 1 { print $3 }' /proc/self/uid_map)
    in_c sh -c 'printf "root:65536:%s\n" "$1" > /etc/subuid && cp /etc/subuid /etc/subgid' sh "$((ids - 65536))"
    in_c systemctl restart lxd.service
    in_c lxd waitready --timeout 60
    { lab_preseed "$INNER_CIDR"; } | sed "s|^config: {}|config:\n  core.https_address: \"$ADDR:8443\"|" |
      lxc exec "$NAME" -T -- lxd init --preseed
  fi
  if ! lxc remote list --format csv </dev/null | cut -d, -f1 | grep -qx "$NAME"; then
    step "remote $NAME: trusting it by token"
    token=$(in_c lxc config trust add --name nestctl-lab --quiet)
    lxc remote add "$NAME" "$token" </dev/null >/dev/null
  fi
  lxc query "$NAME:/1.0" </dev/null >/dev/null
  info "remote $NAME ready at $ADDR in $(elapsed "$t0")"
}

down() {
  if lxc remote list --format csv </dev/null | cut -d, -f1 | grep -qx "$NAME"; then lxc remote remove "$NAME" </dev/null; fi
  lxc delete --force "$NAME" </dev/null >/dev/null 2>&1 || true
}

lab_name=remote
case ${1:-} in
  up)
    [[ $# -eq 4 ]] || die "usage: remote.sh up NAME ADDRESS INNER_CIDR"
    NAME=$2 ADDR=$3 INNER_CIDR=$4
    up
    ;;
  down)
    [[ $# -eq 2 ]] || die "usage: remote.sh down NAME"
    NAME=$2
    down
    ;;
  *) die "usage: remote.sh up NAME ADDRESS INNER_CIDR | down NAME" ;;
esac
