// Constant scripts for a container's files, run inside it with `sh -c SCRIPT NAME ARGS…` through
// the nested exec; paths, modes and ids are positional arguments, content comes on stdin. No
// manifest data is ever spliced into them.

import { endMarked } from './bounded.js';
import { PROBE_MARK } from './probe-script.js';

/** Files larger than this are compared by sha256 only; smaller ones come back whole for a diff. */
export const FILE_DIFF_MAX_BYTES = 65536;

// `sh -c READ_FILES_SCRIPT files PATH…`: one line per path (core/observe/parse-files.ts). base64
// without -w0 and tr: busybox images may lack base64's -w.
export const READ_FILES_SCRIPT = endMarked(String.raw`
M='${PROBE_MARK}'
for p do
  if [ -L "$p" ] || { [ -e "$p" ] && [ ! -f "$p" ]; }; then echo "$M other"
  elif [ ! -e "$p" ]; then echo "$M absent"
  else
    facts=$(stat -c '%a %u %g %s' "$p") || exit 4
    sum=$(sha256sum < "$p") || exit 4
    size=${'$'}{facts##* }
    if [ "$size" -le ${FILE_DIFF_MAX_BYTES} ]; then body=$(base64 < "$p" | tr -d '\n'); else body=-; fi
    echo "$M file $facts ${'$'}{sum%% *} $body"
  fi
done
`);

/** Exit codes of WRITE_FILE_SCRIPT besides 0 and 1. */
export const FILE_STALE_EXIT = 3;
export const FILE_REFUSED_EXIT = 5;

// `sh -c WRITE_FILE_SCRIPT push-file PATH MODE UID GID EXPECTED`, the bytes on stdin. EXPECTED is
// the sha256 the file had when planned, "absent", or "any" (a container that did not exist then).
// Written to a temp file beside it, owned and moded, then renamed over it.
export const WRITE_FILE_SCRIPT = endMarked(`
p=$1; mode=$2; uid=$3; gid=$4; want=$5
if [ -L "$p" ] || { [ -e "$p" ] && [ ! -f "$p" ]; }; then echo "$p is not a regular file; nestctl does not replace it" >&2; exit ${FILE_REFUSED_EXIT}; fi
if [ "$want" != any ]; then
  if [ -e "$p" ]; then have=$(sha256sum < "$p") || exit 1; have=${'$'}{have%% *}; else have=absent; fi
  if [ "$have" != "$want" ]; then echo "$p changed after the plan was made" >&2; exit ${FILE_STALE_EXIT}; fi
fi
dir=${'$'}{p%/*}; [ -n "$dir" ] || dir=/
mkdir -p "$dir" || exit 1
tmp=$(mktemp "$dir/.nestctl-file.XXXXXX") || exit 1
if cat > "$tmp" && chown "$uid:$gid" "$tmp" && chmod "$mode" "$tmp" && mv -f "$tmp" "$p"; then exit 0; fi
rm -f "$tmp"
exit 1
`);
