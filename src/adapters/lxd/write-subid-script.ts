// Replace /etc/subuid or /etc/subgid the way shadow's tools would, at any nesting level.
// New text on stdin; positional arguments of this constant script (no data is ever code):
//   $1 the file, $2 its planned sha256 (or "absent"), $3 keep|forget (forget = a restore: drop
//   the .orig record, and an empty text is allowed), $4 the entry lines the new text must
//   contain, one a line (every owner's: entryLines; "" = none planned), $5 where .orig records live
//   (tests point it elsewhere).
// Steps: refuse a symlink; take FILE.lock by link(2) like shadow's commonio lock (lib/commonio.c
// do_lock_file: write our pid to FILE.PID, link it to FILE.lock; a lock whose pid no longer
// exists is removed and retried, as shadow does when kill(pid, 0) fails with ESRCH); refuse a
// file changed since it was planned; refuse a new text that is not a whole subid file (the same
// rules as core/subid/check-text.ts, which the simulator applies); keep a backup FILE- and the
// first-ever original; write a temp file with the same mode and owner, fsync it, rename it over,
// fsync the directory (coreutils >= 8.24 `sync FILE`; plain `sync` where that is missing).
// Exit codes: 3 = stale (content changed), 4 = locked by someone else, 5 = refused new text.

import { endMarked } from './bounded.js';

export const STALE_EXIT = 3;
export const LOCKED_EXIT = 4;
export const REFUSED_EXIT = 5;

/** How often and how long (seconds) to retry a lock held by a live process. */
export const LOCK_TRIES = 5;

export const WRITE_SUBID_SCRIPT = endMarked(`
set -eu
f=$1; expected=$2; forget=\${3:-keep}; entry=\${4:-}; state=\${5:-/var/lib/nestctl}
orig="$state/$(basename "$f").orig"
tmp="$f.nestctl.$$"
refuse() { echo "refusing the new $f: $1" >&2; exit ${REFUSED_EXIT}; }
if [ -L "$f" ]; then echo "$f is a symbolic link; refusing to write through it" >&2; exit ${REFUSED_EXIT}; fi
printf '%s\\n' "$$" > "$tmp.pid"
tries=0
while ! ln "$tmp.pid" "$f.lock" 2>/dev/null; do
  holder=$(head -c 32 "$f.lock" 2>/dev/null | tr -cd 0-9) || holder=
  if [ -n "$holder" ] && ! kill -0 "$holder" 2>/dev/null && [ ! -d "/proc/$holder" ]; then
    rm -f "$f.lock"; continue
  fi
  tries=$((tries + 1))
  if [ "$tries" -ge ${LOCK_TRIES} ]; then
    rm -f "$tmp.pid"
    echo "$f is locked ($f.lock held by pid \${holder:-unknown}: another tool is editing it; still held after ${LOCK_TRIES} s)" >&2; exit ${LOCKED_EXIT}
  fi
  sleep 1
done
trap 'rm -f "$f.lock" "$tmp.pid" "$tmp"' EXIT
if [ -e "$f" ]; then current=$(sha256sum < "$f" | cut -d' ' -f1); else current=absent; fi
if [ "$current" != "$expected" ]; then echo "$f changed since it was planned (sha256 $current, planned $expected)" >&2; exit ${STALE_EXIT}; fi
rm -f "$tmp"
(set -C; cat > "$tmp")
if [ ! -s "$tmp" ]; then
  if [ "$forget" != forget ] && [ -s "$f" ]; then refuse "it is empty and $f is not"; fi
else
  if [ -n "$(tail -c 1 "$tmp")" ]; then refuse "it does not end in a newline (cut short?)"; fi
  bad=$(grep -Evxn '[[:space:]]*(#.*)?|[[:space:]]*[^:#[:space:]]+:[0-9]+:[0-9]+[[:space:]]*(#.*)?' "$tmp" | head -n 1 | cut -d: -f1)
  if [ -n "$bad" ]; then refuse "line $bad is neither owner:start:count nor a comment"; fi
fi
set -f; IFS='
'
for e in $entry; do
  if ! grep -Fxq -- "$e" "$tmp"; then refuse "it lacks the planned entry $e"; fi
done
set +f; unset IFS
if [ "$forget" = keep ] && [ ! -e "$orig" ] && [ -e "$f" ]; then mkdir -p "$state"; cp -p "$f" "$orig"; fi
if [ -e "$f" ]; then
  cp -p "$f" "$f-"
  chmod --reference="$f" "$tmp"; chown --reference="$f" "$tmp"
else
  chmod 0644 "$tmp"
fi
sync "$tmp" "$f-" 2>/dev/null || sync
mv -f "$tmp" "$f"
sync "$(dirname "$f")" 2>/dev/null || sync
if [ "$forget" = forget ]; then rm -f "$orig"; fi
`);
