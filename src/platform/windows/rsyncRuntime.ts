import { readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { invalid, ShadowSlotsError } from '../../core/errors';
import { RUNTIME_FILE_NAME } from '../../core/windows/helperProfile';
import { peImports } from '../../core/windows/peImports';
import type { RsyncFlavor } from '../../core/windows/paths';
import { plannedFile, type PlannedFile } from './plannedFile';
import { run } from '../runner';

/**
 * rsync.exe and the DLLs it loads from its own folder, which the installer copies into the
 * admin-only install folder (issue 12, finding 1: MSYS2's and Cygwin's folders are writable by
 * every signed-in user, so the elevated helper must never load code from them). DLLs not in
 * rsync's folder are Windows' own and load from System32.
 */
export interface RsyncRuntimeFile {
  /** Name in rsync's folder: `rsync.exe`, `msys-2.0.dll`, … */
  name: string;
  bytes: Buffer;
}

const MAX_FILES = 64;
const MAX_BYTES = 64 * 1024 * 1024;
const RUNTIME_NAME = RUNTIME_FILE_NAME;

/** Installed beside rsync.exe when the ring is on a server (issue 15): the ssh of rsync's own runtime. */
export const SSH_PROGRAMS = ['ssh.exe', 'ssh-keygen.exe'] as const;
/** What to install when ssh.exe or ssh-keygen.exe is not beside rsync.exe. */
export const SSH_PACKAGE_HINT = 'Install OpenSSH into rsync\'s own runtime, from a prompt run as administrator: MSYS2 "pacman -S openssh", Cygwin setup-x86_64.exe with the "openssh" package (cwRsync ships ssh.exe and ssh-keygen.exe in its bin folder). The helper never uses Windows\' own OpenSSH or one found on PATH.';

/**
 * Reads rsync.exe and, following the PE import tables, every DLL it needs that lies in the
 * same folder (breadth first, rsync.exe first). `exe` is a path on this machine: the rsync found
 * on Windows, or off Windows a folder copied from one (`helper plan --rsync`). With `ssh`, the
 * folder's ssh.exe and ssh-keygen.exe and their DLLs come too, for a ring on a server.
 */
export async function collectRsyncRuntime(exe: string, options: { ssh?: boolean } = {}): Promise<RsyncRuntimeFile[]> {
  const dir = path.dirname(exe);
  // Windows file names are case-insensitive; a copy on another OS keeps whatever case it had.
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    throw new ShadowSlotsError('preflight', `rsync's folder ${dir} cannot be read (${error.code ?? error.message}).`, { hint: 'Check the rsync path (the "shadowSlots.rsyncPath" setting or --rsync).' });
  });
  const byLower = new Map(names.map((n) => [n.toLowerCase(), n]));
  const files: RsyncRuntimeFile[] = [];
  const programs = options.ssh === true ? [...SSH_PROGRAMS] : [];
  const queue = [path.basename(exe), ...programs];
  const seen = new Set(queue.map((n) => n.toLowerCase()));
  while (queue.length > 0) {
    const name = queue.shift()!;
    const actual = byLower.get(name.toLowerCase());
    if (actual === undefined && programs.includes(name as typeof SSH_PROGRAMS[number])) {
      throw new ShadowSlotsError('preflight', `${name} is not beside rsync.exe in ${dir}: the elevated helper reaches a server only with the ssh of rsync's own runtime.`, { hint: SSH_PACKAGE_HINT });
    }
    if (actual === undefined) throw new ShadowSlotsError('preflight', `${path.join(dir, name)} does not exist.`, { hint: 'Install rsync again (see docs/windows.md).' });
    if (!RUNTIME_NAME.test(actual)) throw invalid(`${JSON.stringify(actual)} in ${dir} is not a file name the helper installs.`);
    const program = programs.find((p) => p === name.toLowerCase());
    const file = path.join(dir, actual);
    if ((await stat(file)).size > MAX_BYTES) throw invalid(`${file} is larger than ${MAX_BYTES} bytes; it is not an rsync runtime file.`);
    const bytes = await readFile(file);
    files.push({ name: files.length === 0 ? 'rsync.exe' : program ?? actual, bytes });
    let imports: string[];
    try {
      imports = peImports(bytes);
    } catch (error) {
      throw invalid(`${file} is ${(error as Error).message}.`, 'Point the rsync setting at rsync.exe of MSYS2, Cygwin or cwRsync.');
    }
    for (const dll of imports) {
      if (seen.has(dll) || !byLower.has(dll)) continue;
      seen.add(dll);
      queue.push(dll);
      if (seen.size > MAX_FILES) throw invalid(`${programs.length > 0 ? 'rsync.exe and ssh need' : 'rsync.exe needs'} more than ${MAX_FILES} DLLs from its folder ${dir}; that is not an rsync installation the helper can copy.`);
    }
  }
  return files;
}

/**
 * `/etc/fstab` of the admin-only rsync copy. `noacl` lets every file rsync creates take the slot
 * folder's inherited, protected DACL (without it Cygwin writes POSIX-style entries, e.g. for
 * Everyone); the cygdrive prefix is the one the stored paths are converted for.
 */
export function rsyncFstab(flavor: RsyncFlavor): string {
  return `none ${flavor === 'cygwin' ? '/cygdrive' : '/'} cygdrive binary,posix=0,noacl,user 0 0\n`;
}

/** The rsync copy as installed files (`rsync/usr/bin/<name>`, then `rsync/etc/fstab`), rsync.exe first. */
export function runtimeFiles(files: RsyncRuntimeFile[], flavor: RsyncFlavor): PlannedFile[] {
  if (files.length === 0 || files[0]!.name.toLowerCase() !== 'rsync.exe') throw invalid('The rsync files to install must start with rsync.exe.');
  const seen = new Set<string>();
  const planned: PlannedFile[] = [];
  for (const f of files) {
    const lower = f.name.toLowerCase();
    if (!RUNTIME_NAME.test(f.name) || seen.has(lower)) throw invalid(`${JSON.stringify(f.name)} is not a file name the helper installs beside rsync.exe.`);
    seen.add(lower);
    planned.push(plannedFile(`rsync/usr/bin/${lower === 'rsync.exe' ? 'rsync.exe' : f.name}`, f.bytes));
  }
  planned.push(plannedFile('rsync/etc/fstab', Buffer.from(rsyncFstab(flavor), 'utf8')));
  return planned;
}

/** `rsync --version` of rsync.exe on this (Windows) machine, run unelevated: the planner's floor check for a server ring. */
export async function windowsRsyncVersion(exe: string, signal?: AbortSignal): Promise<string> {
  const r = await run(exe, ['--version'], { timeoutMs: 15_000, errorCode: 'preflight', ...(signal ? { signal } : {}) });
  return r.stdout.split('\n')[0] ?? '';
}
