import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { ShadowSlotsError } from '../../core/errors';
import { shCommand, shQuote } from '../../core/posixQuote';
import type { RemoteTarget } from '../../core/remoteTarget';
import { fileSystemName } from '../fsProbe';
import { TORN_WRITE } from '../fsutil';
import type { HeldLock, LockOwner } from '../lock';
import { formatCommandLine, ProcessError, type RunOptions, type RunResult } from '../runner';
import type { WalkEntry } from '../treeWalk';
import { comparePaths } from '../treeWalk';
import type { HostEntry, HostStat, RingHost } from './host';
import { acquireRemoteLock, readRemoteOwner } from './remoteLock';
import { controlBase, SshConnection, STAGE_PREFIX, type RemoteResult, type SshOptions } from './sshConnection';

/** What preflight learns about a target folder on a server (see SshHost.probeTarget). */
export interface RemoteProbe {
  status: 'ok' | 'missing' | 'cannot-create' | 'not-folder' | 'not-writable' | 'full';
  stderr: string;
  fsType: string;
  freeBytes: number;
  totalBytes: number;
  hardLinks: boolean;
  /** The server's rsync version, null when it has none. */
  rsyncVersion: string | null;
  gnuFind: boolean;
  sha256sum: boolean;
}

const LOCK_DRAFT = /^lock\.new-\d+-[0-9a-f]{6}$/;
const ABANDONED_DRAFT_AGE_S = 60;

