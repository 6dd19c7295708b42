import { createHash } from 'node:crypto';
import type { HostEntry, NamedEntry } from './host';

/**
 * What a server prints, read back exactly. A server is only assumed to have sshd, a POSIX sh and
 * its utilities, and rsync ≥ 3.1 (issue 15: busybox NASes have no GNU `find -printf`, `stat` or
 * `sha256sum -z`). POSIX has no utility that prints a file's exact mtime and name safely, but
 * rsync does: `rsync --list-only` prints mode, size, mtime and a name in which every control
 * byte (newline included) and, in the C locale, every byte above 127 is written `\#ooo`, so one
 * entry is one line whatever it is called. Inodes and link counts come from POSIX `ls -n -i` on
 * one named path (whose own name is never parsed), the space from `df -P`.
 */

/**
 * rsync listing one path or a folder's entries (`-d`) or a tree (`-r`), never following a
 * symlink; mtimes in UTC. One operand only: a second one would be a destination.
 */
export const RSYNC_LIST = 'TZ=UTC0 rsync --list-only --no-h -l -D';

/**
 * The entries of the current folder by name and kind, from the shell's own globbing and `test`
 * (builtins in dash and busybox ash: no program starts, where each rsync listing waits ~40 ms in
 * its own exit loop), one `KIND NAME` record per entry, NUL-terminated so that no name (a line
 * break in it included) can forge a record. The three patterns cover every name but `.` and `..`;
 * one that matches nothing stays literal and fails every test.
 */
export const LIST_NAMES = [
  'for f in * .[!.]* ..?*; do',
  '  if [ -L "$f" ]; then k=l; elif [ -d "$f" ]; then k=d; elif [ -f "$f" ]; then k=f; elif [ -e "$f" ]; then k=o; else continue; fi',
  "  printf '%s%s\\000' \"$k\" \"$f\"",
  'done',
].join('\n');

/** Parses LIST_NAMES' records. */
export function parseNameList(text: string): NamedEntry[] {
  const kinds: Record<string, NamedEntry['kind']> = { d: 'folder', f: 'file', l: 'symlink', o: 'other' };
  const entries: NamedEntry[] = [];
  for (const record of text.split('\0')) {
    const kind = kinds[record[0] ?? ''];
    if (kind && record.length > 1) entries.push({ name: record.slice(1), kind });
  }
  return entries;
}

/** The server's clock, in a form POSIX `date` prints everywhere (`+%s` is not POSIX). */
export const SERVER_NOW = "date -u '+now %Y %m %d %H %M %S'";

/** One entry of an rsync listing. */
export interface ListedEntry {
  /** As listed: a name (`-d`) or a path relative to the listed folder (`-r`); `.` for the folder itself. */
  path: string;
  kind: HostEntry['kind'];
  /** Bytes (a symlink's is its target's length). */
  size: number;
  /** Whole seconds: rsync lists no fractions. */
  mtimeMs: number;
  /** A symlink's target, else null. */
  target: string | null;
}

/** The bytes a name stands for: rsync writes a byte it will not print as `\#` and three octal digits. */
export function decodeRsyncEscapes(text: string): Buffer {
  if (!text.includes('\\#')) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let from = 0;
  const escape = /\\#([0-7]{3})/g;
  for (let m = escape.exec(text); m; m = escape.exec(text)) {
    parts.push(Buffer.from(text.slice(from, m.index), 'utf8'), Buffer.from([parseInt(m[1]!, 8) & 0xff]));
    from = m.index + m[0].length;
  }
  parts.push(Buffer.from(text.slice(from), 'utf8'));
  return Buffer.concat(parts);
}

const LISTED = /^(\S)\S{9,}\s+([\d,.]+) (\d{4,})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d) (.*)$/;

function kindOfMode(c: string): HostEntry['kind'] {
  return c === 'd' ? 'folder' : c === '-' ? 'file' : c === 'l' ? 'symlink' : 'other';
}

/**
 * Parses `rsync --list-only` output: `mode size YYYY/MM/DD hh:mm:ss name` per line, a symlink as
 * `name -> target`. A name may itself contain ` -> `; the target is the last `size` bytes (a
 * symlink's size is its target's length), so the split is exact. Lines that are not entries
 * (none are expected) are skipped.
 */
