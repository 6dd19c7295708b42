import type { HeldLock, LockOwner } from '../lock';
import type { RunOptions, RunResult } from '../runner';

/** One entry of a folder as the ring's host sees it (symlinks are never followed). */
export interface HostEntry {
  name: string;
  kind: 'folder' | 'file' | 'symlink' | 'other';
  size: number;
  mtimeMs: number;
}

/** A folder entry's name and kind only (see RingHost.listNames). */
export type NamedEntry = Pick<HostEntry, 'name' | 'kind'>;

/** lstat of one path: enough to tell versions apart (size, mtime, inode) and count links. */
export interface HostStat {
  kind: HostEntry['kind'];
  size: number;
  mtimeMs: number;
  dev: number;
  ino: number;
  nlink: number;
}

/**
 * The place a ring lives: this machine, or a server reached over SSH. Every file operation and
 * every tool a target kind runs goes through it, so a kind (hard links, btrfs, …) is written once
 * and works wherever its host is. Paths are the host's own absolute paths.
 */
export interface RingHost {
  /** null for this machine; "user@server" for a remote one (named in messages). */
  readonly name: string | null;
  join(...parts: string[]): string;
  /** The file's text, or null when it does not exist. */
  readText(path: string): Promise<string | null>;
  /** Replaces a file so that a crash leaves the old or the new content, durably. */
  writeTextAtomic(path: string, text: string): Promise<void>;
  /** Removes a file; nothing happens when it is already gone. */
  remove(path: string): Promise<void>;
  /** Deletes a whole tree (a dropped slot), with constant memory, including read-only folders. */
  removeTree(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  mkdirp(path: string): Promise<void>;
  /** A folder's entries; empty when the folder does not exist. */
  list(path: string): Promise<HostEntry[]>;
  /**
   * A folder's entry names and kinds, without sizes or times: what the ring's own folders are
   * read for (slot numbers, in-progress ids, the trash), and far cheaper on a server.
   */
  listNames(path: string): Promise<NamedEntry[]>;
  stat(path: string): Promise<HostStat | null>;
  /** A file's bytes; refuses files larger than `maxBytes` (a slot can hold a 40 GB disk image). */
  readBytes(path: string, maxBytes: number): Promise<Buffer>;
  /** Runs a tool on the host (btrfs, zfs, rsync --version…). Argv only, never a shell string. */
  run(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  fileSystem(path: string): Promise<{ type: string; freeBytes: number; totalBytes: number }>;
  acquireLock(lockFile: string, command: string): Promise<HeldLock>;
  /** The lock's holder and whether it is still running (judged on the host that holds it). */
  lockHolder(lockFile: string): Promise<{ owner: LockOwner; live: boolean } | null>;
  /** Removes temp files of atomic writes a crashed writer left in `dir` (caller holds the lock). */
  removeTornWrites(dir: string): Promise<number>;
  /**
   * Bytes of a slot's files held by this slot alone (link count 1: deleting the slot frees them)
   * and held together with other slots (link count above 1). Folders are not counted.
   */
  linkUsage(root: string): Promise<{ exclusiveBytes: number; sharedBytes: number }>;
  /** Makes every folder of a tree owner-accessible (a folder copied as mode 000 blocks resume and delete). */
  makeFoldersAccessible(root: string): Promise<void>;
  /**
   * A path on this machine where the host's file `path` can be read or written with ordinary
   * file APIs (change logs and checksum lists are streamed, not held in memory). Local hosts
   * return the path itself; a remote host stages a copy and publishes it in `publishStaged`.
   */
  staged(path: string, mode: 'read' | 'write'): Promise<string>;
  publishStaged(path: string): Promise<void>;
  /** Forgets a file staged for writing without publishing it (a failed finalize). */
  discardStaged(path: string): Promise<void>;
  /**
   * How rsync names the host's `path` as its destination or source: the path itself here,
   * `host:path` on a server (with `rsyncTransportArgs`: `-e` reaching it over this run's connection).
   */
  rsyncDestination(path: string): string;
  rsyncTransportArgs(): string[];
  /**
   * Copies a file, symlink (as a link) or folder of the host to `to`, a path on this machine that
   * does not exist yet, keeping modification times (restore).
   */
  copyOut(path: string, to: string): Promise<void>;
  /** Ends what the host opened (a connection); local hosts have nothing to close. */
  close(): Promise<void>;
}
