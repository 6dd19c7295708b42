import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { posix } from 'node:path';
import { ShadowSlotsError } from '../../core/errors';
import { shCommand, shQuote } from '../../core/posixQuote';
import type { RemoteTarget } from '../../core/remoteTarget';
import { parseRsyncVersion, type RsyncVersion } from '../../core/rsyncVersion';
import { fileSystemName } from '../fsProbe';
import { TORN_WRITE } from '../fsutil';
import type { HeldLock, LockOwner } from '../lock';
import { formatCommandLine, ProcessError, type RunOptions, type RunResult } from '../runner';
import { comparePaths } from '../treeWalk';
import type { HostEntry, HostStat, NamedEntry, RingHost } from './host';
import { acquireRemoteLock, readRemoteOwner } from './remoteLock';
import { hashHere, hashOnServer } from './sshHash';
import { LIST_NAMES, normaliseFsName, parseDf, parseLsIdentity, parseNameList, parseRsyncListing, parseServerNow, RSYNC_LIST, SERVER_NOW, serverDevice } from './sshListing';
import { SshConnection, type RemoteResult, type SshOptions } from './sshConnection';
import { localScratch } from './sshTempFolders';

/** What preflight learns about a target folder on a server (see SshHost.probeTarget). */
export interface RemoteProbe {
  status: 'ok' | 'missing' | 'cannot-create' | 'not-folder' | 'not-writable' | 'full';
  stderr: string;
  fsType: string;
  freeBytes: number;
  totalBytes: number;
  hardLinks: boolean;
  /** The server's rsync version, null when it has none (or one that does not say which: openrsync). */
  rsyncVersion: RsyncVersion | null;
  /** Whether the server has sha256sum (GNU, busybox): checksums are then computed there. */
  sha256sum: boolean;
}

const LOCK_DRAFT = /^lock\.new-\d+-[0-9a-f]{6}$/;
const ABANDONED_DRAFT_AGE_S = 60;

/**
 * The file system of a path: free and total space from POSIX `df -P`, its mount point (which
 * names the file system: serverDevice), and its type from `stat -f` where the server has one
 * (GNU, busybox; BSD's `stat -f` means something else and prints no hex), else /proc/mounts.
 * Prints `df <line>` and `type <hex magic or name>`. `$1` is the path.
 */
const FS_OF = [
  'fs_of() {',
  '  d=$(df -P -k -- "$1" 2>/dev/null | tail -n 1)',
  '  printf \'df %s\\n\' "$d"',
  '  t=$(stat -f -c %t -- "$1" 2>/dev/null)',
  '  case $t in *[!0-9a-f]*|"") t=;; *) printf \'type 0x%s\\n\' "$t"; return;; esac',
  '  m=${d#*% }',
  '  [ -r /proc/mounts ] && awk -v m="$m" \'$2 == m { t = $3 } END { if (t != "") print "type " t }\' /proc/mounts',
  '}',
].join('\n');

/** Folders a non-root user cannot enter or empty (a Go module cache is read-only) made owner-accessible; `$1` is the tree. */
const OPEN_FOLDERS = 'find "$1" -type d ! -perm -700 -exec chmod u+rwx -- {} \\; 2>/dev/null';

/** A file of a tree as walk() lists it on a server. */
export interface RemoteWalkEntry {
  path: string;
  kind: 'file' | 'symlink' | 'other';
  size: number;
  mtimeMs: number;
  /** A symlink's target ('' for anything else). */
  target: string;
  /** A file with other hard links (in a slot of hard-linked folders: the same file as in the slot before). */
  linked: boolean;
}

/** Separates walk()'s listing from its list of files with one link. */
const SINGLE_LINKS = '@@single-links';
/** sha256("x"): what a working sha256sum prints first. */
const SHA256_OF_X = '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881';

