// The one command that reads everything about a level in a single round trip (DESIGN §4).
// A constant script: no manifest data is ever spliced into it. Each fact is one line:
//   @@nestctl@@ NAME STATUS BASE64
// where STATUS is an exit code, a file mtime, or "absent". src/core/observe/parse-probe.ts reads it.

export const PROBE_MARK = '@@nestctl@@';

export const PROBE_SCRIPT = `
sec() { printf '${PROBE_MARK} %s %s ' "$1" "$2"; }
run() { name=$1; shift; out=$("$@" 2>&1); rc=$?; sec "$name" "$rc"; printf '%s' "$out" | base64 -w0; echo; }
file() { if [ -e "$2" ]; then sec "$1" "$(stat -c %.9Y "$2")"; base64 -w0 < "$2"; echo; else sec "$1" absent; echo; fi; }
sec now "$(date +%s.%N)"; echo
if [ -d /run/systemd/system ]; then sec systemd yes; else sec systemd no; fi; echo
file uid_map /proc/self/uid_map
file subuid /etc/subuid
file subgid /etc/subgid
if [ -x /snap/bin/lxd ]; then fl=snap; cli=lxc
elif command -v incus >/dev/null 2>&1; then fl=incus; cli=incus
elif command -v lxd >/dev/null 2>&1 || [ -x /usr/sbin/lxd ] || [ -x /usr/bin/lxd ]; then fl=debian; cli=lxc
else fl=none; cli=; fi
sec flavour "$fl"; echo
[ "$fl" = none ] && exit 0
# The daemon's start time: its own user namespace only (nested daemons are visible from the host).
me=$(readlink /proc/self/ns/user)
bt=$(awk '/^btime/ {print $2}' /proc/stat); hz=$(getconf CLK_TCK)
for d in /proc/[0-9]*; do
  c=$(cat "$d/comm" 2>/dev/null) || continue
  case "$c" in lxd|incusd) ;; *) continue;; esac
  [ "$(readlink "$d/ns/user" 2>/dev/null)" = "$me" ] || continue
  case "$(tr '\\0' ' ' < "$d/cmdline" 2>/dev/null)" in *fork*|*callhook*|*waitready*|*activateifneeded*|*" init"*) continue;; esac
  st=$(awk '{print $22}' "$d/stat" 2>/dev/null) || continue
  sec daemon_started "$(awk -v s="$st" -v b="$bt" -v h="$hz" 'BEGIN { printf "%.2f", b + s / h }')"; echo
  break
done
run server "$cli" query /1.0
[ "$rc" = 0 ] || exit 0
run instances "$cli" query '/1.0/instances?recursion=1'
run images "$cli" query '/1.0/images?recursion=1'
run pools "$cli" query /1.0/storage-pools
run networks "$cli" query '/1.0/networks?recursion=1'
run profiles "$cli" query '/1.0/profiles?recursion=1'
`;
