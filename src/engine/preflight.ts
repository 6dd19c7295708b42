import { access, constants, mkdir, realpath, stat } from 'node:fs/promises';
import { checkFilterFile } from '../platform/filter/check';
import { ShadowSlotsError } from '../core/errors';
import type { Profile } from '../core/profile';
import { formatBytes } from '../core/format';
import { anchoredDirExclude } from '../core/filters';
import { formatRsyncVersion, MIN_RSYNC_VERSION, versionAtLeast } from '../core/rsyncVersion';
import { fileSystemType, probeTarget, type TargetProbe } from '../platform/fsProbe';
import { isErrno } from '../platform/fsutil';
import { locateRsync, type RsyncTool } from '../platform/rsyncTool';
import type { RingHost } from '../platform/target/host';
import { SshHost } from '../platform/target/sshHost';
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

export interface PreflightOptions {
  createTarget?: boolean;
  /** The ring's host (a server for `ssh://…` targets) and the target folder as it names it. */
  host?: RingHost;
  targetPath?: string;
}

/** Everything checked before anything is written. */
export async function preflight(profile: Profile, options: PreflightOptions = {}): Promise<PreflightReport> {
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

  if (options.host instanceof SshHost) {
    const probe = await probeRemoteTarget(options.host, options.targetPath ?? profile.target, options.createTarget === true, profile, warnings);
    const sourceFs = (await fileSystemType(sourceReal)).type;
    const timePrecision = NANOSECOND_FS.has(probe.fsType) && NANOSECOND_FS.has(sourceFs) ? 'nanoseconds' : 'seconds';
    if (profile.filterFile !== undefined) await checkFilterFile(profile.filterFile);
    return { rsync: await rsyncFound, target: probe, sourceReal, warnings, timePrecision };
  }

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

/**
 * The target checks on a server, in one round trip: exists (or created on request), a writable
 * folder, hard links work, free space, and the server's own tools. The server is another
 * computer, so the target cannot be inside the source.
 */
async function probeRemoteTarget(host: SshHost, path: string, create: boolean, profile: Profile, warnings: string[]): Promise<TargetProbe> {
  const where = `${path} on ${host.name}`;
  const probe = await host.probeTarget(path, create);
  switch (probe.status) {
    case 'missing':
      throw new ShadowSlotsError('preflight', `The target folder ${where} does not exist.`, {
        hint: 'If the backup disk on the server is not mounted, mount it; otherwise create the folder (CLI: --create-target). Shadow Slots never creates it silently, so a backup cannot fill the wrong disk.',
      });
    case 'cannot-create': throw new ShadowSlotsError('preflight', `The target folder ${where} cannot be created: ${probe.stderr}.`, { hint: 'Create it on the server, or fix its parent folder\'s permissions.' });
    case 'not-folder': throw new ShadowSlotsError('preflight', `The target ${where} is not a folder.`);
    case 'not-writable':
    case 'full':
      if (/No space left|quota/i.test(probe.stderr)) {
        throw new ShadowSlotsError('target-full', `The target on ${host.name} is full: ${formatBytes(probe.freeBytes)} free of ${formatBytes(probe.totalBytes)}; not even a test file could be written.`, {
          hint: 'Previous slots are intact. Free space on the server or keep fewer slots, then run again.',
        });
      }
      throw new ShadowSlotsError('preflight', `The target folder ${where} is not writable by the account ${host.name} logs in as.`, { hint: 'Fix its permissions on the server or choose another target.' });
    case 'ok': break;
  }
  // The server's rsync takes part in --info=progress2 and the stats the engine reads, as a local one.
  const version = probe.rsyncVersion;
  if (version === null || !versionAtLeast(version, MIN_RSYNC_VERSION)) {
    throw new ShadowSlotsError('preflight', version ? `The server ${host.name} has rsync ${formatRsyncVersion(version)}; version 3.1 or newer is needed.` : `The server ${host.name} has no rsync in the PATH of its login.`, {
      hint: 'Install rsync 3.1 or newer on the server (every current Linux distribution and NAS has it). Nothing was changed.',
    });
  }
  if (!probe.hardLinks) warnings.push(`The target file system on ${host.name} (${probe.fsType}) does not support hard links: every slot will be a full copy of the source, using its full size each time.`);
  if (probe.fsType === 'ntfs' && profile.slots > NTFS_MAX_LINKS) {
    throw new ShadowSlotsError('invalid-input', `NTFS allows at most ${NTFS_MAX_LINKS} hard links per file; a ring of ${profile.slots} slots cannot be kept.`, { hint: `Use at most ${NTFS_MAX_LINKS} slots.` });
  }
  if (probe.freeBytes < 64 * 1024 * 1024) warnings.push(`The target on ${host.name} has only ${formatBytes(probe.freeBytes)} free.`);
  return { fsType: probe.fsType, freeBytes: probe.freeBytes, totalBytes: probe.totalBytes, hardLinks: probe.hardLinks };
}