/** fileSystem() from FS_OF's output. */
function fileSystemOf(stdout: string): { type: string; freeBytes: number; totalBytes: number } {
  const df = parseDf(/^df (.*)$/m.exec(stdout)?.[1] ?? '');
  const type = /^type (.*)$/m.exec(stdout)?.[1] ?? '';
  return {
    type: type.startsWith('0x') ? fileSystemName(parseInt(type.slice(2), 16)) : normaliseFsName(type),
    freeBytes: df?.freeBytes ?? 0,
    totalBytes: df?.totalBytes ?? 0,
  };
}

/** An error of a remote file operation, with the errno code its message names (so callers can tell ENOSPC). */
export class RemoteFileError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
    this.name = 'RemoteFileError';
  }
}

const ERRNO_TEXT: Array<[RegExp, string]> = [
  [/No space left on device/i, 'ENOSPC'],
  [/Disk quota exceeded/i, 'EDQUOT'],
  [/Permission denied|Operation not permitted/i, 'EACCES'],
  [/No such file or directory/i, 'ENOENT'],
  [/File exists/i, 'EEXIST'],
  [/Directory not empty/i, 'ENOTEMPTY'],
  [/Read-only file system/i, 'EROFS'],
];

/**
 * A ring on a server reached over SSH (see sshConnection.ts for the one connection per run and
 * how commands travel). Every file operation is a short POSIX sh script; every value in it is
 * quoted by shQuote. What the server needs: sshd, a POSIX sh and utilities, rsync ≥ 3.1 (which
 * also lists: sshListing.ts); sha256sum where it has one (else files are hashed here, streamed
 * over the connection: sshHash.ts); btrfs-progs for a copy-on-write ring.
 */
export class SshHost implements RingHost {
  readonly name: string;
  private readonly stagedFiles = new Map<string, string>();
  /** Whether the server has a working sha256sum (learnt once per connection). */
  private hasSha256sum: Promise<boolean> | null = null;

  private constructor(readonly connection: SshConnection, private readonly rsyncPath: string) {
    this.name = connection.label;
  }

  static async open(target: RemoteTarget, options: SshOptions & { rsyncPath?: string } = {}): Promise<SshHost> {
    return new SshHost(await SshConnection.open(target, options), options.rsyncPath ?? 'rsync');
  }

  join(...parts: string[]): string { return posix.join(...parts); }

  /** Runs a script; a non-zero status other than `allowed` becomes an error naming the host. */
  private async sh(script: string, what: string, allowed: number[] = [], signal?: AbortSignal, onStdout?: (text: string) => void): Promise<RemoteResult> {
    const r = await this.connection.exec(script, { ...(signal ? { signal } : {}), ...(onStdout ? { onStdout } : {}) });
    if (r.status !== 0 && !allowed.includes(r.status)) throw this.failure(what, r.stderr);
    return r;
  }

  private failure(what: string, stderr: string): RemoteFileError {
    const text = stderr.trim().split('\n').slice(-3).join(' | ');
    const code = ERRNO_TEXT.find(([re]) => re.test(stderr))?.[1];
    return new RemoteFileError(`${what} on ${this.name} failed${text ? `: ${text}` : ''}`, code);
  }

  async readText(path: string): Promise<string | null> {
    const r = await this.sh(catOrExit3(path), `Reading ${path}`, [3]);
    return r.status === 3 ? null : r.stdout;
  }

  /**
   * Copies a server's text file (a change log, a checksum list: tens of megabytes for a big slot)
   * into a new private local file as it arrives, never whole in memory. False, and no local
   * file, when the server has no such file.
   */
  async downloadText(path: string, local: string): Promise<boolean> {
    const out = createWriteStream(local, { flags: 'wx', mode: 0o600 });
    const written = finished(out);
    // Its failure is awaited below, once the server's answer is in; until then it is not unhandled.
    written.catch(() => undefined);
    let status: number;
    try {
      status = (await this.sh(catOrExit3(path), `Reading ${path}`, [3], undefined, (text) => { out.write(text); })).status;
      out.end();
      await written;
    } catch (error) {
      out.destroy();
      await written.catch(() => undefined);
      await rm(local, { force: true });
      throw error;
    }
    if (status === 3) await rm(local, { force: true });
    return status !== 3;
  }

