#!/usr/bin/env bash
# A three-member LXD cluster for cluster tests, made of nesting containers on the lab host (see
# test/lab/README.md): NAME1, NAME2 and NAME3, each with a fixed address on the lab bridge and its
# LXD given the container's own ids. The first bootstraps the cluster; the others join it one at
# a time with a token. The cluster is added to the host's lxc client as remote NAME, trusted by
# token.
#   cluster.sh up NAME ADDR1 ADDR2 ADDR3 INNER_CIDR   e.g. up nxc 10.66.0.211 10.66.0.212 10.66.0.213 10.79.1.1/24
#   cluster.sh down NAME                              remove the remote and delete the members
# Idempotent; run setup-host.sh first (it imports the nest image). Works with no stdin.
set -euo pipefail
LAB_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
. "$LAB_DIR/lib.sh"

in_m() { local m=$1; shift; lxc exec "$m" -T -- "$@" </dev/null; }

# A member container with its address, its LXD on the container's own ids (not yet initialised).
member_up() { # MEMBER ADDRESS
  local m=$1 addr=$2 ids
  if ! lxc info "$m" >/dev/null 2>&1 </dev/null; then
    lxc launch nest "$m" -c security.nesting=true -c user.nestctl-lab.remote=true </dev/null >/dev/null
  fi
  for _ in $(seq 120); do
    case $(in_m "$m" systemctl is-system-running 2>/dev/null || true) in running | degraded) break ;; esac
    sleep 0.5
  done
  in_m "$m" ip link set eth0 up
  in_m "$m" sh -c 'ip -4 addr show dev eth0 | grep -q "inet $1/"' sh "$addr" || in_m "$m" ip addr add "$addr/24" dev eth0
  if ! in_m "$m" grep -q '^root:65536:' /etc/subuid; then
    ids=$(in_m "$m" awk 'NR == 1 { print $3 }' /proc/self/uid_map)
    in_m "$m" sh -c 'printf "root:65536:%s\n" "$1" > /etc/subuid && cp /etc/subuid /etc/subgid' sh "$((ids - 65536))"
    in_m "$m" systemctl restart lxd.service
  fi
  in_m "$m" lxd waitready --timeout 60
}

clustered() { in_m "$1" lxc query /1.0 2>/dev/null | grep -q '"server_clustered": true'; }
member_of() { in_m "${NAME}1" lxc cluster list --format csv 2>/dev/null | cut -d, -f1 | grep -qx "$1"; }

up() {
  local t0 i m token
  t0=$(now)
  step "cluster $NAME: three member containers"
  member_up "${NAME}1" "$ADDR1" &
  member_up "${NAME}2" "$ADDR2" &
  member_up "${NAME}3" "$ADDR3" &
  wait %1 && wait %2 && wait %3
  if ! clustered "${NAME}1"; then
    step "cluster $NAME: ${NAME}1 bootstraps it"
    { lab_preseed "$INNER_CIDR"; } |
      sed "s|^config: {}|config:\n  core.https_address: \"$ADDR1:8443\"\ncluster:\n  server_name: ${NAME}1\n  enabled: true|" |
      lxc exec "${NAME}1" -T -- lxd init --preseed
  fi
  for i in 2 3; do
    m=$NAME$i
    member_of "$m" && continue
    step "cluster $NAME: $m joins"
    token=$(in_m "${NAME}1" lxc cluster add "$m" --quiet)
    sleep 5 # a token used at once was refused on the lab (the new member is not known everywhere yet)
    local addr_var=ADDR$i
    printf '%s\n' 'cluster:' '  enabled: true' "  server_name: $m" "  server_address: \"${!addr_var}:8443\"" \
      "  cluster_token: \"$token\"" '  member_config:' '  - entity: storage-pool' '    name: default' \
      '    key: source' '    value: ""' | lxc exec "$m" -T -- lxd init --preseed
  done
  if ! lxc remote list --format csv </dev/null | cut -d, -f1 | grep -qx "$NAME"; then
    step "cluster $NAME: trusting it by token"
    token=$(in_m "${NAME}1" lxc config trust add --name nestctl-lab --quiet)
    lxc remote add "$NAME" "$token" </dev/null >/dev/null
  fi
  [[ $(lxc query "$NAME:/1.0/cluster/members?recursion=1" </dev/null | grep -c '"status": "Online"') -eq 3 ]] || die "cluster $NAME: not all three members are online"
  info "cluster $NAME ready (${NAME}1 ${NAME}2 ${NAME}3) in $(elapsed "$t0")"
}

down() {
  if lxc remote list --format csv </dev/null | cut -d, -f1 | grep -qx "$NAME"; then lxc remote remove "$NAME" </dev/null; fi
  for i in 1 2 3; do lxc delete --force "$NAME$i" </dev/null >/dev/null 2>&1 || true; done
}

lab_name=cluster
case ${1:-} in
  up)
    [[ $# -eq 6 ]] || die "usage: cluster.sh up NAME ADDR1 ADDR2 ADDR3 INNER_CIDR"
    NAME=$2 ADDR1=$3 ADDR2=$4 ADDR3=$5 INNER_CIDR=$6
    up
    ;;
  down)
    [[ $# -eq 2 ]] || die "usage: cluster.sh down NAME"
    NAME=$2
    down
    ;;
  *) die "usage: cluster.sh up NAME ADDR1 ADDR2 ADDR3 INNER_CIDR | down NAME" ;;
esac
