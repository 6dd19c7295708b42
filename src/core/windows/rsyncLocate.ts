import * as path from 'node:path';
import { ShadowSlotsError } from '../errors';
import type { RsyncFlavor } from './paths';

/** An rsync.exe found on Windows, and which path spelling it expects. */
export interface WindowsRsync {
  path: string;
  flavor: RsyncFlavor;
  from: 'setting' | 'PATH' | 'MSYS2' | 'Cygwin' | 'cwRsync';
}

export interface LocateOptions {
  /** The `shadowSlots.rsyncPath` setting (or --rsync), if any. */
  setting?: string | undefined;
  /** The flavor the user chose; otherwise guessed from the folder. */
  flavor?: RsyncFlavor | undefined;
  /** `%PATH%` (`;`-separated). */
  pathEnv?: string | undefined;
  programFiles?: string | undefined;
  programFilesX86?: string | undefined;
  programData?: string | undefined;
  systemDrive?: string | undefined;
  /** Injected so the search is testable off Windows. */
  exists: (file: string) => boolean;
}

export const RSYNC_INSTALL_HINT = [
  'Install one of these, then run the command again (or set "shadowSlots.rsyncPath" to rsync.exe):',
  '  • MSYS2 (https://www.msys2.org): install it, then in an MSYS2 shell run "pacman -S rsync" (rsync.exe lands in C:\\msys64\\usr\\bin).',
  '  • Cygwin (https://cygwin.com): run setup-x86_64.exe and select the "rsync" package (C:\\cygwin64\\bin).',
  '  • cwRsync (https://itefix.net/cwrsync), e.g. "choco install rsync".',
  'WSL\'s rsync is not used: it does not run under SYSTEM or when you are logged off.',
].join('\n');

/** MSYS2's rsync lives in `…\usr\bin` next to msys-2.0.dll; everything else here is Cygwin-based. */
export function guessFlavor(rsyncPath: string): RsyncFlavor {
  const lower = rsyncPath.toLowerCase().replace(/\//g, '\\');
  return /\\(msys64|msys32|msys2)\\|\\usr\\bin\\rsync\.exe$|\\git\\usr\\bin\\/.test(lower) ? 'msys2' : 'cygwin';
}

/**
 * The order of the search: the setting, then PATH, then the usual MSYS2, Cygwin and cwRsync
 * folders. Throws a preflight error with install instructions when nothing is found.
 */
export function locateWindowsRsync(o: LocateOptions): WindowsRsync {
  const w = path.win32;
  const flavorOf = (p: string) => o.flavor ?? guessFlavor(p);
  if (o.setting !== undefined && o.setting !== '') {
    if (!o.exists(o.setting)) {
      throw new ShadowSlotsError('preflight', `The configured rsync ${o.setting} does not exist.`, { hint: `Fix the "shadowSlots.rsyncPath" setting or clear it to search the usual places.\n${RSYNC_INSTALL_HINT}` });
    }
    return { path: o.setting, flavor: flavorOf(o.setting), from: 'setting' };
  }
  for (const dir of (o.pathEnv ?? '').split(';')) {
    const d = dir.trim().replace(/^"(.*)"$/, '$1');
    // Relative PATH entries would resolve against whatever folder the task starts in.
    if (d === '' || !w.isAbsolute(d) || !/^([A-Za-z]:\\|\\\\)/.test(d)) continue;
    // Windows' own System32 has no rsync; a WSL shim there would be the wrong one anyway.
    if (/\\windows\\system32\\?$/i.test(d) || /\\windowsapps\\?$/i.test(d)) continue;
    const candidate = w.join(d, 'rsync.exe');
    if (o.exists(candidate)) return { path: candidate, flavor: flavorOf(candidate), from: 'PATH' };
  }
  const drive = (o.systemDrive ?? 'C:').replace(/\\$/, '');
  const programFiles = o.programFiles ?? `${drive}\\Program Files`;
  const programFilesX86 = o.programFilesX86 ?? `${drive}\\Program Files (x86)`;
  const programData = o.programData ?? `${drive}\\ProgramData`;
  const known: Array<[string, WindowsRsync['from']]> = [
    [`${drive}\\msys64\\usr\\bin\\rsync.exe`, 'MSYS2'],
    [`${drive}\\cygwin64\\bin\\rsync.exe`, 'Cygwin'],
    [`${drive}\\cygwin\\bin\\rsync.exe`, 'Cygwin'],
    [`${programFiles}\\cwRsync\\bin\\rsync.exe`, 'cwRsync'],
    [`${programFilesX86}\\cwRsync\\bin\\rsync.exe`, 'cwRsync'],
    [`${drive}\\cwRsync\\bin\\rsync.exe`, 'cwRsync'],
    [`${programData}\\chocolatey\\lib\\rsync\\tools\\bin\\rsync.exe`, 'cwRsync'],
  ];
  for (const [candidate, from] of known) {
    if (o.exists(candidate)) return { path: candidate, flavor: o.flavor ?? (from === 'MSYS2' ? 'msys2' : 'cygwin'), from };
  }
  throw new ShadowSlotsError('preflight', 'rsync was not found on this computer.', { hint: RSYNC_INSTALL_HINT });
}
