// The constant scripts of classic LXC: the probe (one round trip per level that has LXC
// containers in the manifest) and the file writer. No manifest data is spliced into either:
// owners, paths and hashes are positional arguments, file contents come on stdin.

import { endMarked } from './bounded.js';
import { USERNET, USERNET_ORIGINAL } from '../../core/lxc/paths.js';
import { PROBE_MARK } from './probe-script.js';

/** The LXC writer's refusal of a file changed since the plan (as the subid writer's 3). */
export const LXC_STALE_EXIT = 3;

/** The probe's first argument that adds root and every account with containers to the owners asked about. */
export const EVERY_OWNER = '--every-owner';

/**
 * `sh -c LXC_PROBE_SCRIPT lxc-probe [--every-owner] OWNER…` ("root" or user names; with
 * --every-owner also root and each account whose ~/.local/share/lxc holds a container config,
 * each owner once). Facts in order, one a line
 * (`${PROBE_MARK} NAME STATUS BASE64`): version, apparmor, usernet, usernet_orig, then per owner
 * `owner` (its name; status absent when there is no such account), `home`, `default_conf`, and per
 * container `container` (its name), `state` (lxc-info -sH), `uid_map` (init's), `config`.
 * core/observe/parse-lxc.ts reads it.
 */
export const LXC_PROBE_SCRIPT = endMarked(`
sec() { printf '${PROBE_MARK} %s %s ' "$1" "$2"; }
b64() { base64 -w0; echo; }
file() { if [ -f "$2" ]; then sec "$1" "$(stat -c %.9Y "$2")"; base64 -w0 < "$2"; echo; else sec "$1" absent; echo; fi; }
if command -v lxc-ls >/dev/null 2>&1; then sec version ok; lxc-ls --version 2>/dev/null | b64; else sec version absent; echo; fi
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then sec apparmor yes; else sec apparmor no; fi; echo
file usernet ${USERNET}
file usernet_orig ${USERNET_ORIGINAL}
if [ "\${1:-}" = ${EVERY_OWNER} ]; then
  shift
  found=$(getent passwd | while IFS=: read -r name _ _ _ _ home _; do for c in "$home"/.local/share/lxc/*/config; do if [ -f "$c" ]; then printf '%s\\n' "$name"; break; fi; done; done)
  extra=
  set -f
  for u in root $found; do
    case " $* $extra " in *" $u "*) ;; *) extra="$extra $u" ;; esac
  done
  set -- "$@" $extra
  set +f
fi
for o in "$@"; do
  if [ "$o" = root ]; then home=/root; dir=/var/lib/lxc
  else
    home=$(getent passwd "$o" | cut -d: -f6)
    if [ -z "$home" ]; then sec owner absent; printf '%s' "$o" | b64; continue; fi
    dir=$home/.local/share/lxc
  fi
  sec owner ok; printf '%s' "$o" | b64
  sec home ok; printf '%s' "$home" | b64
  [ "$o" = root ] || file default_conf "$home/.config/lxc/default.conf"
  for c in "$dir"/*/config; do
    [ -f "$c" ] || continue
    n=\${c%/config}; n=\${n##*/}
    sec container ok; printf '%s' "$n" | b64
    sec state ok; lxc-info -P "$dir" -n "$n" -sH 2>/dev/null | b64
    pid=$(lxc-info -P "$dir" -n "$n" -pH 2>/dev/null)
    if [ -n "$pid" ] && [ -r "/proc/$pid/uid_map" ]; then file uid_map "/proc/$pid/uid_map"; else sec uid_map absent; echo; fi
    file config "$c"
  done
done
`);

/**
 * `sh -c WRITE_LXC_FILE_SCRIPT nestctl-write-lxc-file FILE SHA256|absent keep|forget [ORIG]`,
 * the text on stdin, run as the file's owner. Refuses a symlink and a file whose sha256 is not
 * the planned one (exit 3); creates the directory; with ORIG, the first write keeps the file
 * there (empty when it was absent) and `forget` removes that record; writes a temp file with the
 * old file's mode, syncs it and renames it over.
 */
export const WRITE_LXC_FILE_SCRIPT = endMarked(`
f=$1; expected=$2; forget=\${3:-keep}; orig=\${4:-}
if [ -L "$f" ]; then echo "refusing to write $f: it is a symbolic link" >&2; exit ${LXC_STALE_EXIT}; fi
if [ -e "$f" ]; then now=$(sha256sum < "$f" | cut -d' ' -f1); else now=absent; fi
if [ "$now" != "$expected" ]; then echo "plan is stale: $f changed since it was planned (sha256 $now, planned $expected)" >&2; exit ${LXC_STALE_EXIT}; fi
dir=$(dirname -- "$f")
mkdir -p -- "$dir" || exit 1
tmp=$(mktemp "$f.nestctl.XXXXXX") || exit 1
if ! cat > "$tmp"; then rm -f -- "$tmp"; exit 1; fi
if [ -e "$f" ]; then chmod --reference="$f" -- "$tmp"; else chmod 0644 -- "$tmp"; fi
if [ -n "$orig" ]; then
  if [ "$forget" = forget ]; then rm -f -- "$orig"
  elif [ ! -e "$orig" ]; then mkdir -p -- "$(dirname -- "$orig")" && { if [ -e "$f" ]; then cp -p -- "$f" "$orig"; else : > "$orig"; fi; } || exit 1
  fi
fi
sync -- "$tmp" 2>/dev/null
mv -f -- "$tmp" "$f"
`);
