// Replace /etc/subuid or /etc/subgid the way shadow's tools would: take FILE.lock by link(2)
// (shadow's commonio lock), refuse when the content is not what was planned, keep a backup
// FILE-, write a temp file with the same mode and owner, rename it over. New text on stdin;
// the path and expected sha256 are positional arguments of this constant script.
// Exit codes: 3 = stale (content changed), 4 = locked by someone else.

export const STALE_EXIT = 3;
export const LOCKED_EXIT = 4;

export const WRITE_SUBID_SCRIPT = `
set -eu
f=$1; expected=$2; forget=\${3:-keep}
orig="/var/lib/nestctl/$(basename "$f").orig"
tmp="$f.nestctl.$$"
printf '%s\\n' "$$" > "$tmp.pid"
if ! ln "$tmp.pid" "$f.lock" 2>/dev/null; then
  rm -f "$tmp.pid"; echo "$f is locked ($f.lock exists: another tool is editing it)" >&2; exit ${LOCKED_EXIT}
fi
trap 'rm -f "$f.lock" "$tmp.pid" "$tmp"' EXIT
if [ -e "$f" ]; then current=$(sha256sum < "$f" | cut -d' ' -f1); else current=absent; fi
if [ "$current" != "$expected" ]; then echo "$f changed since it was planned (sha256 $current, planned $expected)" >&2; exit ${STALE_EXIT}; fi
cat > "$tmp"
if [ "$forget" = keep ] && [ ! -e "$orig" ] && [ -e "$f" ]; then mkdir -p /var/lib/nestctl; cp -p "$f" "$orig"; fi
if [ -e "$f" ]; then
  cp -p "$f" "$f-"
  chmod --reference="$f" "$tmp"; chown --reference="$f" "$tmp"
else
  chmod 0644 "$tmp"
fi
mv -f "$tmp" "$f"
if [ "$forget" = forget ]; then rm -f "$orig"; fi
`;