/** What `find -printf '%y'` prints, as a host entry kind. */
function kindOf(y: string): HostEntry['kind'] {
  return y === 'd' ? 'folder' : y === 'f' ? 'file' : y === 'l' ? 'symlink' : 'other';
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
 * quoted by shQuote. What the server needs: sshd, a POSIX sh, rsync ≥ 3.1, and the GNU tools
 * every Linux distribution ships (find -printf for listings, stat -f for free space,
 * sha256sum -z for checksums); btrfs-progs for a copy-on-write ring.
 */
export class SshHost implements RingHost {
  readonly name: string;
  private readonly stagedFiles = new Map<string, string>();

  private constructor(readonly connection: SshConnection, private readonly rsyncPath: string) {
    this.name = connection.label;
  }

  static async open(target: RemoteTarget, options: SshOptions & { rsyncPath?: string } = {}): Promise<SshHost> {
    return new SshHost(await SshConnection.open(target, options), options.rsyncPath ?? 'rsync');
  }

  join(...parts: string[]): string { return posix.join(...parts); }

  /** Runs a script; a non-zero status other than `allowed` becomes an error naming the host. */
  private async sh(script: string, what: string, allowed: number[] = [], signal?: AbortSignal): Promise<RemoteResult> {
    const r = await this.connection.exec(script, signal ? { signal } : {});
    if (r.status !== 0 && !allowed.includes(r.status)) throw this.failure(what, r.stderr);
    return r;
  }

  private failure(what: string, stderr: string): RemoteFileError {
    const text = stderr.trim().split('\n').slice(-3).join(' | ');
    const code = ERRNO_TEXT.find(([re]) => re.test(stderr))?.[1];
    return new RemoteFileError(`${what} on ${this.name} failed${text ? `: ${text}` : ''}`, code);
  }

  async readText(path: string): Promise<string | null> {
    const p = shQuote(path);
    const r = await this.sh(`if [ ! -e ${p} ]; then exit 3; fi\ncat -- ${p}`, `Reading ${path}`, [3]);
    return r.status === 3 ? null : r.stdout;
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
    await this.sh(`rm -rf -- ${p} 2>/dev/null && exit 0\nfind ${p} -type d ! -perm -u=rwx -exec chmod u+rwx -- {} + 2>/dev/null\nrm -rf -- ${p}`, `Deleting ${path}`);
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
    const p = shQuote(path);
    const r = await this.sh(`[ -d ${p} ] || exit 0\nfind -H ${p} -mindepth 1 -maxdepth 1 -printf '%y %s %T@ %f\\0'`, `Listing ${path}`);
    const entries: HostEntry[] = [];
    for (const record of r.stdout.split('\0')) {
      const m = /^(\S) (\d+) ([\d.]+) ([\s\S]+)$/.exec(record);
      if (!m) continue;
      const kind = kindOf(m[1]!);
      entries.push({ name: m[4]!, kind, size: kind === 'folder' ? 0 : Number(m[2]), mtimeMs: Number(m[3]) * 1000 });
    }
    return entries;
  }

  async stat(path: string): Promise<HostStat | null> {
    const p = shQuote(path);
    const r = await this.sh(`if [ ! -e ${p} ] && [ ! -L ${p} ]; then exit 3; fi\nfind ${p} -maxdepth 0 -printf '%y %s %T@ %D %i %n'`, `Reading the details of ${path}`, [3]);
    if (r.status === 3) return null;
    const [y, size, mtime, dev, ino, nlink] = r.stdout.trim().split(' ');
    return { kind: kindOf(y ?? ''), size: Number(size), mtimeMs: Number(mtime) * 1000, dev: Number(dev), ino: Number(ino), nlink: Number(nlink) };
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
    const r = await this.sh(`stat -f -c '%t %a %S %b' -- ${shQuote(path)}`, `Measuring the file system of ${path}`);
    const [type, avail, bsize, blocks] = r.stdout.trim().split(' ');
    return { type: fileSystemName(parseInt(type ?? '0', 16)), freeBytes: Number(avail) * Number(bsize), totalBytes: Number(blocks) * Number(bsize) };
  }

  acquireLock(lockFile: string, command: string): Promise<HeldLock> {
    return acquireRemoteLock(this.connection, lockFile, command);
  }

  lockHolder(lockFile: string): Promise<{ owner: LockOwner; live: boolean } | null> {
    return readRemoteOwner(this.connection, lockFile);
  }

  async removeTornWrites(dir: string): Promise<number> {
    const r = await this.sh(`[ -d ${shQuote(dir)} ] || exit 0\ndate +%s\nfind ${shQuote(dir)} -mindepth 1 -maxdepth 1 -type f -printf '%T@ %f\\0'`, `Listing ${dir}`);
    const newline = r.stdout.indexOf('\n');
    if (newline < 0) return 0;
    const now = Number(r.stdout.slice(0, newline));
    const doomed: string[] = [];
    for (const record of r.stdout.slice(newline + 1).split('\0')) {
      const m = /^([\d.]+) ([\s\S]+)$/.exec(record);
      if (!m) continue;
      const name = m[2]!;
      // Lock drafts are the exception: a run trying to take the lock writes one right now.
      if (TORN_WRITE.test(name) || (LOCK_DRAFT.test(name) && now - Number(m[1]) > ABANDONED_DRAFT_AGE_S)) doomed.push(this.join(dir, name));
    }
    if (doomed.length > 0) await this.sh(`rm -f -- ${doomed.map(shQuote).join(' ')}`, `Removing temporary files in ${dir}`);
    return doomed.length;
  }

  async linkUsage(root: string): Promise<{ exclusiveBytes: number; sharedBytes: number }> {
    const r = await this.sh(`find ${shQuote(root)} -type f -printf '%n %s\\n' | awk '{ if ($1 <= 1) e += $2; else s += $2 } END { printf "%.0f %.0f\\n", e, s }'`, `Measuring ${root}`);
    const [exclusiveBytes, sharedBytes] = r.stdout.trim().split(' ').map(Number);
    return { exclusiveBytes: exclusiveBytes ?? 0, sharedBytes: sharedBytes ?? 0 };
  }

  async makeFoldersAccessible(root: string): Promise<void> {
    await this.sh(`find ${shQuote(root)} -type d ! -perm -u=rwx -exec chmod u+rwx -- {} +`, `Opening the folders of ${root}`);
  }

  /**
   * Files and symlinks of a tree in walk order (comparePaths), as treeWalk yields them locally:
   * one `find` on the server, NUL-separated, so any name (newlines included) comes back whole.
   */
  async walk(root: string, signal?: AbortSignal): Promise<Array<WalkEntry & { target: string }>> {
    const r = await this.sh(`cd -- ${shQuote(root)} || exit 1\nfind . -mindepth 1 ! -type d -printf '%y %s %T@ %i %n %P\\0%l\\0'`, `Walking ${root}`, [], signal);
    const fields = r.stdout.split('\0');
    const entries: Array<WalkEntry & { target: string }> = [];
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const m = /^(\S) (\d+) ([\d.]+) (\d+) (\d+) ([\s\S]+)$/.exec(fields[i]!);
      if (!m) continue;
      const kind = m[1] === 'f' ? 'file' : m[1] === 'l' ? 'symlink' : 'other';
      entries.push({ path: m[6]!, kind, size: Number(m[2]), mtimeMs: Math.trunc(Number(m[3]) * 1000), ino: Number(m[4]), nlink: Number(m[5]), target: fields[i + 1]! });
    }
    return entries.sort((a, b) => comparePaths(a.path, b.path));
  }

  /**
   * sha256 of files of a tree, computed on the server (`sha256sum -z`: names come back unescaped
   * and NUL-terminated), in batches so no script grows past a few hundred kilobytes.
   */
  async hashFiles(root: string, paths: string[], signal?: AbortSignal): Promise<Map<string, string>> {
    const hashes = new Map<string, string>();
    let start = 0;
    while (start < paths.length) {
      let end = start;
      let size = 0;
      while (end < paths.length && (end === start || size < 256 * 1024)) size += paths[end++]!.length + 3;
      const batch = paths.slice(start, end);
      const r = await this.sh(`cd -- ${shQuote(root)} || exit 1\nsha256sum -z -- ${batch.map(shQuote).join(' ')}`, `Hashing files in ${root}`, [1], signal);
      for (const record of r.stdout.split('\0')) {
        const m = /^([0-9a-f]{64}) [ *]([\s\S]+)$/.exec(record);
        if (m) hashes.set(m[2]!, m[1]!);
      }
      start = end;
    }
    return hashes;
  }

  rsyncDestination(path: string): string { return this.connection.rsyncPath(path); }

  /** rsync through this connection; `-s` keeps names away from the server's shell. */
  rsyncTransportArgs(): string[] { return ['-e', this.connection.rsyncShell(), '-s']; }

  /** A private local file name for a staged or fetched file (removed after use). */
  private async localTemp(): Promise<string> {
    return join(controlBase(), `${STAGE_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
  }

  /** Copies a server file to a private local file (rsync over the same connection). */
  private async fetch(path: string): Promise<string> {
    const local = await this.localTemp();
    await this.connection.runThrough(this.rsyncPath, ['-t', ...this.rsyncTransportArgs(), '--', this.rsyncDestination(path), local], { errorCode: 'process' });
    return local;
  }

  /**
   * Change logs and checksum lists are text: they travel through the session (one round trip,
   * no rsync start-up) into and out of a private local file.
   */
  async staged(path: string, mode: 'read' | 'write'): Promise<string> {
    const local = await this.localTemp();
    if (mode === 'read') {
      const text = await this.readText(path);
      if (text !== null) await writeFile(local, text);
    }
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
      'if ln -- "$d/a" "$d/b" 2>/dev/null && [ "$(find "$d/a" -maxdepth 0 -printf %n)" = 2 ]; then l=1; else l=0; fi',
      'rm -rf -- "$d"',
      `echo "fs $(stat -f -c '%t %a %S %b' -- ${p})"`,
      'echo "links $l"',
      'echo "rsync $(rsync --version 2>/dev/null | head -n 1)"',
      'echo "find $(find / -maxdepth 0 -printf ok 2>/dev/null)"',
      'echo "sums $(printf x | sha256sum -z 2>/dev/null | cut -c1-8)"',
      'exit 0',
    ].join('\n'), `Checking the target ${path}`, [3, 4, 5, 6, 7, 8]);
    const field = (name: string) => new RegExp(`^${name} (.*)$`, 'm').exec(r.stdout)?.[1] ?? '';
    const [type, avail, bsize, blocks] = field('fs').split(' ');
    return {
      status: ({ 0: 'ok', 3: 'missing', 4: 'cannot-create', 5: 'not-folder', 6: 'not-writable', 7: 'not-writable', 8: 'full' } as const)[r.status as 0] ?? 'not-writable',
      stderr: r.stderr.trim(),
      fsType: fileSystemName(parseInt(type ?? '0', 16)),
      freeBytes: Number(avail) * Number(bsize),
      totalBytes: Number(blocks) * Number(bsize),
      hardLinks: field('links') === '1',
      rsyncVersion: /version\s+(\d+\.\d+(?:\.\d+)?)/.exec(field('rsync'))?.[1] ?? null,
      gnuFind: field('find') === 'ok',
      sha256sum: field('sums') === '2d711642',
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
