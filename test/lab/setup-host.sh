#!/usr/bin/env bash
# Prepare this Debian 12 machine as a real-LXD lab host for nestctl:
#   1. install the Debian packages (apt-get update only when needed),
#   2. start the host LXD daemon by hand if it does not answer (PID 1 is not systemd),
#   3. `lxd init --preseed` if the host LXD has no storage pool yet,
#   4. build (once, cached in /var/cache/nestctl-lab) and import two images:
#        busybox  - a ~1 MB leaf image (busybox-static, /sbin/init sleeps),
#        nest     - Debian bookworm minbase + LXD, for levels that host children,
#        nest-tools - nest + Docker (docker.io) + classic LXC (lxc, busybox-static), for
#                   containers that run Docker or LXC inside (NESTCTL_LAB_TOOLS=0 skips it).
#   5. with NESTCTL_LAB_INCUS=1 (opt-in; default off), Incus beside LXD:
#        install incus-base from bookworm-backports, start the host incusd by hand if it
#        does not answer, `incus admin init --preseed` (dir pool, bridge incusbr0) if it
#        has no storage pool, build (cached) the image nest-incus (Debian bookworm minbase
#        + Incus) and import it and busybox into Incus under aliases nest-incus, busybox.
# Idempotent: rerun it freely. Works with no stdin (CI).
# Environment overrides: NESTCTL_LAB_CACHE, NESTCTL_LAB_MIRROR, NESTCTL_LAB_BRIDGE_CIDR,
# NESTCTL_LAB_LXD_LOG, NESTCTL_LAB_REBUILD=1 (ignore the cache and rebuild the images),
# NESTCTL_LAB_INCUS=1 (also set up Incus, step 5), NESTCTL_LAB_INCUS_BRIDGE_CIDR (incusbr0,
# default 10.67.0.1/24), NESTCTL_LAB_INCUS_LOG, NESTCTL_LAB_LXD=0 (skip steps 2-4: leave the
# host LXD alone, e.g. to set up only Incus while another session uses LXD).
set -euo pipefail
LAB_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=lib.sh
. "$LAB_DIR/lib.sh"

export DEBIAN_FRONTEND=noninteractive
LAB_CACHE=${NESTCTL_LAB_CACHE:-/var/cache/nestctl-lab}
LAB_MIRROR=${NESTCTL_LAB_MIRROR:-http://deb.debian.org/debian}
LAB_SUITE=bookworm
LAB_BRIDGE_CIDR=${NESTCTL_LAB_BRIDGE_CIDR:-10.66.0.1/24}
LAB_LXD=${NESTCTL_LAB_LXD:-1}
LAB_INCUS=${NESTCTL_LAB_INCUS:-0}
LAB_TOOLS=${NESTCTL_LAB_TOOLS:-1}
LAB_INCUS_BRIDGE=incusbr0
LAB_INCUS_BRIDGE_CIDR=${NESTCTL_LAB_INCUS_BRIDGE_CIDR:-10.67.0.1/24}
[[ $LAB_LXD == [01] && $LAB_INCUS == [01] && $LAB_TOOLS == [01] ]] ||
  die "NESTCTL_LAB_LXD, NESTCTL_LAB_INCUS and NESTCTL_LAB_TOOLS take 0 or 1 (got '$LAB_LXD', '$LAB_INCUS', '$LAB_TOOLS')"

HOST_PACKAGES=(lxd lxd-client uidmap lxc iptables nftables dnsmasq-base debootstrap busybox-static
  squashfs-tools xz-utils ca-certificates)

# What goes into the nesting image. Changing anything here (or in the build
# functions below) changes the cache key, so the image is rebuilt and re-imported.
NEST_INCLUDE=lxd,lxd-client,uidmap,systemd-sysv,dbus,iproute2,procps,kmod,iptables,nftables,dnsmasq-base,squashfs-tools,xz-utils
RECIPE_VERSION=1
# nest-tools = nest plus these (Docker's engine, classic LXC and what its busybox template copies)
NEST_TOOLS_EXTRA=docker.io,lxc,busybox-static

# Incus is not in bookworm itself: incus-base (containers only; `incus` adds QEMU) comes
# from bookworm-backports, on the host and inside nest-incus.
LAB_BACKPORTS=$LAB_SUITE-backports
LAB_BACKPORTS_LIST=/etc/apt/sources.list.d/nestctl-lab-backports.sources
NEST_INCUS_INCLUDE=uidmap,systemd-sysv,dbus,iproute2,procps,kmod,iptables,nftables,dnsmasq-base,squashfs-tools,xz-utils

T_ALL=$(now)

# ---------------------------------------------------------------------------
# 1. packages
# ---------------------------------------------------------------------------
missing_packages() { # PKG...
  local p
  for p in "$@"; do
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true) == installed ]] || echo "$p"
  done
}

