#!/usr/bin/env bash
# Run the classic 3-level recipe (shared LAB.md) BY HAND, i.e. without nestctl,
# on this lab host, and check every level. This is the reference the product's
# e2e must reproduce; run it to prove a machine's lab works.
#
#   host : root:500000:196608 -> restart -> launch PREFIXc1 (nest, nesting) -> uid_map 0 500000 196608
#   c1   : negative check (Debian's root:100000:10000001 refuses unprivileged children),
#          root:65536:131072 -> systemctl restart lxd -> preseed 10.66.1.1/24
#          -> import nest + busybox -> launch PREFIXc2 (nest, nesting) -> 0 65536 131072
#   c2   : root:65536:65536 -> restart -> preseed 10.66.2.1/24 -> import busybox
#          -> launch PREFIXc3 (busybox) -> 0 65536 65536
#
# Needs setup-host.sh first. /etc/subuid and /etc/subgid are backed up and restored
# (and the host daemon restarted) on exit, whatever happens; PREFIXc1 is deleted.
# Usage: classic-recipe.sh [--keep] [--samples DIR]
#   --keep          leave the containers (and the edited host files!) in place
#   --samples DIR   save raw `lxc query` JSON of every level into DIR
# Env: NESTCTL_LAB_PREFIX (default lab-)
set -euo pipefail
LAB_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
. "$LAB_DIR/lib.sh"

PREFIX=${NESTCTL_LAB_PREFIX:-lab-}
C1=${PREFIX}c1 C2=${PREFIX}c2 C3=${PREFIX}c3
KEEP=0
SAMPLES=
while [[ $# -gt 0 ]]; do
  case $1 in
    --keep) KEEP=1; shift ;;
    --samples) SAMPLES=$2; shift 2 ;;
    *) die "usage: classic-recipe.sh [--keep] [--samples DIR]" ;;
  esac
done
[[ -z $SAMPLES ]] || mkdir -p "$SAMPLES"

lxd_reachable 5 || die "host LXD not reachable: run test/lab/setup-host.sh first"
for a in nest busybox; do
  lxc image info "$a" >/dev/null 2>&1 </dev/null || die "host image alias $a missing: run test/lab/setup-host.sh first"
done
if lxc info "$C1" >/dev/null 2>&1 </dev/null; then die "$C1 exists already (teardown-host.sh $C1)"; fi