export function parseRsyncListing(text: string): ListedEntry[] {
  const entries: ListedEntry[] = [];
  for (const line of text.split('\n')) {
    const m = LISTED.exec(line);
    if (!m) continue;
    const kind = kindOfMode(m[1]!);
    const size = Number(m[2]!.replace(/[,.]/g, ''));
    const mtimeMs = Date.UTC(Number(m[3]), Number(m[4]) - 1, Number(m[5]), Number(m[6]), Number(m[7]), Number(m[8]));
    const bytes = decodeRsyncEscapes(m[9]!);
    let name = bytes;
    let target: string | null = null;
    if (kind === 'symlink') {
      const cut = bytes.length - size - 4;
      if (cut < 1 || bytes.subarray(cut, cut + 4).toString('latin1') !== ' -> ') continue;
      name = bytes.subarray(0, cut);
      target = bytes.subarray(cut + 4).toString('utf8');
    }
    entries.push({ path: name.toString('utf8'), kind, size: kind === 'folder' ? 0 : size, mtimeMs, target });
  }
  return entries;
}

/** The server's time from SERVER_NOW's line, in ms; NaN when absent. */
export function parseServerNow(text: string): number {
  const m = /^now (\d{4}) (\d\d) (\d\d) (\d\d) (\d\d) (\d\d)$/m.exec(text);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : Number.NaN;
}

/**
 * Inode and link count from the first line of `ls -l -d -n -i -- PATH` (`inode mode links uid
 * gid size …`): the fields before the name, which is never read.
 */
export function parseLsIdentity(line: string): { ino: number; nlink: number } | null {
  const m = /^\s*(\d+)\s+\S+\s+(\d+)\s/.exec(line);
  return m ? { ino: Number(m[1]), nlink: Number(m[2]) } : null;
}

/**
 * The data line of `df -P -k -- PATH` (its last line): 1024-byte blocks in all and available,
 * and the mount point (the rest of the line).
 */
export function parseDf(line: string): { totalBytes: number; freeBytes: number; mountPoint: string } | null {
  const m = /^\S+\s+(\d+)\s+\d+\s+(\d+)\s+\d+%\s+(.*)$/.exec(line.trim());
  return m ? { totalBytes: Number(m[1]) * 1024, freeBytes: Number(m[2]) * 1024, mountPoint: m[3]! } : null;
}

/** statfs names as /proc/mounts writes them, for a server whose `stat` cannot print the magic. */
export function normaliseFsName(name: string): string {
  if (/^ext[234]$/.test(name)) return 'ext4';
  if (name.startsWith('fuse')) return 'fuse';
  if (name === 'smb3') return 'smb2';
  return name || 'unknown';
}

/**
 * A device number for a file system of a server: POSIX cannot print `st_dev`, so the file system
 * is known by its mount point. A 48-bit hash of server and mount point: the same file system gives
 * the same number, and it never equals a local device number by accident (compare's "same file"
 * test is dev + inode).
 */
export function serverDevice(server: string, mountPoint: string): number {
  return parseInt(createHash('sha256').update(`${server}\0${mountPoint}`).digest('hex').slice(0, 12), 16);
}

/**
 * How GNU sha256sum writes a name that holds a backslash or a line break (the line then starts
 * with `\`); coreutils 9 also escapes a carriage return, older versions do not.
 */
function gnuEscaped(name: string): string[] {
  const escaped = name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return name.includes('\r') ? [escaped.replace(/\r/g, '\\r'), escaped] : [escaped];
}

/**
 * Reads `sha256sum -- NAME…` output for the names it was given, in that order. Names are never
 * split out of the text: each expected name is matched literally where its line must be, as GNU
 * writes it (escaped, after a `\`) or as busybox does (raw, newlines and all). A file that could
 * not be read has no line; it is left out of the result.
 */
export function parseSha256Lines(text: string, names: readonly string[]): Map<string, string> {
  const hashes = new Map<string, string>();
  let at = 0;
  for (const name of names) {
    const m = /^(\\?)([0-9a-f]{64}) [ *]/.exec(text.slice(at, at + 68));
    if (!m) continue;
    const start = at + m[0].length;
    const written = (m[1] ? gnuEscaped(name) : [name]).find((w) => text.startsWith(`${w}\n`, start));
    if (written === undefined) continue;
    hashes.set(name, m[2]!);
    at = start + written.length + 1;
  }
  return hashes;
}