  async writeTextAtomic(path: string, text: string): Promise<void> {
    const p = shQuote(path);
    // The temp name is lock.ts/fsutil's torn-write name, so a repair removes one a crash left.
    await this.sh([
      `t=${p}.tmp-$$-${randomBytes(4).toString('hex')}`,
      `printf '%s' ${shQuote(text)} > "$t" || { rm -f -- "$t"; exit 1; }`,
      `sync -- "$t" 2>/dev/null`,
      `mv -f -- "$t" ${p} || { rm -f -- "$t"; exit 1; }`,
      `sync -- ${shQuote(posix.dirname(path))} 2>/dev/null`,
      'exit 0',
    ].join('\n'), `Writing ${path}`);
  }

  async remove(path: string): Promise<void> {
    await this.sh(`rm -f -- ${shQuote(path)}`, `Removing ${path}`);
  }

  async removeTree(path: string): Promise<void> {
    const p = shQuote(path);
    // A read-only folder inside (a Go module cache) blocks rm as non-root: open folders first.
    await this.sh(`rm -rf -- ${p} 2>/dev/null && exit 0\nset -- ${p}\n${OPEN_FOLDERS}\nrm -rf -- ${p}`, `Deleting ${path}`);
  }

  async rename(from: string, to: string): Promise<void> {
    const t = shQuote(to);
    // mv would move a folder *into* an existing folder; rename(2) never does: refuse instead.
    await this.sh(`if [ -d ${t} ] && [ ! -L ${t} ]; then printf '%s: File exists\\n' ${t} >&2; exit 1; fi\nmv -f -- ${shQuote(from)} ${t}`, `Renaming ${from} to ${to}`);
  }

  async exists(path: string): Promise<boolean> {
    const p = shQuote(path);
    return (await this.sh(`[ -e ${p} ] || [ -L ${p} ]`, `Checking ${path}`, [1])).status === 0;
  }

  async mkdirp(path: string): Promise<void> {
    await this.sh(`mkdir -p -- ${shQuote(path)}`, `Creating ${path}`);
  }

  async list(path: string): Promise<HostEntry[]> {
    return (await this.listWithClock(path)).entries;
  }

  async listNames(path: string): Promise<NamedEntry[]> {
    const p = shQuote(path);
    // Globbing ignores a folder it cannot read (an empty list, exit 0): ls says so instead.
    const r = await this.sh(`[ -d ${p} ] || exit 0\ncd -- ${p} || exit 1\nls -a -- . >/dev/null || exit 1\n${LIST_NAMES}`, `Listing ${path}`);
    return parseNameList(r.stdout);
  }

  /** A folder's entries (a symlink to a folder is followed, as readdir does) and the server's clock. */
  private async listWithClock(path: string): Promise<{ entries: HostEntry[]; now: number }> {
    const p = shQuote(path);
    const r = await this.sh(`${SERVER_NOW}\n[ -d ${p} ] || exit 0\ncd -- ${p} || exit 1\n${RSYNC_LIST} -d -- ./`, `Listing ${path}`);
    const entries = parseRsyncListing(r.stdout).filter((e) => e.path !== '.').map((e) => ({ name: e.path, kind: e.kind, size: e.size, mtimeMs: e.mtimeMs }));
    return { entries, now: parseServerNow(r.stdout) };
  }

