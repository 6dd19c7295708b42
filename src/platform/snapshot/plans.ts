/**
 * Snapshot commands for platforms this machine cannot run (macOS APFS, LVM without
 * device-mapper). Kept declarative: the provider executes exactly these argv arrays, and golden
 * tests pin them. VSS runs inside the Windows elevated helper (src/platform/windows).
 */
export interface CommandPlan {
  create: Array<{ command: string; argv: string[] }>;
  release: Array<{ command: string; argv: string[] }>;
  /** Where rsync reads the frozen source. */
  readPath: string;
}

/** APFS: `tmutil localsnapshot` makes a snapshot of every APFS volume; mount the one we need read-only. */
export function apfsPlan(options: { volume: string; snapshotName: string; mountPoint: string; sourceInVolume: string }): CommandPlan {
  const date = /^com\.apple\.TimeMachine\.(\d{4}-\d{2}-\d{2}-\d{6})\.local$/.exec(options.snapshotName)?.[1];
  if (!date) throw new Error(`not a Time Machine local snapshot name: ${options.snapshotName}`);
  return {
    create: [
      { command: '/usr/bin/tmutil', argv: ['localsnapshot'] },
      { command: '/sbin/mount_apfs', argv: ['-o', 'rdonly,nobrowse', '-s', options.snapshotName, options.volume, options.mountPoint] },
    ],
    release: [
      { command: '/sbin/umount', argv: [options.mountPoint] },
      { command: '/usr/bin/tmutil', argv: ['deletelocalsnapshots', date] },
    ],
    readPath: joinPosix(options.mountPoint, options.sourceInVolume),
  };
}

/** Parses the snapshot name out of `tmutil localsnapshot` output ("Created local snapshot with date: 2026-11-26-233000"). */
export function parseTmutilLocalSnapshot(output: string): string | undefined {
  const date = /Created local snapshot with date:\s*(\d{4}-\d{2}-\d{2}-\d{6})/.exec(output)?.[1];
  return date ? `com.apple.TimeMachine.${date}.local` : undefined;
}

/** LVM: a classic copy-on-write snapshot of the logical volume, mounted read-only. */
export function lvmPlan(options: { volumeGroup: string; logicalVolume: string; snapshotName: string; size: string; mountPoint: string; sourceInVolume: string; fsType: string }): CommandPlan {
  for (const [what, value] of Object.entries({ volumeGroup: options.volumeGroup, logicalVolume: options.logicalVolume, snapshotName: options.snapshotName })) {
    // LVM names: letters, digits and + _ . - (lvm(8) "VALID NAMES"), never starting with '-'.
    if (!/^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$/.test(value)) throw new Error(`invalid LVM ${what}: ${JSON.stringify(value)}`);
  }
  if (!/^\d+(\.\d+)?[bBsSkKmMgGtTpPeE%]?[A-Za-z%]*$/.test(options.size)) throw new Error(`invalid LVM snapshot size: ${JSON.stringify(options.size)}`);
  const device = `/dev/${options.volumeGroup}/${options.snapshotName}`;
  const mountOptions = options.fsType === 'xfs' ? 'ro,nouuid' : 'ro';
  return {
    create: [
      { command: 'lvcreate', argv: ['--snapshot', '--name', options.snapshotName, '--size', options.size, `${options.volumeGroup}/${options.logicalVolume}`] },
      { command: 'mount', argv: ['-o', mountOptions, '--', device, options.mountPoint] },
    ],
    release: [
      { command: 'umount', argv: ['--', options.mountPoint] },
      { command: 'lvremove', argv: ['--yes', `${options.volumeGroup}/${options.snapshotName}`] },
    ],
    readPath: joinPosix(options.mountPoint, options.sourceInVolume),
  };
}

function joinPosix(a: string, b: string): string {
  if (b === '' || b === '.') return a;
  return `${a.replace(/\/+$/, '')}/${b.replace(/^\/+/, '')}`;
}