PASS=0 FAIL=0
TIMES=()
check() { # check DESCRIPTION EXPECTED ACTUAL
  if [[ $2 == "$3" ]]; then
    PASS=$((PASS + 1)); info "ok   $1: $3"
  else
    FAIL=$((FAIL + 1)); info "FAIL $1: expected [$2], got [$3]"
  fi
}
timed() { # timed LABEL CMD... : run, record wall time
  local t0 rc=0 what=$1
  shift
  t0=$(now)
  "$@" || rc=$?
  TIMES+=("$(printf '%-52s %s' "$what" "$(elapsed "$t0")")")
  return $rc
}
# at LEVEL ARGV... : run argv at level 0 (host), 1 (in c1) or 2 (in c2), no stdin
at() {
  local lvl=$1; shift
  case $lvl in
    0) "$@" </dev/null ;;
    1) lxc exec "$C1" -- "$@" </dev/null ;;
    2) lxc exec "$C1" -- lxc exec "$C2" -- "$@" </dev/null ;;
  esac
}
label() { case $1 in 0) echo host ;; 1) echo "$C1" ;; 2) echo "$C2" ;; esac; }
# at_in LEVEL ARGV... : same, with our stdin
at_in() {
  local lvl=$1; shift
  case $lvl in
    0) "$@" ;;
    1) lxc exec "$C1" -- "$@" ;;
    2) lxc exec "$C1" -- lxc exec "$C2" -- "$@" ;;
  esac
}
set_root_ids() { # LEVEL START COUNT: replace root's lines (add if absent), keep the rest
  local f
  for f in /etc/subuid /etc/subgid; do
    at "$1" sh -c "grep -q '^root:' $f && sed -i 's/^root:.*/root:$2:$3/' $f || echo root:$2:$3 >>$f"
  done
}
preseed() { # LEVEL CIDR
  lab_preseed "$2" | at_in "$1" lxd init --preseed
}
sample() { # LEVEL NAME PATH
  [[ -n $SAMPLES ]] || return 0
  at "$1" lxc query "$3" >"$SAMPLES/$(label "$1")-$2.json" || true
}
samples_all() {
  sample "$1" server /1.0
  sample "$1" instances '/1.0/instances?recursion=1'
  sample "$1" images '/1.0/images?recursion=1'
  sample "$1" storage-pools /1.0/storage-pools
  sample "$1" networks '/1.0/networks?recursion=1'
  sample "$1" profile-default /1.0/profiles/default
}
# copy_image FROM_LEVEL ALIAS TO_INSTANCE: export at FROM, push into the child, import there
copy_image() {
  local from=$1 alias=$2 to=$3 dir=/root/lab-export-$2
  at "$from" rm -rf "$dir"
  at "$from" mkdir -p "$dir"
  at "$from" lxc image export -q "$alias" "$dir/" >/dev/null
  local files
  files=$(at "$from" sh -c "cd $dir && ls" | tr '\n' ' ')
  local meta="" rootfs="" f
  for f in $files; do case $f in meta-*) meta=$f ;; *) rootfs=$f ;; esac; done
  [[ -n $meta && -n $rootfs ]] || die "unexpected export of $alias: $files"
  at "$from" lxc file push -q -p "$dir/$meta" "$dir/$rootfs" "$to/root/lab-images/"
  at "$((from + 1))" lxc image import -q "/root/lab-images/$meta" "/root/lab-images/$rootfs" --alias "$alias"
  at "$((from + 1))" rm -rf /root/lab-images
  at "$from" rm -rf "$dir"
}
uid_map() { at "$1" cat /proc/self/uid_map | awk '{ print $1, $2, $3 }'; }
gid_map() { at "$1" cat /proc/self/gid_map | awk '{ print $1, $2, $3 }'; }
# probe_fresh LEVEL: what a just-launched nesting container answers
probe_fresh() {
  local lvl=$1 out rc t0
  t0=$(now)
  rc=0; out=$(at "$lvl" lxc list --format csv 2>&1) || rc=$?
  info "probe $(label "$lvl"): 'lxc list' right after launch: rc=$rc $(elapsed "$t0") [${out//$'\n'/ | }]"
  t0=$(now)
  rc=0; out=$(at "$lvl" systemctl is-system-running --wait 2>&1) || rc=$?
  info "probe $(label "$lvl"): 'systemctl is-system-running --wait': rc=$rc $(elapsed "$t0") [$out]"
  t0=$(now)
  rc=0; at "$lvl" lxd waitready --timeout 60 || rc=$?
  info "probe $(label "$lvl"): 'lxd waitready --timeout 60': rc=$rc $(elapsed "$t0")"
}

BACKUP=$(mktemp -d /var/tmp/nestctl-lab-subid.XXXXXX)
cp -a /etc/subuid /etc/subgid "$BACKUP/"
finish() {
  local rc=$?
  set +e
  if ((KEEP)); then
    step "--keep: leaving $C1 and the edited files; originals in $BACKUP"
  else
    step "cleanup: delete $C1 (and all nested), restore /etc/subuid /etc/subgid, restart lxd"
    lxc delete --force "$C1" </dev/null >/dev/null 2>&1
    cp -a "$BACKUP/subuid" /etc/subuid && cp -a "$BACKUP/subgid" /etc/subgid && rm -rf "$BACKUP"
    "$LAB_DIR/restart-lxd.sh" </dev/null | sed 's/^/    /'
  fi
  exit $rc
}
trap finish EXIT

T_ALL=$(now)
step "host: root:500000:196608, restart the host daemon"
set_root_ids 0 500000 196608
timed "host: restart-lxd.sh" "$LAB_DIR/restart-lxd.sh" </dev/null >/dev/null

step "host: launch $C1 (nest, security.nesting=true)"
timed "host: launch $C1 (nest, level 1)" lxc launch -q nest "$C1" -c security.nesting=true </dev/null
check "$C1 uid_map" "0 500000 196608" "$(uid_map 1)"
check "$C1 gid_map" "0 500000 196608" "$(gid_map 1)"
probe_fresh 1
sample 1 fresh-storage-pools /1.0/storage-pools
sample 1 fresh-networks '/1.0/networks?recursion=1'
sample 1 fresh-profile-default /1.0/profiles/default

