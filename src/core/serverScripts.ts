import { shQuote } from './posixQuote';

/**
 * The POSIX sh scripts run on a ring's server by the elevated Windows helper (issue 15), and by the
 * engine where both must judge alike (a lock holder's liveness, putting a lock back): shared, so
 * this module sits outside both the Windows code and the engine's SSH target. The helper
 * (assets/helper.ps1) repeats exactly this module: the same script bodies, byte for byte, in its
 * `$RemoteScripts` table, and the same three functions (`Quote-Sh`, `Format-RemoteScript`,
 * `Format-RemoteFrame`). test/unit/windows/helperRemote.test.ts checks the bodies are equal and
 * writes golden pairs the Windows workflow runs the PowerShell functions on;
 * test/ssh/helperRemote.test.ts runs these very scripts against a real sshd (dash, busybox ash).
 *
 * Every body is constant text. Values never appear in it: a script is `set --` followed by its
 * values, each quoted by shQuote (the one POSIX quoting rule), then the body, which reads them as
 * `"$1"`, `"$2"`… So the only value-dependent text is a list of single-quoted words.
 *
 * The lock scripts are the engine's (src/platform/target/remoteLock.ts) with values as positional
 * parameters: the same lock file, draft and aside names, the same rules (the session shell holds
 * the lock; stale when the server no longer runs it), so the engine and the helper exclude each
 * other. Files are written as the engine's SshHost.writeTextAtomic writes them (a temp name its
 * repair removes), and the rotation replays steps by which paths exist, as pathSteps.ts does.
 */
