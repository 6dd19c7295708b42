/**
 * Parsers of rsync's output, exported and tested against captured real output. rsync writes
 * progress lines ending in `\r` and itemized lines ending in `\n` to the same stream.
 */

export interface Progress2 {
  bytes: number;
  percent: number;
  /** Bytes per second. */
  rate: number;
  etaSeconds: number;
  transfers: number | null;
  /** Files still to check and the total known so far (grows while rsync recurses incrementally). */
  toCheck: number | null;
  total: number | null;
}

const PROGRESS2 = /^\s*([\d,.]+)\s+(\d+)%\s+([\d.,]+)([kMGT]?B)\/s\s+(\d+):(\d\d):(\d\d)(?:\s+\(xfr#(\d+),\s+(?:ir|to)-chk=(\d+)\/(\d+)\))?\s*$/;
const RATE_UNITS: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

export function parseProgress2(line: string): Progress2 | undefined {
  const m = PROGRESS2.exec(line);
  if (!m) return undefined;
  return {
    bytes: Number(m[1]!.replace(/[,.]/g, '')),
    percent: Number(m[2]),
    rate: Math.round(Number(m[3]!.replace(/,/g, '')) * (RATE_UNITS[m[4]!] ?? 1)),
    etaSeconds: Number(m[5]) * 3600 + Number(m[6]) * 60 + Number(m[7]),
    transfers: m[8] === undefined ? null : Number(m[8]),
    toCheck: m[9] === undefined ? null : Number(m[9]),
    total: m[10] === undefined ? null : Number(m[10]),
  };
}

export type ItemKind = 'file' | 'dir' | 'symlink' | 'device' | 'special' | 'other';
export type ItemChange = 'created' | 'changed' | 'deleted' | 'linked' | 'attributes';

export interface ItemizedChange {
  change: ItemChange;
  kind: ItemKind;
  /** Decoded path relative to the slot root; directories end with `/` as rsync prints them. */
  path: string;
}

const KINDS: Record<string, ItemKind> = { f: 'file', d: 'dir', L: 'symlink', D: 'device', S: 'special' };

/**
 * `%i` is always 11 characters (`YXcstpoguax`, or `*deleting` padded), then a space: the name
 * starts at a fixed column. A regex that let the flags take a variable width read a name starting
 * with a space (` lead`) as `lead`.
 */
const NAME_COLUMN = 12;

/**
 * Parses one `%i %n` line. Returns undefined for lines that are not itemized changes (progress,
 * stats, messages), so callers can feed every line through it.
 */
export function parseItemizedLine(line: string): ItemizedChange | undefined {
  if (line.length <= NAME_COLUMN || line.charCodeAt(NAME_COLUMN - 1) !== 32) return undefined;
  if (line.startsWith('*deleting  ')) {
    const path = decodeRsyncName(line.slice(NAME_COLUMN));
    return { change: 'deleted', kind: path.endsWith('/') ? 'dir' : 'other', path };
  }
  const update = line[0]!;
  const kind = KINDS[line[1]!];
  const attrs = line.slice(2, NAME_COLUMN - 1);
  if (!'<>ch.*'.includes(update) || kind === undefined || !/^[.+?cstTpogunbax ]{9}$/.test(attrs)) return undefined;
  const path = decodeRsyncName(line.slice(NAME_COLUMN));
  if (attrs.startsWith('+++')) return { change: 'created', kind, path };
  if (update === 'h') return { change: 'linked', kind, path };
  if (update === '<' || update === '>' || (update === 'c' && kind !== 'dir')) return { change: 'changed', kind, path };
  return { change: 'attributes', kind, path };
}

/**
 * One entry of the new slot as rsync's `-ii` output names it (every entry, unchanged ones too):
 * - `linked`: hard-linked to the same path in the --link-dest slot (`h`), i.e. the previous slot's
 *   very file;
 * - `kept`: already in the destination and left as it was (`.`): the previous slot's content only
 *   if the destination held exactly the previous slot before this run;
 * - `written`: copied, created or changed by this run (`>`, `<`, `c`).
 */
export interface ListedEntry {
  how: 'linked' | 'kept' | 'written';
  kind: ItemKind;
  /** rsync's `+++++++++`: the entry did not exist in the destination or the --link-dest slot. */
  created: boolean;
  /** Decoded path relative to the slot root; folders end with `/` as rsync prints them. */
  path: string;
  /**
   * The name is not valid UTF-8: `path` is only an approximation (with U+FFFD), and no file of
   * that name can be opened through it. Checksum lists leave such names out (see the README).
   */
  undecodable?: true;
}

/**
 * Parses a line of `-ii` output into a ListedEntry; undefined for deletions, progress, stats and
 * messages. Called once per file of the slot, so it does not use a regex.
 */
export function parseListedLine(line: string): ListedEntry | undefined {
  if (line.length <= NAME_COLUMN || line.charCodeAt(NAME_COLUMN - 1) !== 32) return undefined;
  const u = line.charCodeAt(0);
  const how = u === 104 /* h */ ? 'linked' : u === 46 /* . */ ? 'kept' : u === 62 /* > */ || u === 60 /* < */ || u === 99 /* c */ ? 'written' : null;
  const kind = KINDS[line[1]!];
  if (how === null || kind === undefined) return undefined;
  // "+++" in the first three attribute columns marks a new entry; anything else there is a flag.
  const created = line.charCodeAt(2) === 43 && line.charCodeAt(3) === 43 && line.charCodeAt(4) === 43;
  const name = line.slice(NAME_COLUMN);
  if (!name.includes('\\#')) return { how, kind, created, path: name };
  const decoded = decodeRsyncNameStrict(name);
  return decoded.valid ? { how, kind, created, path: decoded.path } : { how, kind, created, path: decoded.path, undecodable: true };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lossyUtf8 = new TextDecoder('utf-8');

/** rsync prints unprintable bytes of names as `\#ooo` (octal); turn them back into the name. */
export function decodeRsyncName(escaped: string): string {
  return escaped.includes('\\#') ? decodeRsyncNameStrict(escaped).path : escaped;
}

/**
 * The name an escaped rsync name stands for, and whether its bytes are valid UTF-8 (if not, `path`
 * has U+FFFD in their place). In the C locale (see rsyncRun.ts) every non-ASCII name comes escaped,
 * so this runs for many lines: one pass, no regex.
 */
export function decodeRsyncNameStrict(escaped: string): { path: string; valid: boolean } {
  const bytes = new Uint8Array(escaped.length * 3);
  let n = 0;
  for (let i = 0; i < escaped.length; i++) {
    const c = escaped.charCodeAt(i);
    if (c === 92 /* \ */ && escaped.charCodeAt(i + 1) === 35 /* # */ && isOctal(escaped.charCodeAt(i + 2)) && isOctal(escaped.charCodeAt(i + 3)) && isOctal(escaped.charCodeAt(i + 4))) {
      bytes[n++] = ((escaped.charCodeAt(i + 2) - 48) * 64 + (escaped.charCodeAt(i + 3) - 48) * 8 + (escaped.charCodeAt(i + 4) - 48)) & 0xff;
      i += 4;
    } else if (c < 0x80) {
      bytes[n++] = c;
    } else {
      // Printed raw (rsync in a UTF-8 locale): the character's own UTF-8 bytes.
      const cp = escaped.codePointAt(i)!;
      if (cp > 0xffff) i++;
      if (cp < 0x800) { bytes[n++] = 0xc0 | (cp >> 6); bytes[n++] = 0x80 | (cp & 63); }
      else if (cp < 0x10000) { bytes[n++] = 0xe0 | (cp >> 12); bytes[n++] = 0x80 | ((cp >> 6) & 63); bytes[n++] = 0x80 | (cp & 63); }
      else { bytes[n++] = 0xf0 | (cp >> 18); bytes[n++] = 0x80 | ((cp >> 12) & 63); bytes[n++] = 0x80 | ((cp >> 6) & 63); bytes[n++] = 0x80 | (cp & 63); }
    }
  }
  const view = bytes.subarray(0, n);
  try {
    return { path: strictUtf8.decode(view), valid: true };
  } catch {
    return { path: lossyUtf8.decode(view), valid: false };
  }
}

function isOctal(c: number): boolean {
  return c >= 48 && c <= 55;
}

export interface RsyncStats {
  files: number;
  regularFiles: number;
  dirs: number;
  created: number;
  createdRegular: number;
  createdDirs: number;
  deleted: number;
  transferred: number;
  totalSize: number;
  literalData: number;
}

/** Parses the block printed by `--stats`. Missing lines count as 0. */
export function parseStats(text: string): RsyncStats {
  const num = (s: string | undefined) => (s === undefined ? 0 : Number(s.replace(/[,.]/g, '')));
  const detail = (line: RegExpMatchArray | null, key: string) => num(line?.[2] ? new RegExp(`${key}: ([\\d,.]+)`).exec(line[2])?.[1] : undefined);
  const files = text.match(/^Number of files: ([\d,.]+)(?: \((.*)\))?$/m);
  const created = text.match(/^Number of created files: ([\d,.]+)(?: \((.*)\))?$/m);
  return {
    files: num(files?.[1]),
    regularFiles: detail(files, 'reg'),
    dirs: detail(files, 'dir'),
    created: num(created?.[1]),
    createdRegular: detail(created, 'reg'),
    createdDirs: detail(created, 'dir'),
    deleted: num(text.match(/^Number of deleted files: ([\d,.]+)/m)?.[1]),
    transferred: num(text.match(/^Number of regular files transferred: ([\d,.]+)/m)?.[1]),
    totalSize: num(text.match(/^Total file size: ([\d,.]+) bytes/m)?.[1]),
    literalData: num(text.match(/^Literal data: ([\d,.]+) bytes/m)?.[1]),
  };
}

export type RsyncOutcome = 'complete' | 'complete-with-warnings' | 'partial' | 'failed' | 'cancelled';

export interface RsyncClassification {
  outcome: RsyncOutcome;
  message: string;
}

const EXIT_MESSAGES: Record<number, string> = {
  1: 'rsync rejected its arguments (syntax or usage error)',
  2: 'rsync protocol incompatibility',
  3: 'rsync could not open the source or destination folder',
  4: 'rsync does not support an option that was asked for',
  5: 'rsync could not start its client-server protocol',
  6: 'rsync daemon could not append to its log',
  10: 'rsync socket I/O error',
  11: 'rsync file I/O error while writing the slot',
  12: 'rsync protocol data stream error',
  13: 'rsync program diagnostics error',
  14: 'rsync IPC error',
  20: 'rsync was interrupted by a signal',
  21: 'rsync waitpid error',
  22: 'rsync could not allocate memory',
  23: 'some files could not be copied (see the log for the paths)',
  24: 'some source files vanished while they were being copied',
  25: 'rsync stopped at the --max-delete limit',
  30: 'rsync timed out',
  35: 'rsync timed out waiting for a daemon',
};

/**
 * The ring's rule: only 0 and 24 make a complete slot; everything else is never rotated in.
 * `cancelledByUs` is true only when this engine stopped rsync on the user's request: an rsync
 * killed by anything else (out of memory, shutdown, a stray kill) is a failure the user must hear
 * about, not a quiet "cancelled".
 */
export function classifyRsyncExit(exitCode: number | null, signal?: string | null, cancelledByUs = false): RsyncClassification {
  if (cancelledByUs) return { outcome: 'cancelled', message: 'the backup was cancelled' };
  if (exitCode === null || signal) return { outcome: 'failed', message: `rsync was killed${signal ? ` (${signal})` : ''} before it finished` };
  if (exitCode === 0) return { outcome: 'complete', message: 'rsync completed' };
  if (exitCode === 24) return { outcome: 'complete-with-warnings', message: EXIT_MESSAGES[24]! };
  if (exitCode === 23) return { outcome: 'partial', message: EXIT_MESSAGES[23]! };
  return { outcome: 'failed', message: EXIT_MESSAGES[exitCode] ?? `rsync failed with exit code ${exitCode}` };
}

/** True when rsync's stderr says the target ran out of space or quota. */
export function isNoSpace(stderr: string): boolean {
  return /No space left on device|ENOSPC|Disk quota exceeded|EDQUOT|There is not enough space/i.test(stderr);
}

/** Paths rsync named in `file has vanished` and permission warnings (for the user's report). */
export function problemPaths(stderr: string): { vanished: string[]; unreadable: string[] } {
  const vanished: string[] = [];
  const unreadable: string[] = [];
  for (const line of stderr.split('\n')) {
    const v = /^file has vanished: "(.*)"$/.exec(line.trim());
    if (v) vanished.push(decodeRsyncName(v[1]!));
    const u = /^rsync: \[sender\] (?:send_files failed to open|opendir|readlink_stat|link_stat) "(.*)"(?: failed)?: Permission denied/.exec(line.trim())
      ?? /^rsync: (?:send_files failed to open|opendir) "(.*)" failed: Permission denied/.exec(line.trim());
    if (u) unreadable.push(decodeRsyncName(u[1]!));
  }
  return { vanished, unreadable };
}

/**
 * A copy of `s` that does not keep the string it was sliced from alive. V8 represents a slice of
 * 13 characters or more as a view into its parent, so keeping one line of a 64 KB chunk (the last
 * path seen, a partial line) kept the whole chunk, long enough for V8 to move it to its old
 * generation, where it stayed until a full collection: a slow climb of the engine's memory.
 */
export function ownCopy(s: string): string {
  return (s + '\0').slice(0, -1);
}

/**
 * Splits a byte stream into lines on `\n` and `\r` without holding more than one partial line,
 * so the engine's memory stays flat however many files rsync lists.
 */
export class LineSplitter {
  private rest = '';
  push(chunk: string, onLine: (line: string, terminator: '\n' | '\r') => void): void {
    const text = this.rest + chunk;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 || c === 13) {
        if (i > start) onLine(text.slice(start, i), c === 10 ? '\n' : '\r');
        start = i + 1;
      }
    }
    this.rest = ownCopy(text.slice(start));
  }
  end(onLine: (line: string, terminator: '\n' | '\r') => void): void {
    if (this.rest.length > 0) onLine(this.rest, '\n');
    this.rest = '';
  }
}