  /**
   * rsync lists kind, size and time; POSIX ls the inode and link count of this one path; df its
   * file system (a symlink's is its folder's).
   */
  async stat(path: string): Promise<HostStat | null> {
    const p = shQuote(path.length > 1 ? path.replace(/\/+$/, '') : path);
    const r = await this.sh([
      `p=${p}`,
      'if [ ! -e "$p" ] && [ ! -L "$p" ]; then exit 3; fi',
      FS_OF,
      'printf \'ls %s\\n\' "$(ls -l -d -n -i -- "$p" | head -n 1)"',
      `${RSYNC_LIST} -d -- "$p"`,
      'if [ -L "$p" ]; then fs_of "$(dirname -- "$p")"; else fs_of "$p"; fi',
    ].join('\n'), `Reading the details of ${path}`, [3]);
    if (r.status === 3) return null;
    const [listed] = parseRsyncListing(r.stdout);
    const id = parseLsIdentity(/^ls (.*)$/m.exec(r.stdout)?.[1] ?? '');
    if (!listed || !id) throw this.failure(`Reading the details of ${path}`, `unexpected answer: ${r.stdout.slice(0, 300)}`);
    const df = parseDf(/^df (.*)$/m.exec(r.stdout)?.[1] ?? '');
    return { kind: listed.kind, size: listed.size, mtimeMs: listed.mtimeMs, dev: serverDevice(this.name, df?.mountPoint ?? ''), ino: id.ino, nlink: id.nlink };
  }

  async readBytes(path: string, maxBytes: number): Promise<Buffer> {
    const s = await this.stat(path);
    if (!s || s.kind !== 'file') throw new ShadowSlotsError('not-found', `${path} is not a file on ${this.name}.`);
    if (s.size > maxBytes) throw new ShadowSlotsError('invalid-input', `${path} is ${s.size} bytes, more than the ${maxBytes} that can be opened this way.`, { hint: 'Restore it, or open it from the slot folder with another program.' });
    const local = await this.fetch(path);
    try {
      return await readFile(local);
    } finally {
      await rm(local, { force: true });
    }
  }