export const HELPER_REMOTE_SCRIPTS = {
  /** $1 marker. The session shell's pid, the server's name, the shell's start time (Linux /proc). */
  hello: [
    'printf \'hello-%s\\n\' "$1"',
    'printf \'%s\\n\' "$$" "$(uname -n)"',
    's=$(cat /proc/$$/stat 2>/dev/null) && { s=${s##*) }; set -- $s; printf \'%s\\n\' "${20}"; }',
    'exit 0',
  ],
  /**
   * $1 the ring's folder, which must exist (never created: a backup must not fill the wrong disk).
   * Makes the metadata folders; prints the numbered folders and the server's rsync version.
   * Exit 3 missing, 4 not enterable, 5 not writable, 6 metadata folders cannot be made, 7 one of
   * them is a symbolic link (review L11: a linked trash would be emptied wherever it points).
   */
  prepare: [
    '[ -d "$1" ] || exit 3',
    'cd -- "$1" || exit 4',
    '[ -w . ] || exit 5',
    'for d in .shadow-slots .shadow-slots/manifests .shadow-slots/changes .shadow-slots/sums .shadow-slots/logs .shadow-slots/incoming .shadow-slots/trash; do',
    '  if [ -L "$d" ]; then exit 7; fi',
    '  [ -d "$d" ] || mkdir -- "$d" || exit 6',
    'done',
    'for n in *; do',
    '  case $n in \'\'|*[!0-9]*|0?*) continue;; esac',
    '  [ -d "$n" ] && printf \'slot %s\\n\' "$n"',
    'done',
    'printf \'rsync %s\\n\' "$(rsync --version 2>/dev/null | head -n 1)"',
    'exit 0',
  ],
  /** $1 lock file, $2 owner JSON, $3 six hex digits. 0 taken, 17 held by someone. */
  lockPublish: [
    'd=$1.new-$$-$3',
    'if [ -e "$1" ]; then exit 17; fi',
    'printf \'%s\\n\' "$2" > "$d" || { rm -f -- "$d"; exit 1; }',
    'sync -- "$d" 2>/dev/null',
    'ln -- "$d" "$1" 2>/dev/null; s=$?; rm -f -- "$d"',
    'if [ $s -ne 0 ] && [ -e "$1" ]; then exit 17; fi',
    'exit $s',
  ],
  /** $1 lock file. The server's clock, rsync's listing of the lock (its mtime), `@@lock`, its text. Exit 3: no lock. */
  lockRead: [
    't=$(cat -- "$1" 2>/dev/null) || exit 3',
    'date -u \'+now %Y %m %d %H %M %S\'',
    'TZ=UTC0 rsync --list-only --no-h -l -D -- "$1" 2>/dev/null',
    'printf \'@@lock\\n%s\' "$t"',
  ],
  /** $1 a pid. `alive <start>` (Linux), `alive`, or `gone`. */
  processAlive: [
    'p=$1',
    'case $p in \'\'|*[!0-9]*) echo gone; exit 0;; esac',
    'if [ -d /proc/1 ]; then',
    '  s=$(cat /proc/$p/stat 2>/dev/null) || { echo gone; exit 0; }',
    '  s=${s##*) }; set -- $s; echo "alive ${20}"; exit 0',
    'fi',
    'if kill -0 $p 2>/dev/null; then echo alive; exit 0; fi',
    'case $(kill -0 $p 2>&1) in *ermi*) echo alive;; *) echo gone;; esac',
  ],
  /** $1 lock file, $2 the name to set it aside as. Prints what was moved. Exit 3: it was gone. */
  lockAside: [
    'mv -f -- "$1" "$2" 2>/dev/null || exit 3',
    'cat -- "$2"',
  ],
  /**
   * $1 a lock set aside that was not the stale one, $2 the lock file: put back by link(2), which
   * refuses when the name exists, so a lock a third run published meanwhile is never overwritten
   * (review 15b, finding 6). Exit 1: the name was taken. The aside name goes either way.
   */
  lockRestore: [
    'ln -- "$1" "$2" 2>/dev/null; s=$?; rm -f -- "$1"',
    'exit $s',
  ],
  /** $1 lock file, $2 the owner JSON this run wrote: removed only while it is still ours. */
  unlock: [
    'if [ "$(cat -- "$1" 2>/dev/null)" = "$2" ]; then rm -f -- "$1"; fi',
    'exit 0',
  ],
  /** $1 a file. Its bytes. Exit 3: there is none. */
  read: [
    'if [ ! -e "$1" ]; then exit 3; fi',
    'cat -- "$1"',
  ],
  /** $1 a file, $2 its new text, $3 eight hex digits: a whole new file or the old one, never a torn one. */
  write: [
    't=$1.tmp-$$-$3',
    'printf \'%s\' "$2" > "$t" || { rm -f -- "$t"; exit 1; }',
    'sync -- "$t" 2>/dev/null',
    'mv -f -- "$t" "$1" || { rm -f -- "$t"; exit 1; }',
    'sync -- "${1%/*}" 2>/dev/null',
    'exit 0',
  ],
  /** $1 a file, $2 text appended to it (a change log, sent in pieces). */
  append: [
    'printf \'%s\' "$2" >> "$1"',
  ],
  /** $1 → $2, refused when $2 is a folder (mv would move into it; rename(2) never does). */
  move: [
    'if [ -d "$2" ] && [ ! -L "$2" ]; then printf \'%s: File exists\\n\' "$2" >&2; exit 1; fi',
    'mv -f -- "$1" "$2"',
  ],
  /** Files to remove. */
  remove: [
    'rm -f -- "$@"',
  ],
  /** $1 the incoming folder. Its folders named like a slot id, one a line. */
  incoming: [
    'cd -- "$1" 2>/dev/null || exit 0',
    'for n in *; do',
    '  case $n in [0-9A-Za-z]*) ;; *) continue;; esac',
    '  case $n in *[!0-9A-Za-z_-]*) continue;; esac',
    '  [ -d "$n" ] && [ ! -L "$n" ] && printf \'%s\\n\' "$n"',
    'done',
    'exit 0',
  ],
  /**
   * Pairs `from to` of a rotation, in order: a step whose destination exists is done, one whose
   * source is gone too has nothing left to do, any other is a rename (stepStatus of core/ring.ts).
   */
  rotate: [
    'while [ $# -ge 2 ]; do',
    '  if [ -e "$2" ] || [ -L "$2" ]; then :',
    '  elif [ -e "$1" ] || [ -L "$1" ]; then mv -- "$1" "$2" || exit 1',
    '  fi',
    '  shift 2',
    'done',
    'exit 0',
  ],
  /**
   * $1 the ring's `.shadow-slots`. Deletes every entry of its trash, each on its own, and the
   * metadata of those deleted (RingStore.purgeTrash); a read-only folder inside is opened first.
   * Prints `removed` or `failed` per entry. A trash that is a symbolic link is left alone.
   */
  purge: [
    'm=$1',
    'if [ -L "$m/trash" ]; then exit 0; fi',
    'cd -- "$m/trash" 2>/dev/null || exit 0',
    'for n in * .[!.]* ..?*; do',
    '  [ -e "$n" ] || [ -L "$n" ] || continue',
    '  if ! rm -rf -- "$n" 2>/dev/null; then',
    '    find "./$n" -type d ! -perm -700 -exec chmod u+rwx -- {} \\; 2>/dev/null',
    '    rm -rf -- "$n" || { echo failed; continue; }',
    '  fi',
    '  rm -f -- "$m/manifests/$n.json" "$m/changes/$n.log" "$m/sums/$n.tsv" "$m/space/$n~"*',
    '  echo removed',
    'done',
    'exit 0',
  ],
} as const satisfies Record<string, readonly string[]>;

