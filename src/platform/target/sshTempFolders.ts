// The folders an SSH connection keeps on this machine, in the system's temp folder: the control
// socket's, and the private folder for local copies of the server's files; and the sweep of those
// a killed run left.
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { lstat, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CONTROL_PREFIX = 'shadow-slots-ssh-';
/** The folder of a process's local copies of a server's change logs and checksum lists: `shadow-slots-stage-<pid>-<random>`. */
export const STAGE_PREFIX = 'shadow-slots-stage-';
/** Folders a killed engine left (its master removed its socket when it ended). */
const LEFTOVER_AGE_MS = 60 * 60 * 1000;

/**
 * A private folder for the control socket. rsync splits `-e` on whitespace and a Unix socket
 * path is limited to ~104 bytes, so it sits in a short temp folder whose path has no space or
 * quote (the system temp folder when it qualifies, else /tmp).
 */
export function controlBase(): string {
  return /^[A-Za-z0-9_./-]+$/.test(tmpdir()) && tmpdir().length <= 60 ? tmpdir() : '/tmp';
}

/** A new private folder for a connection's control socket (leftovers of killed runs are swept first). */
export async function controlDir(): Promise<string> {
  const base = controlBase();
  await sweepLeftovers(base);
  // mkdtemp creates it 0700: nobody else can reach the socket. The pid tells whose it was.
  return mkdtemp(join(base, `${CONTROL_PREFIX}${process.pid}-`));
}


let scratchFolder: { path: string; dev: number; ino: number } | undefined;

/**
 * A file name on this machine for a server file's local copy, a staged file or a draft (removed
 * after use). They hold the names of the files backed up, so they live in a folder only this
 * user can enter (mkdtemp makes it 0700), whatever mode their writers create them with: rsync
 * takes the server file's, a write stream the umask's. The folder goes when the process exits;
 * one a killed run leaves is swept once its process is gone (sweepLeftovers). The editor's engine
 * lives for days, and a temp cleaner may remove the folder meanwhile (and someone else make one by
 * that name): it is checked on every use and made again if it is not the one made here.
 */
export function localScratch(): string {
  if (scratchFolder === undefined || !stillOurs(scratchFolder)) {
    // Windows has no socket path limit to respect, and its own temp folder is the private one.
    const base = process.platform === 'win32' ? tmpdir() : controlBase();
    const path = mkdtempSync(join(base, `${STAGE_PREFIX}${process.pid}-`));
    const s = lstatSync(path);
    if (scratchFolder === undefined) {
      process.once('exit', () => {
        // An exit code a scheduler reads must not change because a temp folder could not go.
        try { if (scratchFolder) rmSync(scratchFolder.path, { recursive: true, force: true }); } catch { /* swept later */ }
      });
    }
    scratchFolder = { path, dev: s.dev, ino: s.ino };
  }
  return join(scratchFolder.path, randomBytes(6).toString('hex'));
}

function stillOurs(folder: { path: string; dev: number; ino: number }): boolean {
  try {
    const s = lstatSync(folder.path);
    return s.isDirectory() && s.dev === folder.dev && s.ino === folder.ino && (process.platform === 'win32' || ((s.mode & 0o777) === 0o700 && s.uid === process.getuid?.()));
  } catch {
    return false;
  }
}

/** Whether the process named in a stage folder's name (`shadow-slots-stage-<pid>-…`) still runs. */
export function stagerAlive(name: string): boolean {
  const pid = Number(/^shadow-slots-stage-(\d+)-/.exec(name)?.[1] ?? Number.NaN);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function sweepLeftovers(base: string): Promise<void> {
  const names = await readdir(base).catch(() => [] as string[]);
  // Stage folders of runs killed while they held them (and single staged files of older versions).
  for (const name of names.filter((n) => n.startsWith(STAGE_PREFIX))) {
    // lstat: a link someone else planted under such a name is not followed, nor removed.
    const s = await lstat(join(base, name)).catch(() => null);
    // A long copy keeps its draft and the previous list there for hours: only a dead run's go.
    if (s && (s.isDirectory() || s.isFile()) && Date.now() - s.mtimeMs > LEFTOVER_AGE_MS && s.uid === process.getuid?.() && !stagerAlive(name)) {
      await rm(join(base, name), { recursive: true, force: true }).catch(() => undefined);
    }
  }
  for (const name of names.filter((n) => n.startsWith(CONTROL_PREFIX))) {
    const dir = join(base, name);
    const s = await stat(dir).catch(() => null);
    if (!s?.isDirectory() || Date.now() - s.mtimeMs < LEFTOVER_AGE_MS || s.uid !== process.getuid?.()) continue;
    // A folder whose socket nobody answers on any more was left by a killed engine.
    if (!(await socketAnswers(join(dir, 'c')))) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}
