import { access, constants, mkdir, readFile, realpath, stat } from 'node:fs/promises';
import { ruleListFor } from '../platform/filter/load';
import { ShadowSlotsError } from '../core/errors';
import type { Profile } from '../core/profile';
import { formatBytes } from '../core/format';
import { anchoredDirExclude } from '../core/filters';
import { fileSystemType, probeTarget, type TargetProbe } from '../platform/fsProbe';
import { isErrno } from '../platform/fsutil';
import { locateRsync, type RsyncTool } from '../platform/rsyncTool';
import { NTFS_MAX_LINKS } from '../core/windows/ntfs';

export { NTFS_MAX_LINKS };

export interface PreflightReport {
  rsync: RsyncTool;
  target: TargetProbe;
  /** The source with symlinks resolved (what rsync will actually read). */
  sourceReal: string;
  warnings: string[];
  timePrecision: 'coarse' | 'seconds' | 'nanoseconds';
}

/** File systems that store nanosecond modification times on Linux. */
const NANOSECOND_FS = new Set(['ext4', 'btrfs', 'xfs', 'tmpfs', 'zfs', 'overlay']);

/** Everything checked before anything is written. */
export async function preflight(profile: Profile, options: { createTarget?: boolean } = {}): Promise<PreflightReport> {
  const warnings: string[] = [];
  // Started first, awaited last: running `rsync --version` is the slowest check and needs nothing
  // the others find. Its failure is only reported if every earlier check passed.
  const rsyncFound = locateRsync(profile.rsyncPath);
  rsyncFound.catch(() => undefined);
  let sourceStat;
  try {
    sourceStat = await stat(profile.source);
  } catch (error) {
    throw new ShadowSlotsError('preflight', `The source folder ${profile.source} does not exist${isErrno(error, 'EACCES') ? ' or cannot be read' : ''}.`, {
      hint: 'Check the path; if it is on a removable or network drive, connect it first.',
    });
  }
  if (!sourceStat.isDirectory()) throw new ShadowSlotsError('preflight', `The source ${profile.source} is not a folder.`, { hint: 'Back up the folder that contains it.' });
  const sourceReal = await realpath(profile.source);
  if (sourceReal !== profile.source) warnings.push(`The source ${profile.source} is a symbolic link; backing up what it points to: ${sourceReal}.`);

  let targetStat;
  try {
    targetStat = await stat(profile.target);
  } catch {
    if (options.createTarget) {
      await mkdir(profile.target, { recursive: true });
      targetStat = await stat(profile.target);
    } else {
      throw new ShadowSlotsError('preflight', `The target folder ${profile.target} does not exist.`, {
        hint: 'If the backup disk is not connected or mounted, connect it; otherwise create the folder (CLI: --create-target). Shadow Slots never creates it silently, so a backup cannot fill the wrong disk.',
      });
    }
  }
  if (!targetStat.isDirectory()) throw new ShadowSlotsError('preflight', `The target ${profile.target} is not a folder.`);
  try {
    await access(profile.target, constants.W_OK);
  } catch {
    throw new ShadowSlotsError('preflight', `The target folder ${profile.target} is not writable by this user.`, { hint: 'Fix its permissions or choose another target.' });
  }
  const targetReal = await realpath(profile.target);
  if (targetReal === sourceReal || targetReal.startsWith(sourceReal.endsWith('/') ? sourceReal : `${sourceReal}/`)) {
    const rel = targetReal.slice(sourceReal.length + 1);
    const rule = anchoredDirExclude(rel);
    if (rel === '' || !profile.excludes.some((e) => e === rule || e === rule.slice(0, -1) || e === `/${rel}/` || e === `/${rel}`)) {
      throw new ShadowSlotsError('invalid-input', `The target ${profile.target} resolves to a folder inside the source ${sourceReal}.`, { hint: 'Choose a target outside the source, or exclude it.' });
    }
  }

  let probe: TargetProbe;
  try {
    probe = await probeTarget(profile.target);
  } catch (error) {
    if (isErrno(error, 'ENOSPC') || isErrno(error, 'EDQUOT')) {
      const fs = await fileSystemType(profile.target).catch(() => null);
      throw new ShadowSlotsError('target-full', `The target is full: ${formatBytes(fs?.freeBytes ?? 0)} free of ${formatBytes(fs?.totalBytes ?? 0)}; not even a test file could be written.`, {
        hint: 'Previous slots are intact. Free space on the target or keep fewer slots, then run again.',
      });
    }
    // A read-only dataset or mount passes access(W_OK) (zfs-fuse checks only the mode bits).
    if (isErrno(error, 'EROFS')) {
      throw new ShadowSlotsError('preflight', `The target ${profile.target} is on a read-only file system: not even a test file could be written.`, {
        hint: 'Make it writable (a ZFS dataset: zfs set readonly=off DATASET, "zfs get -r readonly" shows where it is set; a mount: remount it read-write), or choose another target. Previous slots are intact.',
      });
    }
    throw error;
  }
  const sourceFs = (await fileSystemType(sourceReal)).type;
  const timePrecision = probe.fsType === 'vfat' || probe.fsType === 'exfat' ? 'coarse'
    : NANOSECOND_FS.has(probe.fsType) && NANOSECOND_FS.has(sourceFs) ? 'nanoseconds' : 'seconds';
  if (!probe.hardLinks) {
    warnings.push(`The target file system (${probe.fsType}) does not support hard links: every slot will be a full copy of the source, using its full size each time.`);
  }
  if (probe.fsType === 'ntfs' && profile.slots > NTFS_MAX_LINKS) {
    throw new ShadowSlotsError('invalid-input', `NTFS allows at most ${NTFS_MAX_LINKS} hard links per file; a ring of ${profile.slots} slots cannot be kept.`, { hint: `Use at most ${NTFS_MAX_LINKS} slots.` });
  }
  if (probe.freeBytes < 64 * 1024 * 1024) {
    warnings.push(`The target has only ${formatBytes(probe.freeBytes)} free.`);
  }
  if (profile.filterFile !== undefined) await checkFilterFile(profile.filterFile);
  const rsync = await rsyncFound;
  return { rsync, target: probe, sourceReal, warnings, timePrecision };
}

/** The filter file must exist and hold only rules rsync accepts: rsync would stop with exit 1. */
async function checkFilterFile(file: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new ShadowSlotsError('invalid-input', `The filter file ${file} cannot be read.`, { hint: 'Check the path in the settings, or remove it.' });
  }
  const list = ruleListFor(text, file);
  const errors = list.errors;
  if (errors.length > 0) {
    // Parser lines are 0-based (LSP positions); people count from 1.
    const first = errors.slice(0, 3).map((e) => `line ${e.line + 1}: ${e.message}`).join('; ');
    throw new ShadowSlotsError('invalid-input', `The filter file ${file} has ${errors.length} invalid rule(s): ${first}.`, { hint: 'Fix the rules (the editor marks them), or run "shadow-slots filter check".' });
  }
  // rsync stops with exit 11 on a merge file it cannot open; say so before anything is written.
  const missing = list.notes.filter((n) => n.kind === 'merge-missing');
  if (missing.length > 0) {
    throw new ShadowSlotsError('invalid-input', `The filter file ${file} merges ${missing.map((n) => JSON.stringify(n.name)).join(', ')}, which cannot be read.`, { hint: 'Create the merge file or remove the rule (use absolute paths).' });
  }
}