export type HelperRemoteScript = keyof typeof HELPER_REMOTE_SCRIPTS;

/** A script's body as one text (lines joined by `\n`, no final newline), as the helper stores it. */
export function helperRemoteBody(name: HelperRemoteScript): string {
  return HELPER_REMOTE_SCRIPTS[name].join('\n');
}

/** The script the helper sends for `name` with `values` ($1, $2, …): Format-RemoteScript of helper.ps1. */
export function helperRemoteScript(name: HelperRemoteScript, values: readonly string[]): string {
  return `set --${values.map((v) => ` ${shQuote(v)}`).join('')}\n${helperRemoteBody(name)}`;
}

/**
 * What goes down the session's stdin for one script (Format-RemoteFrame): a subshell with stdin
 * from /dev/null (it can neither read the next script nor end the session) and its stderr joined
 * to stdout, then the marker and the exit status on a line of their own. The session's shell is
 * never left, so its pid (the lock's holder) lives as long as the connection.
 */
export function helperRemoteFrame(script: string, marker: string): string {
  return `(\nexport LC_ALL=C\n${script}\n) </dev/null 2>&1\nprintf '\\n%s %s\\n' ${marker} $?\n`;
}

/** One reply read from the session: everything the script printed and its exit status, and what follows it. */
export function parseHelperReply(buffer: string, marker: string): { status: number; output: string; rest: string } | null {
  const frame = `\n${marker} `;
  const at = buffer.indexOf(frame);
  if (at < 0) return null;
  const end = buffer.indexOf('\n', at + frame.length);
  if (end < 0) return null;
  const status = buffer.slice(at + frame.length, end);
  if (!/^\d{1,3}$/.test(status)) return null;
  return { status: Number(status), output: buffer.slice(0, at), rest: buffer.slice(end + 1) };
}

/**
 * The lockRead script's answer: the lock's age in seconds on the server's clock (null when either
 * time is missing or not a date) and the lock's text. Read-LockReply in helper.ps1.
 */
export function parseLockReply(output: string): { age: number | null; text: string } {
  const split = output.indexOf('@@lock\n');
  const head = split < 0 ? output : output.slice(0, split);
  const now = utc(/^now ([0-9]{4}) ([0-9]{2}) ([0-9]{2}) ([0-9]{2}) ([0-9]{2}) ([0-9]{2})$/m.exec(head));
  const listed = utc(/^\S{10,}\s+[0-9,.]+ ([0-9]{4,})\/([0-9]{2})\/([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) /m.exec(head));
  return { age: now !== null && listed !== null ? (now - listed) / 1000 : null, text: split < 0 ? '' : output.slice(split + '@@lock\n'.length) };
}

/** A UTC time from six captured fields, or null when they are no date (as .NET's DateTime refuses them). */
function utc(m: RegExpExecArray | null): number | null {
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (y < 1 || y > 9999) return null;
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, 0);
  const ok = t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d && t.getUTCHours() === h && t.getUTCMinutes() === mi && t.getUTCSeconds() === s;
  return ok ? t.getTime() : null;
}
