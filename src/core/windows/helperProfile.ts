import { invalid } from '../errors';
import { MAX_SLOTS, MIN_SLOTS } from '../profile';
import { rsyncArgProblem } from './cmdline';
import { NTFS_MAX_LINKS } from './ntfs';
import { RSYNC_FLAVORS, type RsyncFlavor } from './paths';

/**
 * The profile the elevated helper runs, stored as `profile.json` beside helper.ps1 in the
 * admin-only folder. Every decision is made by the TypeScript planner and written here; the
 * helper only joins the run's slot id into the prefixes below, so it stays small. The helper
 * re-validates this shape (see Assert-Profile in assets/helper.ps1).
 */
export interface HelperProfile {
  format: 3;
  kind: 'shadow-slots-helper';
  name: string;
  /**
   * The SID of the user the helper works for (who may start it). The source must be theirs
   * (owned by them or inside their profile folder), the target may be writable by nobody else,
   * and the slots the helper makes are readable by them and administrators only.
   */
  requester: string;
  /** Windows paths, as the user chose them. */
  source: string;
  target: string;
  slots: number;
  /** Volume to shadow, `C:\`; the source is always below it, never the volume itself. */
  volume: string;
  /** Where helper.ps1 and this file live; the helper refuses to run from anywhere else. */
  installDir: string;
  /** Admin-only folder for the per-run directory symlinks to the shadow. */
  linkDir: string;
  /** progress.json and helper.log, readable by the requester only. */
  stateDir: string;
  /** Holds the one file `request`, which only the requester may write: non-empty asks the run to stop. */
  cancelDir: string;
  /** Admin-only scratch folder: TEMP of the helper (Add-Type compiles there) and the per-run exclude lists. */
  tmpDir: string;
  /** SDDL every new slot folder is created with (protected: SYSTEM, Administrators, the requester read-only). */
  slotSddl: string;
  rsync: {
    /** The admin-only copy: `<installDir>\rsync\usr\bin\rsync.exe`. */
    exe: string;
    /**
     * Where the installer read rsync.exe from (its DLLs are beside it), after checking that only
     * administrators can change that location. Recorded so an update can say what changed.
     */
    origin: string;
    flavor: RsyncFlavor;
    /** Every file of the copy (paths relative to installDir, `/`-separated) and its SHA-256, checked before each run. */
    files: Array<{ name: string; sha256: string }>;
    /** Options before `--`, without --link-dest (buildRsyncArgv order). */
    options: string[];
    /** Where `--link-dest=<slot 0>` is inserted into `options` when slot 0 was made by the helper. */
    linkDestAt: number;
    linkDest: string;
    /** rsync source = snapshotPrefix + slotId + snapshotSuffix (the link, then the source below the volume). */
    snapshotPrefix: string;
    snapshotSuffix: string;
    /** rsync destination = incomingPrefix + slotId + '/'. */
    incomingPrefix: string;
    /** `--exclude-from=` + this + slotId + `.exclude`: the links and junctions found in the shadowed source. */
    excludeFromPrefix: string;
  };
  /** Copied into every slot manifest (e.g. the FAT/exFAT hard-link warning). */
  warnings: string[];
}

export const CANCEL_REQUEST_FILE = 'request';
export const RSYNC_EXE_PATH = 'rsync/usr/bin/rsync.exe';

/** What the helper passes to rsync after the executable, for one run (mirrors helper.ps1). */
export function helperRsyncArgv(p: HelperProfile, slotId: string, linkDest: boolean): string[] {
  const options = [...p.rsync.options];
  if (linkDest) options.splice(p.rsync.linkDestAt, 0, p.rsync.linkDest);
  // First among the filter rules, so no exclude or include of the profile can take precedence.
  return [`--exclude-from=${p.rsync.excludeFromPrefix}${slotId}.exclude`, ...options, '--', `${p.rsync.snapshotPrefix}${slotId}${p.rsync.snapshotSuffix}`, `${p.rsync.incomingPrefix}${slotId}/`];
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
// A drive path or a UNC share; never a device path (\\?\, \\.\), which skips Win32 path checks.
const WIN_ABS = /^([A-Za-z]:\\|\\\\[^\\?.][^\\]*\\[^\\]+)/;
/**
 * A user account's SID: local or domain (S-1-5-21-…) or Microsoft Entra (S-1-12-1-…). Never a
 * group or well-known SID: the requester may start the task and read every slot (review L2).
 */
export const USER_SID = /^S-1-(5-21(-\d{1,10}){4}|12-1(-\d{1,10}){4})$/;
/** A runtime file name of the rsync copy; `_` occurs in e.g. msys-gcc_s-seh-1.dll (review L9b). */
export const RUNTIME_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}\.(exe|dll)$/;
const FILE_NAME = new RegExp(`^rsync/(usr/bin/${RUNTIME_FILE_NAME.source.slice(1, -1)}|etc/fstab)$`);

