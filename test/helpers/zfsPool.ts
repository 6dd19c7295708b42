// Real ZFS for the tests: Debian's zfs-fuse (userspace ZFS, pool version 23) with pools on plain
// files. The daemon is started only when none answers, and only that process is stopped, by its
// pid, after the file's tests, pass or fail. Pools are named after the test process so a run
// killed from outside is cleaned up by the next one.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { randomBytes } from 'node:crypto';

const POOL_PREFIX = 'sstest_';
const MARKER_PREFIX = 'shadow-slots-zfsd-';

function onPath(tool: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).concat(['/usr/sbin', '/sbin']).some((d) => d !== '' && existsSync(join(d, tool)));
}

function sh(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Whether a ZFS daemon answers now. */
export function zfsDaemonAnswers(): boolean {
  try { sh('zpool', ['list', '-H', '-o', 'name']); return true; } catch { return false; }
}

/** Why the ZFS tests cannot run here, or null when they can (synchronous: decides `skip`). */
export function zfsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'zfs-fuse needs Linux';
  if (process.getuid?.() !== 0) return 'zfs-fuse answers only root';
  if (!existsSync('/dev/fuse')) return 'there is no /dev/fuse';
  for (const tool of ['zfs', 'zpool']) if (!onPath(tool)) return `the ${tool} command is not installed (apt-get install zfs-fuse)`;
  if (!onPath('zfs-fuse') && !zfsDaemonAnswers()) return 'no ZFS daemon answers and zfs-fuse is not installed';
  return null;
}

let started: { pid: number; marker: string } | null = null;

/**
 * Pools and daemons of test processes that are gone (killed from outside, no after-hooks ran):
 * their pools are destroyed, and a daemon one of them started is stopped.
 */
function sweepAbandoned(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(MARKER_PREFIX)) continue;
    const owner = Number(name.slice(MARKER_PREFIX.length));
    if (owner === process.pid || alive(owner)) continue;
    const marker = join(tmpdir(), name);
    destroyPoolsOf(owner);
    const pid = Number(readFileSync(marker, 'utf8'));
    if (isZfsFuse(pid)) stopDaemon(pid);
    rmSync(marker, { force: true });
  }
  if (zfsDaemonAnswers()) {
    for (const pool of sh('zpool', ['list', '-H', '-o', 'name']).split('\n')) {
      const owner = Number(pool.split('_')[1]);
      if (pool.startsWith(POOL_PREFIX) && owner !== process.pid && !alive(owner)) destroyPool(pool);
    }
  }
}

function isZfsFuse(pid: number): boolean {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!.endsWith('zfs-fuse'); } catch { return false; }
}

function stopDaemon(pid: number): void {
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  // It unmounts everything and exits within seconds.
  for (let i = 0; i < 150 && alive(pid); i++) sleepSync(200);
  if (alive(pid)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
}

function destroyPoolsOf(owner: number): void {
  if (!zfsDaemonAnswers()) return;
  for (const pool of sh('zpool', ['list', '-H', '-o', 'name']).split('\n')) {
    if (pool.startsWith(`${POOL_PREFIX}${owner}_`)) destroyPool(pool);
  }
}

/** `zfs destroy` of a dataset a test made, retried while zfs-fuse still calls it busy. */
export function destroyDataset(name: string): void {
  for (let i = 0; i < 20; i++) {
    try { sh('zfs', ['destroy', name]); return; } catch { sleepSync(500); }
  }
  sh('zfs', ['destroy', name]);
}

function destroyPool(name: string): void {
  // A file system unmounted a moment ago can still be "busy" for zfs-fuse.
  for (let i = 0; i < 20; i++) {
    try { sh('zpool', ['destroy', '-f', name]); return; } catch { sleepSync(500); }
  }
  sh('zpool', ['destroy', '-f', name]);
}

/** Starts zfs-fuse unless a ZFS daemon already answers; returns whether this process started it. */
export function startZfsDaemon(): boolean {
  sweepAbandoned();
  if (started || zfsDaemonAnswers()) return false;
  // --no-kstat-mount: nothing mounted outside the tests' folders.
  const child = spawn('zfs-fuse', ['--no-daemon', '--no-kstat-mount'], { detached: true, stdio: 'ignore' });
  child.unref();
  const pid = child.pid!;
  const marker = join(tmpdir(), `${MARKER_PREFIX}${process.pid}`);
  writeFileSync(marker, String(pid));
  started = { pid, marker };
  for (let i = 0; i < 100 && !zfsDaemonAnswers(); i++) sleepSync(200);
  if (!zfsDaemonAnswers()) throw new Error('zfs-fuse started but does not answer');
  return true;
}

/** Stops the daemon this process started (only that one), after destroying this process's pools. */
export function stopZfsDaemon(): void {
  destroyPoolsOf(process.pid);
  if (!started) return;
  stopDaemon(started.pid);
  rmSync(started.marker, { force: true });
  started = null;
}

/** Registers the file's hooks: the daemon is up for its tests and stopped after them if started here. */
export function useZfsDaemon(): void {
  const why = zfsUnavailable();
  if (why !== null) {
    console.log(`# ZFS tests skipped: ${why}`);
    return;
  }
  before(() => { startZfsDaemon(); });
  after(() => { stopZfsDaemon(); });
}

export interface ZfsPool {
  name: string;
  image: string;
  mountPoint: string;
  /** Destroys the pool and deletes its file; safe to call twice, never throws. */
  cleanup(): void;
}

/** A pool of `sizeMiB` on a sparse file in `dir`, its root dataset mounted at `<dir>/<label>-mnt`. */
export function makeZfsPool(dir: string, sizeMiB: number, label = 'zfs'): ZfsPool {
  const name = `${POOL_PREFIX}${process.pid}_${randomBytes(3).toString('hex')}`;
  const image = join(dir, `${label}.img`);
  const mountPoint = join(dir, `${label}-mnt`);
  let created = false;
  const cleanup = () => {
    if (created) {
      try { destroyPool(name); created = false; } catch (error) { console.log(`# could not destroy pool ${name}: ${(error as Error).message}`); }
    }
    // rm only once nothing is mounted below: it would delete through a mount.
    const mounted = readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1]?.startsWith(mountPoint));
    if (!mounted) {
      rmSync(image, { force: true });
      rmSync(mountPoint, { recursive: true, force: true });
    }
  };
  try {
    sh('truncate', ['-s', `${sizeMiB}M`, image]);
    mkdirSync(mountPoint, { recursive: true });
    // cachefile=none: a daemon restarted later never tries to import a pool whose file is gone.
    sh('zpool', ['create', '-o', 'cachefile=none', '-m', mountPoint, name, image]);
    created = true;
  } catch (error) {
    cleanup();
    throw error;
  }
  return { name, image, mountPoint, cleanup };
}

/** A fresh pool in a temp folder, destroyed and deleted after the test even when it fails. */
export function zfsPool(t: TestContext, sizeMiB = 512): ZfsPool {
  const dir = mkdtempSync(join(tmpdir(), 'shadow-slots-zfs-'));
  let pool: ZfsPool;
  try {
    pool = makeZfsPool(dir, sizeMiB);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  t.after(() => {
    pool.cleanup();
    if (!readFileSync('/proc/mounts', 'utf8').includes(dir)) rmSync(dir, { recursive: true, force: true });
  });
  return pool;
}
