import { compareRsyncOrder } from './rsyncOrder';

/**
 * What a received slot's change log (written from the btrfs send stream, see sendStream.ts) says
 * about the slot, for building its checksum list from the previous slot's list without walking
 * it: a received slot is a snapshot of the previous slot plus the stream's changes, so every path
 * the log does not name is the previous slot's entry, with its inode, size and time.
 */
export interface SendChangeSet {
  /** Paths of the previous slot that are gone (without a folder's `/`): the entry and all below it. */
  gone: Set<string>;
  /** Paths of the new slot that the stream made or rewrote (without a folder's `/`). */
  made: Set<string>;
}

/** The change log cannot be trusted for a merge; the caller walks the slot instead. */
export class UntrustedChangesError extends Error {}

/**
 * Parses a received slot's change log strictly: every line `+ "path"`, `~ "path"` or `- "path"`
 * (JSON strings, folders ending in `/`), every path relative and inside the slot. Anything else
 * throws UntrustedChangesError: a log that is not exactly what sendReceive.ts writes says nothing.
 */
export function parseSendChangeLog(text: string): SendChangeSet {
  const gone = new Set<string>();
  const made = new Set<string>();
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const [n, line] of lines.entries()) {
    const mark = line.slice(0, 2);
    let path: unknown;
    try {
      path = JSON.parse(line.slice(2));
    } catch {
      path = null;
    }
    if ((mark !== '+ ' && mark !== '~ ' && mark !== '- ') || typeof path !== 'string' || !insideSlot(path)) {
      throw new UntrustedChangesError(`line ${n + 1} of the change log is not a change (${JSON.stringify(line.slice(0, 80))})`);
    }
    const bare = path.endsWith('/') ? path.slice(0, -1) : path;
    (mark === '- ' ? gone : made).add(bare);
  }
  return { gone, made };
}

function insideSlot(path: string): boolean {
  const bare = path.endsWith('/') ? path.slice(0, -1) : path;
  return bare !== '' && !bare.split('/').some((part) => part === '' || part === '.' || part === '..');
}

/**
 * The key a whole folder's content sorts by among single paths in rsync's order: any path below
 * it gives the same answer against a path that is not below it (they part at or before the
 * folder's `/`), and no name holds a NUL.
 */
export function folderKey(folder: string): string {
  return `${folder}/\0`;
}

export function isBelow(path: string, folder: string): boolean {
  return path.length > folder.length + 1 && path.charCodeAt(folder.length) === 47 && path.startsWith(folder);
}

/**
 * Folders (outermost only) whose content is dropped from a list read in rsync's order, asked
 * once per path in that order: a folder's content is one contiguous run, so a cursor that only
 * moves forward answers each question in constant time on average.
 */
export class FolderRuns {
  private readonly folders: string[];
  private readonly keys: string[];
  private at = 0;

  constructor(folders: Iterable<string>) {
    this.folders = outermost(folders);
    this.keys = this.folders.map(folderKey);
  }

  /** Whether `path` is below one of the folders; paths must be asked in rsync's order. */
  covers(path: string): boolean {
    while (this.at < this.folders.length) {
      if (isBelow(path, this.folders[this.at]!)) return true;
      if (compareRsyncOrder(this.keys[this.at]!, path) >= 0) return false;
      this.at++;
    }
    return false;
  }
}

/** The folders none of the others contains, in rsync's order. */
export function outermost(folders: Iterable<string>): string[] {
  const sorted = [...new Set(folders)].sort((a, b) => compareRsyncOrder(folderKey(a), folderKey(b)));
  const out: string[] = [];
  for (const folder of sorted) {
    // In rsync's order a folder's subfolders follow it directly, before any other folder.
    const last = out[out.length - 1];
    if (last === undefined || !isBelow(folder, last)) out.push(folder);
  }
  return out;
}