  async run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    const r = await this.connection.exec(shCommand([command, ...args]), options.signal ? { signal: options.signal } : {});
    if (options.onStdout && r.stdout) options.onStdout(r.stdout);
    const ok = options.okExitCodes ?? [0];
    const commandLine = `ssh ${this.name} ${formatCommandLine(command, args)}`;
    if (!ok.includes(r.status)) {
      // 127: the shell found no such program on the server.
      const tail = r.stderr.trim().split('\n').slice(-5).join('\n');
      throw new ProcessError(options.errorCode ?? 'process', `${command} on ${this.name} failed with exit code ${r.status}${tail ? `: ${tail}` : ''}`, commandLine, r.status, r.stderr.slice(-2000));
    }
    return { command, argv: [...args], exitCode: r.status, stdout: r.stdout, stderr: r.stderr, durationMs: Math.round(performance.now() - started) };
  }

  async fileSystem(path: string): Promise<{ type: string; freeBytes: number; totalBytes: number }> {
    const r = await this.sh(`${FS_OF}\nfs_of ${shQuote(path)}`, `Measuring the file system of ${path}`);
    return fileSystemOf(r.stdout);
  }

  acquireLock(lockFile: string, command: string): Promise<HeldLock> {
    return acquireRemoteLock(this.connection, lockFile, command);
  }

  lockHolder(lockFile: string): Promise<{ owner: LockOwner; live: boolean } | null> {
    return readRemoteOwner(this.connection, lockFile);
  }

  async removeTornWrites(dir: string): Promise<number> {
    // Ages are needed only for lock drafts: most folders have no candidate at all, and names are cheaper.
    const named = await this.listNames(dir);
    if (!named.some((e) => e.kind === 'file' && (TORN_WRITE.test(e.name) || LOCK_DRAFT.test(e.name)))) return 0;
    const { entries, now } = await this.listWithClock(dir);
    const doomed = entries.filter((e) => e.kind === 'file' && (TORN_WRITE.test(e.name)
      // Lock drafts are the exception: a run trying to take the lock writes one right now.
      || (LOCK_DRAFT.test(e.name) && now - e.mtimeMs > ABANDONED_DRAFT_AGE_S * 1000))).map((e) => this.join(dir, e.name));
    if (doomed.length > 0) await this.sh(`rm -f -- ${doomed.map(shQuote).join(' ')}`, `Removing temporary files in ${dir}`);
    return doomed.length;
  }

  /**
   * From walk(): POSIX has no `ls -q` in busybox and no bulk printer of link counts, and `ls -l`
   * lines can be forged by a name with a line break; rsync's escaped listing cannot.
   */
  async linkUsage(root: string): Promise<{ exclusiveBytes: number; sharedBytes: number }> {
    let exclusiveBytes = 0;
    let sharedBytes = 0;
    for (const e of await this.walk(root)) {
      if (e.kind !== 'file') continue;
      if (e.linked) sharedBytes += e.size;
      else exclusiveBytes += e.size;
    }
    return { exclusiveBytes, sharedBytes };
  }

  async makeFoldersAccessible(root: string): Promise<void> {
    await this.sh(`set -- ${shQuote(root)}\n${OPEN_FOLDERS}\nexit 0`, `Opening the folders of ${root}`);
  }

  /**
   * Files and symlinks of a tree in walk order (comparePaths), with whether a file has other
   * hard links (`linked`): rsync lists the tree, POSIX find names the files with one link,
   * NUL-separated, so any name (newlines included) comes back whole.
   */
  async walk(root: string, signal?: AbortSignal): Promise<RemoteWalkEntry[]> {
    const r = await this.sh(`cd -- ${shQuote(root)} || exit 1\n${RSYNC_LIST} -r -- ./ || exit 1\nprintf '${SINGLE_LINKS}\\n'\nfind . -type f -links 1 -exec printf '%s\\0' {} +`, `Walking ${root}`, [], signal);
    const split = r.stdout.indexOf(`\n${SINGLE_LINKS}\n`);
    if (split < 0) throw this.failure(`Walking ${root}`, 'the listing was cut short');
    const single = new Set(r.stdout.slice(split + SINGLE_LINKS.length + 2).split('\0').filter((n) => n.startsWith('./')).map((n) => n.slice(2)));
    return parseRsyncListing(r.stdout.slice(0, split + 1))
      .filter((e) => e.path !== '.' && e.kind !== 'folder')
      .map((e) => ({ path: e.path, kind: e.kind === 'folder' ? 'other' : e.kind, size: e.size, mtimeMs: e.mtimeMs, target: e.target ?? '', linked: e.kind === 'file' && !single.has(e.path) }))
      .sort((a, b) => comparePaths(a.path, b.path));
  }

  /** sha256 of files of a tree (paths relative to `root`): see sshHash.ts for where it is computed. */
  async hashFiles(root: string, paths: string[], signal?: AbortSignal): Promise<Map<string, string>> {
    this.hasSha256sum ??= this.sh('printf x | sha256sum 2>/dev/null', 'Looking for sha256sum', [1, 127]).then((r) => r.stdout.startsWith(SHA256_OF_X), () => false);
    return (await this.hasSha256sum) ? hashOnServer(this.connection, root, paths, signal) : hashHere(this.connection, root, paths, signal);
  }

  rsyncDestination(path: string): string { return this.connection.rsyncPath(path); }

  /** rsync through this connection; `-s` keeps names away from the server's shell. */
  rsyncTransportArgs(): string[] { return ['-e', this.connection.rsyncShell(), '-s']; }


  /** Copies a server file to a private local file (rsync over the same connection). */
  private async fetch(path: string): Promise<string> {
    const local = localScratch();
    await this.connection.runThrough(this.rsyncPath, ['-t', ...this.rsyncTransportArgs(), '--', this.rsyncDestination(path), local], { errorCode: 'process' });
    return local;
  }

  /**
   * Change logs and checksum lists are text: they travel through the session (one round trip,
   * no rsync start-up) into and out of a private local file.
   */
  async staged(path: string, mode: 'read' | 'write'): Promise<string> {
    const local = localScratch();
    if (mode === 'read') await this.downloadText(path, local);
    this.stagedFiles.set(path, local);
    return local;
  }

  /** Sends a staged file back with writeTextAtomic: a crash or a dropped connection leaves the old file or the new one. */
  async publishStaged(path: string): Promise<void> {
    const local = this.stagedFiles.get(path);
    if (local === undefined) throw new Error(`${path} was not staged.`);
    try {
      const text = await readFile(local, 'utf8').catch(() => null);
      if (text !== null) await this.writeTextAtomic(path, text);
    } finally {
      this.stagedFiles.delete(path);
      await rm(local, { force: true });
    }
  }

  /** Forgets a staged file without sending it. */
  async discardStaged(path: string): Promise<void> {
    const local = this.stagedFiles.get(path);
    this.stagedFiles.delete(path);
    if (local !== undefined) await rm(local, { force: true });
  }

  /**
   * Preflight on the server in one script: the folder exists (or is created when asked), is a
   * writable folder, takes hard links; its file system and free space; and the tools the ring
   * needs there (rsync ≥ 3.1, GNU find, sha256sum).
   */
  async probeTarget(path: string, create: boolean): Promise<RemoteProbe> {
    const p = shQuote(path);
    const r = await this.sh([
      `if [ ! -e ${p} ]; then ${create ? `mkdir -p -- ${p} || exit 4` : 'exit 3'}; fi`,
      `[ -d ${p} ] || exit 5`,
      `[ -w ${p} ] || exit 6`,
      `d=${p}/.shadow-slots-probe-$$`,
      'mkdir -- "$d" || exit 7',
      `printf probe > "$d/a" || { rm -rf -- "$d"; exit 8; }`,
      'if ln -- "$d/a" "$d/b" 2>/dev/null && [ "$(ls -l -n -d -- "$d/a" | awk \'{ print $2 }\')" = 2 ]; then l=1; else l=0; fi',
      'rm -rf -- "$d"',
      FS_OF,
      `fs_of ${p}`,
      'echo "links $l"',
      'echo "rsync $(rsync --version 2>/dev/null | head -n 1)"',
      'echo "sums $(printf x | sha256sum 2>/dev/null)"',
      'exit 0',
    ].join('\n'), `Checking the target ${path}`, [3, 4, 5, 6, 7, 8]);
    const field = (name: string) => new RegExp(`^${name} (.*)$`, 'm').exec(r.stdout)?.[1] ?? '';
    const fs = fileSystemOf(r.stdout);
    this.hasSha256sum = Promise.resolve(field('sums').startsWith(SHA256_OF_X));
    return {
      status: ({ 0: 'ok', 3: 'missing', 4: 'cannot-create', 5: 'not-folder', 6: 'not-writable', 7: 'not-writable', 8: 'full' } as const)[r.status as 0] ?? 'not-writable',
      stderr: r.stderr.trim(),
      fsType: fs.type,
      freeBytes: fs.freeBytes,
      totalBytes: fs.totalBytes,
      hardLinks: field('links') === '1',
      rsyncVersion: parseRsyncVersion(field('rsync')),
      sha256sum: field('sums').startsWith(SHA256_OF_X),
    };
  }

  async copyOut(path: string, to: string): Promise<void> {
    const s = await this.stat(path);
    if (!s) throw new ShadowSlotsError('not-found', `${path} does not exist on ${this.name}.`);
    const folder = s.kind === 'folder';
    // -l: a symlink comes back as a link; nothing on the server is followed.
    await this.connection.runThrough(this.rsyncPath, [folder ? '-rlt' : '-lt', ...this.rsyncTransportArgs(), '--', this.rsyncDestination(folder ? `${path}/` : path), folder ? `${to}/` : to], { errorCode: 'process' });
  }

  async close(): Promise<void> {
    await this.connection.close();
    for (const local of this.stagedFiles.values()) await rm(local, { force: true });
    this.stagedFiles.clear();
  }
}

/** A script printing a server file, or exiting 3 when there is none. */
function catOrExit3(path: string): string {
  const p = shQuote(path);
  return `if [ ! -e ${p} ]; then exit 3; fi\ncat -- ${p}`;
}