/** Options the planner writes for the helper whatever the profile (buildRsyncArgv for Windows rsync). */
export const HELPER_FIXED_OPTIONS = ['-rtDx', '--delete', '--chmod=ugo=rwX', '--modify-window=1', '--out-format=%i %n', '--stats', '--info=progress2'];
/**
 * Extra rsync options the elevated helper accepts: none follows links, preserves permissions or
 * ACLs (slot files must take the slot folder's protected permissions) or changes what counts as
 * copied. Mirrored by Test-HelperOption in assets/helper.ps1 (golden pairs).
 */
export const HELPER_EXTRA_FLAGS = ['-c', '--checksum', '-W', '--whole-file', '--no-whole-file', '-S', '--sparse', '--preallocate', '--no-specials', '--no-devices', '-O', '--omit-dir-times', '-J', '--omit-link-times'];
const HELPER_EXTRA_VALUED = /^--(bwlimit|max-size|min-size|timeout|checksum-choice)=[0-9A-Za-z.+-]{1,32}$/;

/**
 * Why the helper would refuse an rsync option in profile.json (review L2: the stored options are
 * checked against an allow-list, not only their shape), or undefined when it runs it.
 */
export function helperOptionProblem(option: string): string | undefined {
  const problem = rsyncArgProblem(option);
  if (problem !== undefined) return problem;
  if (HELPER_FIXED_OPTIONS.includes(option) || HELPER_EXTRA_FLAGS.includes(option) || HELPER_EXTRA_VALUED.test(option)) return undefined;
  if (option.startsWith('--exclude=') && option.length > '--exclude='.length) {
    // rsync reads "!" as "clear every earlier rule" (the link excludes too) and "- x"/"+ x" as rules.
    const pattern = option.slice('--exclude='.length);
    if (pattern === '!' || /^[-+PHSRp!:.],? /.test(pattern)) return 'is a filter-rule command, not a pattern: it could undo the link excludes';
    return undefined;
  }
  return 'is not an option the elevated helper runs rsync with';
}

