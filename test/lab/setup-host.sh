#!/usr/bin/env bash
# Prepare this Debian 12 machine as a real-LXD lab host for nestctl:
#   1. install the Debian packages (apt-get update only when needed),
#   2. start the host LXD daemon by hand if it does not answer (PID 1 is not systemd),
#   3. `lxd init --preseed` if the host LXD has no storage pool yet,
#   4. build (once, cached in /var/cache/nestctl-lab) and import two images:
#        busybox  - a ~1 MB leaf image (busybox-static, /sbin/init sleeps),
#        nest     - Debian bookworm minbase + LXD, for levels that host children.
# Idempotent: rerun it freely. Works with no stdin (CI).
# Environment overrides: NESTCTL_LAB_CACHE, NESTCTL_LAB_MIRROR, NESTCTL_LAB_BRIDGE_CIDR,
# NESTCTL_LAB_LXD_LOG, NESTCTL_LAB_REBUILD=1 (ignore the cache and rebuild both images).
set -euo pipefail
LAB_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
. "$LAB_DIR/lib.sh"

export DEBIAN_FRONTEND=noninteractive
LAB_CACHE=${NESTCTL_LAB_CACHE:-/var/cache/nestctl-lab}
LAB_MIRROR=${NESTCTL_LAB_MIRROR:-http://deb.debian.org/debian}
LAB_SUITE=bookworm
LAB_BRIDGE_CIDR=${NESTCTL_LAB_BRIDGE_CIDR:-10.66.0.1/24}

HOST_PACKAGES=(lxd lxd-client uidmap iptables nftables dnsmasq-base debootstrap busybox-static
  squashfs-tools xz-utils ca-certificates)

# What goes into the nesting image. Changing anything here (or in the build
# functions below) changes the cache key, so the image is rebuilt and re-imported.
NEST_INCLUDE=lxd,lxd-client,uidmap,systemd-sysv,dbus,iproute2,procps,kmod,iptables,nftables,dnsmasq-base,squashfs-tools,xz-utils
RECIPE_VERSION=1

T_ALL=$(now)

# ---------------------------------------------------------------------------
# 1. packages
# ---------------------------------------------------------------------------
missing_packages() {
  local p
  for p in "${HOST_PACKAGES[@]}"; do
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true) == installed ]] || echo "$p"
  done
}

