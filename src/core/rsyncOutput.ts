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
 * Parses one `%i %n` line. Returns undefined for lines that are not itemized changes (progress,
 * stats, messages), so callers can feed every line through it.
 */
export function parseItemizedLine(line: string): ItemizedChange | undefined {
  if (line.startsWith('*deleting ')) {
    const path = decodeRsyncName(line.slice('*deleting '.length).replace(/^ +/, ''));
    return { change: 'deleted', kind: path.endsWith('/') ? 'dir' : 'other', path };
  }
  const m = /^([<>ch.*])([fdLDS])([.+?cstpoguax ]{9,10}) (.+)$/.exec(line);
  if (!m) return undefined;
  const [, update, type, attrs, name] = m;
  const kind = KINDS[type!] ?? 'other';
  const path = decodeRsyncName(name!);
  if (attrs!.startsWith('+++')) return { change: 'created', kind, path };
  if (update === 'h') return { change: 'linked', kind, path };
  if (update === '<' || update === '>' || (update === 'c' && kind !== 'dir')) return { change: 'changed', kind, path };
  return { change: 'attributes', kind, path };
}

/** rsync prints unprintable bytes of names as `\#ooo` (octal); turn them back into the name. */
export function decodeRsyncName(escaped: string): string {
  if (!escaped.includes('\\#')) return escaped;
  const bytes: number[] = [];
  const raw = Buffer.from(escaped, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x5c && raw[i + 1] === 0x23 && i + 4 < raw.length + 0 && /^[0-7]{3}$/.test(raw.subarray(i + 2, i + 5).toString('latin1'))) {
      bytes.push(parseInt(raw.subarray(i + 2, i + 5).toString('latin1'), 8));
      i += 4;
    } else {
      bytes.push(raw[i]!);
    }
  }
  return Buffer.from(bytes).toString('utf8');
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
    this.rest = text.slice(start);
  }
  end(onLine: (line: string, terminator: '\n' | '\r') => void): void {
    if (this.rest.length > 0) onLine(this.rest, '\n');
    this.rest = '';
  }
}
