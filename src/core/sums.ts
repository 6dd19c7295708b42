/**
 * A slot's checksum list (`.shadow-slots/sums/<id>.tsv`): one line per file or symlink,
 * `sha256 \t size \t mtimeMs \t inode \t JSON(path)`; a symlink's hash is `link:` + the sha256 of
 * its target. Two orders exist on disk:
 * - format 2 starts with SUMS_HEADER and lists entries in rsync's order (compareRsyncOrder), the
 *   order of rsync's itemized output, so a new slot's list is merged from that output and the
 *   previous slot's list without walking the slot;
 * - format 1 (rings written before it) has no header and lists entries in the walk order of
 *   comparePaths (`a/x` before `a-c`). It stays readable: verify walks in the order a list was
 *   written in, and a merge re-sorts a format-1 list first.
 */
export interface SumLine {
  hash: string;
  size: number;
  mtimeMs: number;
  ino: number;
  path: string;
}

export type SumsOrder = 'rsync' | 'walk';

export const SUMS_HEADER = '#shadow-slots-sums 2 rsync-order';

export function formatSumLine(s: SumLine): string {
  return `${s.hash}\t${s.size}\t${s.mtimeMs}\t${s.ino}\t${JSON.stringify(s.path)}\n`;
}

export function parseSumLine(line: string): SumLine | undefined {
  const parts = line.split('\t');
  if (parts.length !== 5) return undefined;
  try {
    return { hash: parts[0]!, size: Number(parts[1]), mtimeMs: Number(parts[2]), ino: Number(parts[3]), path: JSON.parse(parts[4]!) as string };
  } catch {
    return undefined;
  }
}

/**
 * The path and hash of a line without parsing the numbers, and the line itself, for a merge that
 * copies most lines unchanged. JSON escapes only quotes, backslashes and control characters, so a
 * path field without a backslash is the path between its quotes.
 */
export interface SumEntry {
  path: string;
  hash: string;
  /** The line as written, without its newline. */
  text: string;
}

export function sumEntryOf(text: string): SumEntry | undefined {
  const firstTab = text.indexOf('\t');
  const lastTab = text.lastIndexOf('\t');
  if (firstTab <= 0 || lastTab === firstTab) return undefined;
  const field = text.slice(lastTab + 1);
  if (field.length < 2 || field.charCodeAt(0) !== 34 || field.charCodeAt(field.length - 1) !== 34) return undefined;
  let path: string;
  if (field.indexOf('\\') === -1) {
    path = field.slice(1, -1);
  } else {
    try {
      path = JSON.parse(field) as string;
    } catch {
      return undefined;
    }
  }
  return { path, hash: text.slice(0, firstTab), text };
}

/** What kind of entry a recorded hash belongs to. */
export function kindOfHash(hash: string): 'symlink' | 'file' {
  return hash.startsWith('link:') ? 'symlink' : 'file';
}