install_packages() {
  local t0 missing
  t0=$(now)
  mapfile -t missing < <(missing_packages)
  if [[ ${#missing[@]} -eq 0 ]]; then
    step "packages: all present"
    return
  fi
  step "packages: installing ${missing[*]}"
  local need_update=0 p
  for p in "${missing[@]}"; do
    # (no `| grep -q`: with pipefail, grep closing the pipe early fails the test)
    [[ $(apt-cache policy "$p" 2>/dev/null) == *"Candidate: "[!\(]* ]] || need_update=1
  done
  if ((need_update)); then
    info "apt-get update"
    apt-get update -q >/dev/null
  fi
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/nestctl-lab-apt.log 2>&1; then
    # stale package lists (404 on a superseded version): refresh once and retry
    info "install failed; apt-get update and retry"
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/nestctl-lab-apt.log 2>&1 ||
      { tail -20 /tmp/nestctl-lab-apt.log >&2; die "apt-get install failed (log: /tmp/nestctl-lab-apt.log)"; }
  fi
  info "packages done in $(elapsed "$t0")"
}

# ---------------------------------------------------------------------------
# 2./3. daemon and init
# ---------------------------------------------------------------------------
ensure_daemon() {
  local t0
  t0=$(now)
  step "daemon: ensuring the host lxd runs"
  lxd_ensure_running
  lxc query /1.0 >/dev/null 2>&1 </dev/null || true # first lxc run prints a greeting on stderr
  info "lxd $(lxd --version) ready (pid $(lxd_daemon_pids | tr '\n' ' ' | sed 's/ $//')) in $(elapsed "$t0")"
}

ensure_init() {
  local t0
  t0=$(now)
  if [[ -n $(lxc storage list --format csv </dev/null) ]]; then
    step "init: host LXD already has a storage pool ($(lxc storage list --format csv </dev/null | cut -d, -f1 | tr '\n' ' ' | sed 's/ $//')); leaving it as it is"
    return
  fi
  step "init: lxd init --preseed (dir pool default, bridge lxdbr0 $LAB_BRIDGE_CIDR)"
  lab_preseed "$LAB_BRIDGE_CIDR" | lxd init --preseed
  info "init done in $(elapsed "$t0")"
}

# ---------------------------------------------------------------------------
# 4. images
# ---------------------------------------------------------------------------

# Unmount anything left mounted below DIR (deepest first), then remove DIR.
remove_tree() {
  local dir=$1 m
  [[ -e $dir ]] || return 0
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$dir/" 'index($2"/", d) == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}

BUILD_DIR=
cleanup() {
  if [[ -n $BUILD_DIR ]]; then remove_tree "$BUILD_DIR"; fi
}
trap cleanup EXIT

# write_metadata DIR OS RELEASE DESCRIPTION KEY [templates...]
write_metadata() {
  local dir=$1 os=$2 release=$3 desc=$4 key=$5
  mkdir -p "$dir"
  cat >"$dir/metadata.yaml" <<EOF
architecture: $(uname -m)
creation_date: 1700000000
properties:
  architecture: $(uname -m)
  description: "$desc"
  os: $os
  release: $release
  nestctl.lab.recipe: "$key"
EOF
}

# pack_image SRC_META_DIR SRC_ROOTFS OUT_DIR
pack_image() {
  local meta=$1 rootfs=$2 out=$3
  mkdir -p "$out"
  tar --numeric-owner -C "$meta" -czf "$out/meta.tar.gz" .
  tar --numeric-owner --xattrs --xattrs-include='*' -C "$rootfs" -cf - . | gzip -6 >"$out/rootfs.tar.gz"
  cat "$out/meta.tar.gz" "$out/rootfs.tar.gz" | sha256sum | cut -d' ' -f1 >"$out/fingerprint"
}

build_busybox_rootfs() {
  local root=$1 applet
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,run,root,var/tmp,var/log}
  chmod 1777 "$root/tmp" "$root/var/tmp"
  chmod 700 "$root/root"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [[ $applet == busybox || $applet == init ]] && continue
    ln -sf busybox "$root/bin/$applet"
  done
  cat >"$root/sbin/init" <<'EOF'
#!/bin/sh
# nestctl lab leaf init: do nothing until told to stop (SIGPWR is LXD's halt signal).
trap 'kill $pid 2>/dev/null; exit 0' PWR TERM INT
while :; do
  sleep 3600 &
  pid=$!
  wait $pid
done
EOF
  chmod 755 "$root/sbin/init"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\n' >"$root/etc/group"
  printf 'busybox\n' >"$root/etc/hostname"
}

# The one quirk of the lab VMs (see shared LAB.md): cpu and cpuacct are separate
# cgroup v1 hierarchies; systemd in a container leaves them as symlinks to an
# empty cpu,cpuacct directory and nested LXC then fails in cgfsng. Mount every
# v1 controller of /proc/self/cgroup that has no real mount under /sys/fs/cgroup.
# shellcheck disable=SC2016 # single quotes on purpose: this is the script text
CGROUP_FIX_SCRIPT='#!/bin/sh
# nestctl lab: mount cgroup v1 controllers systemd left as symlinks (lab VMs only).
set -eu
base=/sys/fs/cgroup
[ -d "$base" ] || exit 0
mountpoint -q "$base" || exit 0
ro=0; grep -q " $base tmpfs ro[ ,]" /proc/mounts && ro=1
remounted=0
for ctrls in $(awk -F: '"'"'$1 != "0" && $2 != "" { print $2 }'"'"' /proc/self/cgroup); do
  case $ctrls in name=*) continue ;; esac
  oldifs=$IFS; IFS=,
  for c in $ctrls; do
    IFS=$oldifs
    d=$base/$c
    if mountpoint -q "$d" 2>/dev/null; then continue; fi
    if [ $remounted = 0 ]; then
      mount --options-source disable -o remount,rw "$base"
      remounted=1
    fi
    if [ -L "$d" ]; then
      target=$(readlink "$d")
      rm -f "$d"
      case $target in /*) ;; *) target=$base/$target ;; esac
      [ -d "$target" ] && ! mountpoint -q "$target" && rmdir "$target" 2>/dev/null || true
    fi
    mkdir -p "$d"
    mount -t cgroup -o "$c" cgroup "$d"
    echo "lab-cgroup-fix: mounted $c at $d"
  done
  IFS=$oldifs
done
if [ $remounted = 1 ] && [ $ro = 1 ]; then
  mount --options-source disable -o remount,ro "$base"
fi
exit 0
'

CGROUP_FIX_UNIT='[Unit]
Description=nestctl lab: mount cgroup v1 controllers left as symlinks
DefaultDependencies=no
ConditionVirtualization=container
After=systemd-remount-fs.service
Before=sysinit.target lxcfs.service lxd.socket lxd.service lxd-containers.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/lab-cgroup-fix

[Install]
WantedBy=sysinit.target
'

build_nest_rootfs() {
  local root=$1 meta=$2
  debootstrap --variant=minbase --include="$NEST_INCLUDE" "$LAB_SUITE" "$root" "$LAB_MIRROR" \
    >"$LAB_CACHE/debootstrap.log" 2>&1 ||
    { tail -20 "$LAB_CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $LAB_CACHE/debootstrap.log)"; }

  printf '%s' "$CGROUP_FIX_SCRIPT" >"$root/usr/local/sbin/lab-cgroup-fix"
  chmod 755 "$root/usr/local/sbin/lab-cgroup-fix"
  printf '%s' "$CGROUP_FIX_UNIT" >"$root/etc/systemd/system/lab-cgroup-fix.service"

  # No network configuration: the lab needs none (images travel by `lxc file push`),
  # and systemd-networkd would keep eth0 "pending" forever without udev.

  # lxd stays as Debian ships it: lxd.socket enabled, lxd.service socket-activated
  # (the first lxc call or `lxd waitready` starts it), lxd-containers.service
  # starts it at boot when it has instances to bring back.
  chroot "$root" systemctl enable lab-cgroup-fix.service lxd.socket lxd-containers.service >/dev/null 2>&1

  # keep the image small, and keep it small when things get installed later
  cat >"$root/etc/dpkg/dpkg.cfg.d/01-nestctl-lab-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log \
    "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old
  find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/*
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
  # devices come from LXD; identity comes from the first boot
  rm -rf "${root:?}"/dev/* "${root:?}"/run/*
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"
  printf 'nest\n' >"$root/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 nest\n::1 localhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"

  # hostname and hosts follow the container name (LXD templates)
  mkdir -p "$meta/templates"
  printf '{{ container.name }}\n' >"$meta/templates/hostname.tpl"
  printf '127.0.0.1 localhost\n127.0.1.1 {{ container.name }}\n::1 localhost ip6-localhost ip6-loopback\n' \
    >"$meta/templates/hosts.tpl"
  cat >>"$meta/metadata.yaml" <<'EOF'
templates:
  /etc/hostname:
    when: [create, copy]
    template: hostname.tpl
  /etc/hosts:
    when: [create, copy]
    template: hosts.tpl
EOF

  # sanity: what the lab relies on
  [[ -x $root/usr/bin/lxd && -x $root/usr/sbin/ip ]] || die "nest rootfs lacks lxd or ip"
  grep -qx 'root:100000:10000001' "$root/etc/subuid" || die "nest rootfs: unexpected /etc/subuid"
  grep -qx 'root:100000:10000001' "$root/etc/subgid" || die "nest rootfs: unexpected /etc/subgid"
  local u
  for u in lxd.socket lxd-containers.service lab-cgroup-fix.service; do
    [[ $(chroot "$root" systemctl is-enabled "$u" 2>/dev/null || true) == enabled ]] || die "nest rootfs: $u not enabled"
  done
}

# Cache key: the recipe text itself (build functions, package list, fix unit).
recipe_key() {
  local name=$1
  {
    echo "$RECIPE_VERSION $LAB_SUITE $(uname -m)"
    declare -f write_metadata pack_image
    case $name in
      busybox)
        declare -f build_busybox_rootfs
        dpkg-query -W -f='${Version}' busybox-static
        ;;
      nest)
        echo "$NEST_INCLUDE"
        declare -f build_nest_rootfs
        printf '%s' "$CGROUP_FIX_SCRIPT" "$CGROUP_FIX_UNIT"
        ;;
    esac
  } | sha256sum | cut -c1-16
}

# build_image NAME -> sets IMG_DIR to the cache directory holding meta.tar.gz,
# rootfs.tar.gz and fingerprint (not printed: the EXIT trap must see BUILD_DIR).
IMG_DIR=
build_image() {
  local name=$1 key dir t0
  key=$(recipe_key "$name")
  dir=$LAB_CACHE/$name-$key
  if [[ -f $dir/fingerprint && ${NESTCTL_LAB_REBUILD:-0} != 1 ]]; then
    step "image $name: cached build $dir"
    IMG_DIR=$dir
    return
  fi
  t0=$(now)
  step "image $name: building (recipe $key)"
  mkdir -p "$LAB_CACHE"
  BUILD_DIR=$(mktemp -d "$LAB_CACHE/.build-$name.XXXXXX")
  case $name in
    busybox)
      write_metadata "$BUILD_DIR/meta" busybox "$(dpkg-query -W -f='${Version}' busybox-static)" \
        "nestctl lab busybox leaf" "$key"
      build_busybox_rootfs "$BUILD_DIR/rootfs"
      ;;
    nest)
      write_metadata "$BUILD_DIR/meta" debian "$LAB_SUITE" "nestctl lab nesting image (Debian $LAB_SUITE minbase + LXD)" "$key"
      build_nest_rootfs "$BUILD_DIR/rootfs" "$BUILD_DIR/meta"
      ;;
  esac
  info "$name: rootfs $(du -sh --apparent-size "$BUILD_DIR/rootfs" | cut -f1), packing"
  pack_image "$BUILD_DIR/meta" "$BUILD_DIR/rootfs" "$BUILD_DIR/out"
  remove_tree "$dir"
  mv "$BUILD_DIR/out" "$dir"
  remove_tree "$BUILD_DIR"
  BUILD_DIR=
  # older builds of the same image are of no further use
  local old
  for old in "$LAB_CACHE/$name"-*; do
    [[ $old == "$dir" || ! -d $old ]] || remove_tree "$old"
  done
  info "$name: built in $(elapsed "$t0"): $(du -h "$dir/rootfs.tar.gz" | cut -f1) gzipped, fingerprint $(cut -c1-12 "$dir/fingerprint")"
  IMG_DIR=$dir
}

# import_image NAME DIR: make alias NAME point at the cached build.
import_image() {
  local name=$1 dir=$2 fp current t0
  fp=$(cat "$dir/fingerprint")
  current=$(lxc image alias list --format csv </dev/null | awk -F, -v a="$name" '$1 == a { print $2 }')
  if [[ -n $current && $fp == "$current"* ]]; then
    step "image $name: alias present (${fp:0:12})"
    return
  fi
  t0=$(now)
  if [[ -n $current ]]; then
    info "$name: alias points at $current (another build); moving it"
    lxc image alias delete "$name" </dev/null
  fi
  if lxc image info "$fp" >/dev/null 2>&1 </dev/null; then
    lxc image alias create "$name" "$fp" </dev/null
  else
    step "image $name: importing ${fp:0:12}"
    lxc image import -q "$dir/meta.tar.gz" "$dir/rootfs.tar.gz" --alias "$name" </dev/null
  fi
  # drop the superseded lab build (only ours: it carries the recipe property)
  if [[ -n $current ]]; then
    local old_json
    old_json=$(lxc query "/1.0/images/$current" 2>/dev/null </dev/null || true)
    if [[ $old_json == *'"nestctl.lab.recipe"'* && $old_json != *'"name"'* ]]; then
      lxc image delete "$current" </dev/null && info "$name: deleted superseded image $current"
    fi
  fi
  info "$name: imported in $(elapsed "$t0")"
}

install_packages
ensure_daemon
ensure_init
for img in busybox nest; do
  T_IMG=$(now)
  build_image "$img"
  import_image "$img" "$IMG_DIR"
  info "image $img ready in $(elapsed "$T_IMG")"
done
step "lab host ready in $(elapsed "$T_ALL"): lxd $(lxd --version), images: $(lxc image alias list --format csv </dev/null | cut -d, -f1 | tr '\n' ' ')"