step "$C1: init with Debian's default root:100000:10000001 (negative check)"
check "$C1 subuid root line before" "root:100000:10000001" "$(at 1 grep '^root:' /etc/subuid)"
timed "$C1: lxd init --preseed" preseed 1 10.66.1.1/24
timed "$C1: copy busybox in (export/push/import)" copy_image 0 busybox "$C1"
timed "$C1: copy nest in (export/push/import)" copy_image 0 nest "$C1"
sample 1 server-default-subid /1.0
rc=0; out=$(at 1 lxc init -q busybox "${PREFIX}neg" 2>&1) || rc=$?
info "negative: rc=$rc: $out"
check "$C1 refuses unprivileged child (rc)" 1 "$rc"
check "$C1 refusal mentions uid/gid allocation" yes "$([[ $out == *"uid/gid allocation"* ]] && echo yes || echo no)"
info "nested lxd log: $(at 1 grep -h -E 'not usable|isn.t usable|Only privileged' /var/log/lxd/lxd.log | sed 's/.*msg=//' | sort -u | tr '\n' ' ')"

step "$C1: root:65536:131072, systemctl restart lxd, launch $C2"
set_root_ids 1 65536 131072
timed "$C1: systemctl restart lxd" at 1 systemctl restart lxd
timed "$C1: lxd waitready (after restart)" at 1 lxd waitready --timeout 60
inv=$(at 1 systemctl show -p InvocationID --value lxd)
check "$C1 restarted lxd logs no 'not usable'" "" "$(at 1 journalctl -q --no-pager "_SYSTEMD_INVOCATION_ID=$inv" | grep -E "isn.t usable|not usable" || true)"
timed "$C1: launch $C2 (nest, level 2)" at 1 lxc launch -q nest "$C2" -c security.nesting=true
check "$C2 uid_map" "0 65536 131072" "$(uid_map 2)"
check "$C2 gid_map" "0 65536 131072" "$(gid_map 2)"
probe_fresh 2

step "$C2: root:65536:65536, restart, init, import busybox, launch $C3"
set_root_ids 2 65536 65536
timed "$C2: systemctl restart lxd" at 2 systemctl restart lxd
timed "$C2: lxd init --preseed" preseed 2 10.66.2.1/24
timed "$C2: copy busybox in (from $C1)" copy_image 1 busybox "$C2"
timed "$C2: launch $C3 (busybox, level 3)" at 2 lxc launch -q busybox "$C3"
check "$C3 uid_map" "0 65536 65536" "$(at 2 lxc exec "$C3" -- cat /proc/self/uid_map | awk '{ print $1, $2, $3 }')"

step "restarts keep children running"
pid2=$(at 1 lxc query "/1.0/instances/$C2/state" | tr -d ' \t\n' | grep -o '"pid":[0-9]*' | head -1)
at 1 systemctl restart lxd
check "$C2 same init pid after 'systemctl restart lxd' in $C1" "$pid2" \
  "$(at 1 lxc query "/1.0/instances/$C2/state" | tr -d ' \t\n' | grep -o '"pid":[0-9]*' | head -1)"
pid1=$(lxc query "/1.0/instances/$C1/state" </dev/null | tr -d ' \t\n' | grep -o '"pid":[0-9]*' | head -1)
"$LAB_DIR/restart-lxd.sh" </dev/null >/dev/null
check "$C1 same init pid after host restart-lxd.sh" "$pid1" \
  "$(lxc query "/1.0/instances/$C1/state" </dev/null | tr -d ' \t\n' | grep -o '"pid":[0-9]*' | head -1)"

step "exec chains"
for i in 1 2 3; do
  timed "exec: lxc exec $C1 -- true (#$i)" at 1 true
  timed "exec: ... $C2 -- true (#$i)" at 2 true
  timed "exec: ... $C3 -- true (#$i)" at 2 lxc exec "$C3" -- true
done
rc=0; at 2 lxc exec "$C3" -- sh -c 'exit 42' || rc=$?
check "exit code through 3 levels" 42 "$rc"
rc=0; at 2 lxc exec "$C3" -- nosuchcommand 2>/dev/null || rc=$?
check "command not found through 3 levels" 127 "$rc"

for l in 0 1 2; do samples_all "$l"; done
[[ -z $SAMPLES ]] || info "raw samples in $SAMPLES"

step "timings"
for t in "${TIMES[@]}"; do info "$t"; done
step "classic recipe done in $(elapsed "$T_ALL")"
printf '%d passed, %d failed\n' "$PASS" "$FAIL"
((FAIL == 0))
