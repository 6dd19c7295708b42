import * as path from 'node:path';
import { invalid } from '../errors';

/** Which rsync build runs on Windows; they spell Windows paths differently. */
export type RsyncFlavor = 'cygwin' | 'msys2';
export const RSYNC_FLAVORS: readonly RsyncFlavor[] = ['cygwin', 'msys2'];

const DRIVE = /^([A-Za-z]):(\\.*)?$/;
const UNC = /^\\\\([^\\]+)\\([^\\]+)(\\.*)?$/;
/** Characters Windows never allows in a file name; a path holding one cannot exist. */
// eslint-disable-next-line no-control-regex
const ILLEGAL_IN_NAME = /[<>:"|?*\u0000-\u001f]/;

/**
 * Converts an absolute Windows path to the form the rsync build expects: Cygwin and cwRsync
 * `/cygdrive/c/…`, MSYS2 `/c/…`; UNC paths `//server/share/…` for both.
 */
export function toRsyncPath(windowsPath: string, flavor: RsyncFlavor): string {
  const p = checkWindowsPath(windowsPath);
  const unc = UNC.exec(p);
  if (unc) return `//${unc[1]}/${unc[2]}${(unc[3] ?? '').replace(/\\/g, '/')}`.replace(/\/$/, '');
  const m = DRIVE.exec(p)!;
  const rest = (m[2] ?? '').replace(/\\/g, '/').replace(/\/$/, '');
  const drive = m[1]!.toLowerCase();
  return flavor === 'cygwin' ? `/cygdrive/${drive}${rest}` : `/${drive}${rest}`;
}

/** The volume root (`C:\`) a local path lives on, and the path below it (`Users\me\src`). */
export function splitVolume(windowsPath: string): { volume: string; relative: string } {
  const p = checkWindowsPath(windowsPath);
  const m = DRIVE.exec(p);
  if (!m) {
    throw invalid(`The source ${p} is not on a local drive; shadow copies (VSS) can only be taken of local NTFS volumes.`, 'Back up a folder on a local drive, or use snapshot method "none" for a network source.');
  }
  return { volume: `${m[1]!.toUpperCase()}:\\`, relative: (m[2] ?? '').replace(/^\\+|\\+$/g, '') };
}

/** Rejects what cannot be a normalised absolute Windows path (validateProfile did most of it). */
export function checkWindowsPath(p: string): string {
  const normal = path.win32.normalize(p);
  if (normal.startsWith('\\\\?\\') || normal.startsWith('\\\\.\\')) {
    throw invalid(`The path ${p} uses a device prefix (\\\\?\\ or \\\\.\\).`, 'Write it as a plain path such as D:\\Backups.');
  }
  if (!DRIVE.test(normal) && !UNC.test(normal)) throw invalid(`The path ${p} is not an absolute Windows path.`, 'Use e.g. D:\\Backups\\project.');
  const afterRoot = normal.replace(/^[A-Za-z]:/, '').replace(/^\\\\/, '');
  if (ILLEGAL_IN_NAME.test(afterRoot)) {
    throw invalid(`The path ${p} contains a character Windows does not allow in names (< > : " | ? * or a control character).`, 'Check the path.');
  }
  return normal;
}