# install_packages RELEASE PKG... (RELEASE: an apt target release such as bookworm-backports,
# or "" for the default); NEED_UPDATE=1 forces one apt-get update first (a new source).
NEED_UPDATE=0
install_packages() {
  local release=$1 t0 missing
  shift
  t0=$(now)
  mapfile -t missing < <(missing_packages "$@")
  if [[ ${#missing[@]} -eq 0 ]]; then
    step "packages: all present"
    return
  fi
  step "packages: installing ${missing[*]}"
  local need_update=$NEED_UPDATE p target=()
  [[ -z $release ]] || target=(-t "$release")
  for p in "${missing[@]}"; do
    # (no `| grep -q`: with pipefail, grep closing the pipe early fails the test)
    [[ $(apt-cache policy "$p" 2>/dev/null) == *"Candidate: "[!\(]* ]] || need_update=1
  done
  if ((need_update)); then
    info "apt-get update"
    apt-get update -q >/dev/null
  fi
  if ! apt-get install -y -q --no-install-recommends "${target[@]}" "${missing[@]}" >/tmp/nestctl-lab-apt.log 2>&1; then
    # stale package lists (404 on a superseded version): refresh once and retry
    info "install failed; apt-get update and retry"
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${target[@]}" "${missing[@]}" >/tmp/nestctl-lab-apt.log 2>&1 ||
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
POLICY_RC=
cleanup() {
  if [[ -n $POLICY_RC ]]; then rm -f "$POLICY_RC"; fi
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

  # keep the image small (and small when things get installed later), drop identity
  trim_rootfs "$root" nest

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

# --- nest-tools: nest + Docker + classic LXC ------------------------------------------
# The same build as nest with more packages; the cgroup fix-up is also ordered before
# containerd and docker (Docker fails to start on the same missing cpuacct hierarchy).
build_nest_tools_rootfs() {
  local root=$1 meta=$2 u
  NEST_INCLUDE=$NEST_INCLUDE,$NEST_TOOLS_EXTRA build_nest_rootfs "$root" "$meta"
  printf '%s' "${CGROUP_FIX_UNIT/lxd-containers.service/lxd-containers.service containerd.service docker.service}" \
    >"$root/etc/systemd/system/lab-cgroup-fix.service"
  # lxc.service (LXC's boot-time autostart) waits 30 s for a network this image never configures;
  # nestctl starts its containers itself.
  chroot "$root" systemctl disable lxc.service >/dev/null 2>&1
  [[ -x $root/usr/sbin/dockerd && -x $root/usr/bin/lxc-create && -x $root/bin/busybox ]] ||
    die "nest-tools rootfs lacks dockerd, lxc-create or busybox"
  [[ -e $root/usr/share/lxc/templates/lxc-busybox ]] || die "nest-tools rootfs lacks the lxc busybox template"
  for u in docker.service containerd.service; do
    [[ $(chroot "$root" systemctl is-enabled "$u" 2>/dev/null || true) == enabled ]] || die "nest-tools rootfs: $u not enabled"
  done
}

# --- nest-incus: Debian minbase + incus-base from backports ---------------------------
# (build_nest_rootfs keeps its own inline copy of the trimming and the name templates:
# its text is the nest image's cache key, and changing it would rebuild and re-import an
# identical nest image on every lab host.)

# backports_source MIRROR: the deb822 source for bookworm-backports.
backports_source() {
  printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
    "$1" "$LAB_BACKPORTS" /usr/share/keyrings/debian-archive-keyring.gpg
}

# The host's own Debian mirror (first URIs: of debian.sources) unless NESTCTL_LAB_MIRROR says.
host_mirror() {
  local m=${NESTCTL_LAB_MIRROR:-}
  [[ -n $m ]] || m=$(awk '$1 == "URIs:" { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  echo "${m:-$LAB_MIRROR}"
}

# without_service_starts ROOT CMD...: run CMD while ROOT/usr/sbin/policy-rc.d forbids
# invoke-rc.d to start services (incus-base's postinst runs `invoke-rc.d incus start`
# when systemd is not PID 1: on the lab host and in a chroot). A policy-rc.d already
# there (container-built hosts ship one with `exit 101`) is kept if it denies too.
without_service_starts() {
  local root=$1 rc=0
  shift
  if [[ -e $root/usr/sbin/policy-rc.d ]]; then
    grep -qx 'exit 101' "$root/usr/sbin/policy-rc.d" ||
      die "$root/usr/sbin/policy-rc.d may allow service starts; not replacing it"
    "$@"
    return
  fi
  POLICY_RC=$root/usr/sbin/policy-rc.d
  printf '#!/bin/sh\n# nestctl lab: no service starts during this install\nexit 101\n' >"$POLICY_RC"
  chmod 755 "$POLICY_RC"
  "$@" || rc=$?
  rm -f "$POLICY_RC"
  POLICY_RC=
  return "$rc"
}

# trim_rootfs ROOT HOSTNAME: drop docs, man pages, locales, apt lists and caches, devices
# and identity from the image tree ROOT (never the host: ROOT must be a build directory).
trim_rootfs() {
  local root=$1 name=$2
  [[ $root == "$LAB_CACHE"/.build-* && -d $root/etc ]] || die "trim_rootfs: $root is not an image build tree"
  cat >"$root/etc/dpkg/dpkg.cfg.d/01-nestctl-lab-nodoc" <<'NODOC'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
NODOC
  chroot "$root" apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log \
    "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old
  find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/man/* "$root"/usr/share/info/*
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
  # devices come from the container manager; identity comes from the first boot
  # shellcheck disable=SC2115 # root was checked above to be a build tree
  rm -rf --one-file-system "$root"/dev/* "$root"/run/*
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"
  printf '%s\n' "$name" >"$root/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost ip6-localhost ip6-loopback\n' "$name" >"$root/etc/hosts"
}

# hostname and hosts follow the container name (image templates, same syntax in LXD and Incus)
write_name_templates() { # META_DIR
  local meta=$1
  mkdir -p "$meta/templates"
  printf '{{ container.name }}\n' >"$meta/templates/hostname.tpl"
  printf '127.0.0.1 localhost\n127.0.1.1 {{ container.name }}\n::1 localhost ip6-localhost ip6-loopback\n' \
    >"$meta/templates/hosts.tpl"
  cat >>"$meta/metadata.yaml" <<'TEMPLATES'
templates:
  /etc/hostname:
    when: [create, copy]
    template: hostname.tpl
  /etc/hosts:
    when: [create, copy]
    template: hosts.tpl
TEMPLATES
}

build_nest_incus_rootfs() {
  local root=$1 meta=$2 u
  debootstrap --variant=minbase --include="$NEST_INCUS_INCLUDE" "$LAB_SUITE" "$root" "$LAB_MIRROR" \
    >"$LAB_CACHE/debootstrap-incus.log" 2>&1 ||
    { tail -20 "$LAB_CACHE/debootstrap-incus.log" >&2; die "debootstrap failed (log: $LAB_CACHE/debootstrap-incus.log)"; }

  backports_source "$LAB_MIRROR" >"$root$LAB_BACKPORTS_LIST"
  mount -t proc proc "$root/proc"
  mount -t sysfs sysfs "$root/sys"
  if ! {
    chroot "$root" apt-get update -q &&
      without_service_starts "$root" chroot "$root" \
        apt-get install -y -q --no-install-recommends -t "$LAB_BACKPORTS" incus-base
  } >"$LAB_CACHE/incus-chroot-apt.log" 2>&1; then
    umount "$root/sys" "$root/proc"
    tail -20 "$LAB_CACHE/incus-chroot-apt.log" >&2
    die "incus-base install in the chroot failed (log: $LAB_CACHE/incus-chroot-apt.log)"
  fi
  umount "$root/sys" "$root/proc"

  printf '%s' "$CGROUP_FIX_SCRIPT" >"$root/usr/local/sbin/lab-cgroup-fix"
  chmod 755 "$root/usr/local/sbin/lab-cgroup-fix"
  printf '%s' "${CGROUP_FIX_UNIT/lxd.socket lxd.service lxd-containers.service/incus.socket incus.service incus-startup.service}" \
    >"$root/etc/systemd/system/lab-cgroup-fix.service"
  # incus as Debian ships it: incus.socket (the daemon is socket-activated), incus.service
  # and incus-startup.service enabled by the postinst; no network configuration (see nest).
  chroot "$root" systemctl enable lab-cgroup-fix.service incus.socket >/dev/null 2>&1

  trim_rootfs "$root" nest
  write_name_templates "$meta"

  # sanity: what the lab relies on
  [[ -x $root/usr/libexec/incus/incusd && -x $root/usr/bin/incus && -x $root/usr/sbin/ip ]] ||
    die "nest-incus rootfs lacks incusd, incus or ip"
  grep -q 'incus.socket incus.service' "$root/etc/systemd/system/lab-cgroup-fix.service" ||
    die "nest-incus rootfs: cgroup fix unit not ordered before incus"
  # incus-base's postinst gives root a billion ids when it has no line (debian/incus-base.postinst);
  # nestctl replaces that line, as it replaces LXD's default one in nest.
  grep -qx 'root:1000000:1000000000' "$root/etc/subuid" || die "nest-incus rootfs: unexpected /etc/subuid"
  grep -qx 'root:1000000:1000000000' "$root/etc/subgid" || die "nest-incus rootfs: unexpected /etc/subgid"
  for u in incus.socket lab-cgroup-fix.service; do
    [[ $(chroot "$root" systemctl is-enabled "$u" 2>/dev/null || true) == enabled ]] || die "nest-incus rootfs: $u not enabled"
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
        declare -f build_nest_rootfs trim_rootfs
        printf '%s' "$CGROUP_FIX_SCRIPT" "$CGROUP_FIX_UNIT"
        ;;
      nest-tools)
        echo "$NEST_INCLUDE $NEST_TOOLS_EXTRA"
        declare -f build_nest_rootfs build_nest_tools_rootfs trim_rootfs
        printf '%s' "$CGROUP_FIX_SCRIPT" "$CGROUP_FIX_UNIT"
        ;;
      nest-incus)
        echo "$NEST_INCUS_INCLUDE $LAB_BACKPORTS"
        declare -f backports_source without_service_starts trim_rootfs write_name_templates build_nest_incus_rootfs
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
    step "$client image $name: cached build $dir"
    IMG_DIR=$dir
    return
  fi
  t0=$(now)
  step "$client image $name: building (recipe $key)"
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
    nest-tools)
      write_metadata "$BUILD_DIR/meta" debian "$LAB_SUITE" "nestctl lab nesting image (Debian $LAB_SUITE minbase + LXD, Docker, LXC)" "$key"
      build_nest_tools_rootfs "$BUILD_DIR/rootfs" "$BUILD_DIR/meta"
      ;;
    nest-incus)
      write_metadata "$BUILD_DIR/meta" debian "$LAB_SUITE" "nestctl lab nesting image (Debian $LAB_SUITE minbase + Incus)" "$key"
      build_nest_incus_rootfs "$BUILD_DIR/rootfs" "$BUILD_DIR/meta"
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
  # (only NAME-<key>: "nest-*" alone would also match the nest-incus builds)
  for old in "$LAB_CACHE/$name"-*; do
    [[ $old == "$dir" || ! -d $old || ! ${old#"$LAB_CACHE/$name"-} =~ ^[0-9a-f]{16}$ ]] || remove_tree "$old"
  done
  info "$name: built in $(elapsed "$t0"): $(du -h "$dir/rootfs.tar.gz" | cut -f1) gzipped, fingerprint $(cut -c1-12 "$dir/fingerprint")"
  IMG_DIR=$dir
}

# import_image CLIENT NAME DIR: make alias NAME point at the cached build in the image store
# of CLIENT (lxc, or incus: same image commands and csv columns).
import_image() {
  local client=$1 name=$2 dir=$3 fp current t0
  fp=$(cat "$dir/fingerprint")
  current=$("$client" image alias list --format csv </dev/null | awk -F, -v a="$name" '$1 == a { print $2 }')
  if [[ -n $current && $fp == "$current"* ]]; then
    step "$client image $name: alias present (${fp:0:12})"
    return
  fi
  t0=$(now)
  if [[ -n $current ]]; then
    info "$name: alias points at $current (another build); moving it"
    "$client" image alias delete "$name" </dev/null
  fi
  if "$client" image info "$fp" >/dev/null 2>&1 </dev/null; then
    "$client" image alias create "$name" "$fp" </dev/null
  else
    step "$client image $name: importing ${fp:0:12}"
    "$client" image import -q "$dir/meta.tar.gz" "$dir/rootfs.tar.gz" --alias "$name" </dev/null
  fi
  # drop the superseded lab build (only ours: it carries the recipe property)
  if [[ -n $current ]]; then
    local old_json
    old_json=$("$client" query "/1.0/images/$current" 2>/dev/null </dev/null || true)
    if [[ $old_json == *'"nestctl.lab.recipe"'* && $old_json != *'"name"'* ]]; then
      "$client" image delete "$current" </dev/null && info "$name: deleted superseded image $current"
    fi
  fi
  info "$name: imported in $(elapsed "$t0")"
}

# ---------------------------------------------------------------------------
# 5. Incus (opt-in)
# ---------------------------------------------------------------------------
install_incus() {
  local src
  # incus-base's postinst (debian/incus-base.postinst) adds root:<next>:1000000000 to
  # /etc/subuid and /etc/subgid when root has no line there; the lab never lets it.
  if ! grep -q '^root:' /etc/subuid || ! grep -q '^root:' /etc/subgid; then
    die "root has no line in /etc/subuid or /etc/subgid: installing incus-base would add a billion-id one; give root its line first"
  fi
  src=$(backports_source "$(host_mirror)")
  if [[ $(cat "$LAB_BACKPORTS_LIST" 2>/dev/null || true) != "$src" ]]; then
    step "incus: adding the $LAB_BACKPORTS source ($LAB_BACKPORTS_LIST)"
    printf '%s\n' "$src" >"$LAB_BACKPORTS_LIST"
    NEED_UPDATE=1
  fi
  # no systemd here: keep the postinst from starting incusd via /etc/init.d/incus (group
  # incus-admin, its own log); incus_ensure_running starts it the lab way
  without_service_starts "" install_packages "$LAB_BACKPORTS" incus-base
  NEED_UPDATE=0
}

ensure_incus_daemon() {
  local t0
  t0=$(now)
  step "incus: ensuring the host incusd runs"
  incus_ensure_running
  info "incus $(incus --version </dev/null) ready (pid $(incus_daemon_pids | tr '\n' ' ' | sed 's/ $//')) in $(elapsed "$t0")"
}

ensure_incus_init() {
  local t0 pools
  t0=$(now)
  pools=$(incus storage list --format csv </dev/null | cut -d, -f1 | tr '\n' ' ' | sed 's/ $//')
  if [[ -n $pools ]]; then
    step "incus: already has a storage pool ($pools); leaving it as it is"
    return
  fi
  step "incus: incus admin init --preseed (dir pool default, bridge $LAB_INCUS_BRIDGE $LAB_INCUS_BRIDGE_CIDR)"
  lab_preseed "$LAB_INCUS_BRIDGE_CIDR" "$LAB_INCUS_BRIDGE" | incus admin init --preseed
  info "incus init done in $(elapsed "$t0")"
}

# setup_images CLIENT IMAGE...: build (or take from the cache) and import each image.
setup_images() {
  local client=$1 img t0
  shift
  for img in "$@"; do
    t0=$(now)
    build_image "$img"
    import_image "$client" "$img" "$IMG_DIR"
    info "image $img ready in $client in $(elapsed "$t0")"
  done
}

install_packages "" "${HOST_PACKAGES[@]}"
if ((LAB_LXD)); then
  ensure_daemon
  ensure_init
  setup_images lxc busybox nest
  if ((LAB_TOOLS)); then setup_images lxc nest-tools; fi
fi
if ((LAB_INCUS)); then
  install_incus
  ensure_incus_daemon
  ensure_incus_init
  setup_images incus busybox nest-incus
fi
summary=()
if ((LAB_LXD)); then
  summary+=("lxd $(lxd --version), images: $(lxc image alias list --format csv </dev/null | cut -d, -f1 | tr '\n' ' ')")
fi
if ((LAB_INCUS)); then
  summary+=("incus $(incus --version </dev/null), images: $(incus image alias list --format csv </dev/null | cut -d, -f1 | tr '\n' ' ')")
fi
step "lab host ready in $(elapsed "$T_ALL"): $(IFS=';'; echo "${summary[*]}")"
