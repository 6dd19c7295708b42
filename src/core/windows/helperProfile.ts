import { invalid } from '../errors';
import { MAX_SLOTS, MIN_SLOTS } from '../profile';
import { RSYNC_FLAVORS, type RsyncFlavor } from './paths';

/**
 * The profile the elevated helper runs, stored as `profile.json` beside helper.ps1 in the
 * admin-only folder. Every decision is made by the TypeScript planner and written here; the
 * helper only joins the run's slot id into the prefixes below, so it stays small. The helper
 * re-validates this shape (see Assert-Profile in assets/helper.ps1).
 */
export interface HelperProfile {
  format: 1;
  kind: 'shadow-slots-helper';
  name: string;
  /** Windows paths, as the user chose them. */
  source: string;
  target: string;
  slots: number;
  /** Volume to shadow, `C:\`, and the source below it. */
  volume: string;
  /** Where helper.ps1 and this file live; the helper refuses to run from anywhere else. */
  installDir: string;
  /** Admin-only folder for the per-run directory symlinks to the shadow. */
  linkDir: string;
  /** User-readable folder for progress.json and helper.log. */
  stateDir: string;
  /** User-writable folder: a file named `cancel` there asks the running helper to stop. */
  cancelDir: string;
  rsync: {
    exe: string;
    flavor: RsyncFlavor;
    /** Options before `--`, without --link-dest (buildRsyncArgv order). */
    options: string[];
    /** Where `--link-dest=<slot 0>` is inserted into `options` when the ring has a slot 0. */
    linkDestAt: number;
    linkDest: string;
    /** rsync source = snapshotPrefix + slotId + snapshotSuffix (the link, then the source below the volume). */
    snapshotPrefix: string;
    snapshotSuffix: string;
    /** rsync destination = incomingPrefix + slotId + '/'. */
    incomingPrefix: string;
  };
  /** Copied into every slot manifest (e.g. the FAT/exFAT hard-link warning). */
  warnings: string[];
}

/** What the helper passes to rsync after the executable, for one run (mirrors helper.ps1). */
export function helperRsyncArgv(p: HelperProfile, slotId: string, hasSlot0: boolean): string[] {
  const options = [...p.rsync.options];
  if (hasSlot0) options.splice(p.rsync.linkDestAt, 0, p.rsync.linkDest);
  return [...options, '--', `${p.rsync.snapshotPrefix}${slotId}${p.rsync.snapshotSuffix}`, `${p.rsync.incomingPrefix}${slotId}/`];
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const WIN_ABS = /^([A-Za-z]:\\|\\\\[^\\]+\\[^\\]+)/;

/** Checks a parsed profile.json; the same rules as the helper's Assert-Profile. */
export function validateHelperProfile(raw: unknown): HelperProfile {
  const bad = (what: string): never => { throw invalid(`The stored helper profile is invalid: ${what}.`, 'Run "Set Up Elevated Helper" again.'); };
  if (typeof raw !== 'object' || raw === null) return bad('not an object');
  const p = raw as Record<string, unknown>;
  if (p['format'] !== 1 || p['kind'] !== 'shadow-slots-helper') bad('unknown format');
  if (typeof p['name'] !== 'string' || !/^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$/u.test(p['name'])) bad('name');
  for (const key of ['source', 'target', 'installDir', 'linkDir', 'stateDir', 'cancelDir']) {
    const v = p[key];
    if (typeof v !== 'string' || !WIN_ABS.test(v) || CONTROL.test(v) || v.split('\\').includes('..')) bad(key);
  }
  if (typeof p['volume'] !== 'string' || !/^[A-Z]:\\$/.test(p['volume'])) bad('volume');
  if (!(p['source'] as string).toUpperCase().startsWith(p['volume'] as string)) bad('source is not on the volume');
  if (typeof p['slots'] !== 'number' || !Number.isInteger(p['slots']) || p['slots'] < MIN_SLOTS || p['slots'] > MAX_SLOTS) bad('slots');
  const r = p['rsync'] as Record<string, unknown> | undefined;
  if (typeof r !== 'object' || r === null) return bad('rsync');
  if (typeof r['exe'] !== 'string' || !WIN_ABS.test(r['exe']) || CONTROL.test(r['exe'])) bad('rsync.exe');
  if (!RSYNC_FLAVORS.includes(r['flavor'] as RsyncFlavor)) bad('rsync.flavor');
  if (!Array.isArray(r['options']) || r['options'].some((o) => typeof o !== 'string' || !o.startsWith('-') || CONTROL.test(o))) bad('rsync.options');
  const options = r['options'] as string[];
  if (typeof r['linkDestAt'] !== 'number' || !Number.isInteger(r['linkDestAt']) || r['linkDestAt'] < 0 || r['linkDestAt'] > options.length) bad('rsync.linkDestAt');
  if (typeof r['linkDest'] !== 'string' || !r['linkDest'].startsWith('--link-dest=/') || CONTROL.test(r['linkDest'])) bad('rsync.linkDest');
  for (const key of ['snapshotPrefix', 'snapshotSuffix', 'incomingPrefix']) {
    if (typeof r[key] !== 'string' || CONTROL.test(r[key])) bad(`rsync.${key}`);
  }
  if (!(r['snapshotPrefix'] as string).startsWith('/') || !(r['incomingPrefix'] as string).startsWith('/') || !(r['snapshotSuffix'] as string).endsWith('/')) bad('rsync paths');
  if (!Array.isArray(p['warnings']) || p['warnings'].some((w) => typeof w !== 'string')) bad('warnings');
  return raw as HelperProfile;
}

export type TargetFilesystem = 'NTFS' | 'ReFS' | 'FAT32' | 'FAT' | 'exFAT' | 'unknown';
/** NTFS allows 1023 hard links per file; every slot adds one link to each unchanged file. */
export const NTFS_MAX_LINKS = 1023;

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