/** Checks a parsed profile.json; the same rules as the helper's Assert-Profile. */
export function validateHelperProfile(raw: unknown): HelperProfile {
  const bad = (what: string): never => { throw invalid(`The stored helper profile is invalid: ${what}.`, 'Run "Set Up Elevated Helper" again.'); };
  if (typeof raw !== 'object' || raw === null) return bad('not an object');
  const p = raw as Record<string, unknown>;
  if (p['format'] !== 3 || p['kind'] !== 'shadow-slots-helper') bad('unknown format');
  if (typeof p['name'] !== 'string' || !/^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$/u.test(p['name'])) bad('name');
  if (typeof p['requester'] !== 'string' || !USER_SID.test(p['requester'])) bad('requester');
  for (const key of ['source', 'target', 'installDir', 'linkDir', 'stateDir', 'cancelDir', 'tmpDir']) {
    const v = p[key];
    if (typeof v !== 'string' || !WIN_ABS.test(v) || CONTROL.test(v) || v.split('\\').includes('..')) bad(key);
  }
  const installDir = p['installDir'] as string;
  for (const [key, leaf] of [['linkDir', 'links'], ['stateDir', 'state'], ['cancelDir', 'cancel'], ['tmpDir', 'tmp']] as const) {
    if (p[key] !== `${installDir}\\${leaf}`) bad(`${key} is not ${leaf} in the install folder`);
  }
  if (typeof p['volume'] !== 'string' || !/^[A-Z]:\\$/.test(p['volume'])) bad('volume');
  const source = p['source'] as string;
  if (!source.toUpperCase().startsWith(p['volume'] as string) || source.length <= (p['volume'] as string).length) bad('source is the volume itself or not on it');
  if (typeof p['slots'] !== 'number' || !Number.isInteger(p['slots']) || p['slots'] < MIN_SLOTS || p['slots'] > MAX_SLOTS) bad('slots');
  if (typeof p['slotSddl'] !== 'string' || !/^O:S-1-5-32-544D:P(\([A-Z]*;[A-Z]*;0x[0-9a-f]+;;;S-1-[0-9-]+\))+$/.test(p['slotSddl'])) bad('slotSddl');
  const r = p['rsync'] as Record<string, unknown> | undefined;
  if (typeof r !== 'object' || r === null) return bad('rsync');
  if (r['exe'] !== `${installDir}\\${RSYNC_EXE_PATH.replace(/\//g, '\\')}`) bad('rsync.exe is not the installed copy');
  if (typeof r['origin'] !== 'string' || !/^[A-Za-z]:\\/.test(r['origin'])) bad('rsync.origin');
  if (!RSYNC_FLAVORS.includes(r['flavor'] as RsyncFlavor)) bad('rsync.flavor');
  const files = r['files'];
  if (!Array.isArray(files) || files.length === 0 || files.some((f) => typeof f !== 'object' || f === null || typeof f.name !== 'string' || !FILE_NAME.test(f.name) || typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256))) bad('rsync.files');
  if (!(files as Array<{ name: string }>).some((f) => f.name === RSYNC_EXE_PATH)) bad('rsync.files lacks rsync.exe');
  if (!Array.isArray(r['options']) || r['options'].some((o) => typeof o !== 'string' || helperOptionProblem(o) !== undefined)) bad('rsync.options');
  const options = r['options'] as string[];
  if (typeof r['linkDestAt'] !== 'number' || !Number.isInteger(r['linkDestAt']) || r['linkDestAt'] < 0 || r['linkDestAt'] > options.length) bad('rsync.linkDestAt');
  if (typeof r['linkDest'] !== 'string' || !r['linkDest'].startsWith('--link-dest=/') || rsyncArgProblem(r['linkDest']) !== undefined) bad('rsync.linkDest');
  for (const key of ['snapshotPrefix', 'snapshotSuffix', 'incomingPrefix', 'excludeFromPrefix']) {
    if (typeof r[key] !== 'string' || rsyncArgProblem(r[key]) !== undefined) bad(`rsync.${key}`);
  }
  for (const key of ['snapshotPrefix', 'incomingPrefix', 'excludeFromPrefix']) {
    if (!(r[key] as string).startsWith('/') || !(r[key] as string).endsWith('/')) bad(`rsync.${key}`);
  }
  if (!(r['snapshotSuffix'] as string).endsWith('/')) bad('rsync.snapshotSuffix');
  if (!Array.isArray(p['warnings']) || p['warnings'].some((w) => typeof w !== 'string')) bad('warnings');
  return raw as HelperProfile;
}

export type TargetFilesystem = 'NTFS' | 'ReFS' | 'FAT32' | 'FAT' | 'exFAT' | 'unknown';

/** What the target's filesystem means for the ring: refuse, warn, and which rsync options. */
export function checkTargetFilesystem(fs: TargetFilesystem, slots: number): { coarseTimes: boolean; warnings: string[] } {
  if ((fs === 'NTFS' || fs === 'unknown') && slots > NTFS_MAX_LINKS) {
    throw invalid(`A ring of ${slots} slots on NTFS would need ${slots} hard links per unchanged file; NTFS allows ${NTFS_MAX_LINKS}.`, `Use at most ${NTFS_MAX_LINKS} slots.`);
  }
  if (fs === 'FAT32' || fs === 'FAT' || fs === 'exFAT') {
    return {
      coarseTimes: true,
      warnings: [`The target is on ${fs}, which has no hard links: every slot is a full copy and takes the full size of the source. Use an NTFS disk for a ring that stores only changes.`],
    };
  }
  return { coarseTimes: false, warnings: [] };
}
