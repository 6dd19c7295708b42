/**
 * The zfs commands a ZFS ring runs and the parsers of what they print. Only commands and options
 * that zfs-fuse (pool version 23, the oldest ZFS this is tested on) has; OpenZFS accepts every one
 * of them unchanged. Pure: exported for golden tests against captured output.
 */

/** The datasets of one ring, all below `container` (a child of the dataset that holds the target). */
export interface ZfsRingNames {
  /** The dataset whose mounted file system holds the target folder. */
  parent: string;
  /** Holds the ring's datasets; never mounted itself. */
  container: string;
  /** The working copy: mounted at `.shadow-slots/incoming/<id>` while a run copies into it. */
  work: string;
  /** The snapshot of the working copy that a complete slot is. No colons (sanoid #142): ids have none. */
  snapshot(id: string): string;
  /** The read-only clone of that snapshot, mounted at the slot's numbered folder. */
  slot(id: string): string;
}

/**
 * Names derived from the parent dataset and the target folder's inode number: stable while the
 * folder exists (whatever path reaches it, and across a renamed pool or dataset), distinct for two
 * rings in one dataset.
 */
export function ringNames(parent: string, targetInode: number): ZfsRingNames {
  const container = `${parent}/shadow-slots-${targetInode}`;
  const work = `${container}/work`;
  return {
    parent,
    container,
    work,
    snapshot: (id) => `${work}@${id}`,
    slot: (id) => `${container}/slot-${id}`,
  };
}

export const zfsArgv = {
  /** Every file system and where it is mounted: which dataset holds the target. */
  filesystems: () => ['list', '-H', '-o', 'name,mountpoint,mounted', '-t', 'filesystem'],
  /**
   * Properties as exact numbers (`-p`). zfs-fuse's `zfs list` has no `-p`; `zfs get -p` exists in
   * every version. `-r` includes snapshots.
   */
  get: (properties: readonly string[], dataset: string, recursive: boolean) =>
    ['get', '-H', '-p', ...(recursive ? ['-r'] : []), '-o', 'name,property,value', properties.join(','), dataset],
  createContainer: (name: string) => ['create', '-o', 'canmount=off', '-o', 'mountpoint=none', name],
  // readonly=off: a container someone made read-only to protect the slots must not make the working copy read-only.
  createWork: (name: string) => ['create', '-o', 'mountpoint=none', '-o', 'readonly=off', name],
  snapshot: (snapshot: string) => ['snapshot', snapshot],
  /** Read-only and mounted at the slot's folder in the same step: a clone is never writable. */
  clone: (snapshot: string, name: string, mountpoint: string) => ['clone', '-o', 'readonly=on', '-o', `mountpoint=${mountpoint}`, snapshot, name],
  /** A mountpoint cannot be renamed: moving a slot is changing where its clone is mounted. */
  setMountpoint: (name: string, mountpoint: string | null) => ['set', `mountpoint=${mountpoint ?? 'none'}`, name],
  mount: (name: string) => ['mount', name],
  /** Never -r: ZFS refuses when a newer snapshot exists, and that refusal is wanted. */
  rollback: (snapshot: string) => ['rollback', snapshot],
  /** Never -r or -R: a clone is destroyed before its origin snapshot, each on its own. */
  destroy: (name: string) => ['destroy', name],
};

/** The properties a ring reads of its datasets in one `zfs get`. */
export const RING_PROPERTIES = ['type', 'mountpoint', 'mounted', 'origin', 'used', 'referenced'] as const;

/**
 * Parses `zfs get -H -p -o name,property,value …`: one tab-separated line per dataset and
 * property. A value may hold a tab (a mountpoint), never a newline (such targets are refused).
 */
export function parseGet(text: string): Map<string, Map<string, string>> {
  const datasets = new Map<string, Map<string, string>>();
  for (const line of text.split('\n')) {
    const fields = line.split('\t');
    if (fields.length < 3 || fields[0] === '') continue;
    const [name, property] = fields as [string, string];
    const props = datasets.get(name) ?? new Map<string, string>();
    props.set(property, fields.slice(2).join('\t'));
    datasets.set(name, props);
  }
  return datasets;
}

export interface ZfsFilesystem {
  name: string;
  mountpoint: string;
  mounted: boolean;
}

/** Parses `zfs list -H -o name,mountpoint,mounted -t filesystem`. */
export function parseFilesystems(text: string): ZfsFilesystem[] {
  const result: ZfsFilesystem[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split('\t');
    if (fields.length < 3 || fields[0] === '') continue;
    result.push({ name: fields[0]!, mountpoint: fields.slice(1, -1).join('\t'), mounted: fields[fields.length - 1] === 'yes' });
  }
  return result;
}

/**
 * The mounted file systems whose mountpoint is `path` or one of its parent folders, the deepest
 * first (the caller confirms by device number: a path may also reach a dataset through a symlink).
 */
export function mountpointsAbove(filesystems: ZfsFilesystem[], path: string): ZfsFilesystem[] {
  const within = (mountpoint: string) => path === mountpoint || path.startsWith(mountpoint.endsWith('/') ? mountpoint : `${mountpoint}/`);
  return filesystems.filter((f) => f.mounted && f.mountpoint.startsWith('/') && within(f.mountpoint)).sort((a, b) => b.mountpoint.length - a.mountpoint.length);
}

/** A `used`/`referenced` value of `zfs get -p`; `-` (not applicable) is null. */
export function bytesOf(value: string | undefined): number | null {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : null;
}

export type ZfsFailure = 'missing' | 'no-daemon' | 'no-permission' | 'out-of-space' | 'busy' | 'read-only' | 'not-found' | 'already-mounted' | 'other';

/**
 * What a failed zfs command means, from its stderr (or the spawn error when it could not start).
 * Captured from zfs-fuse; the permission message of OpenZFS without `zfs allow` has the same words.
 */
export function classifyZfsFailure(stderr: string): ZfsFailure {
  if (/ENOENT|command not found|not installed/i.test(stderr) && !/cannot /.test(stderr)) return 'missing';
  if (/connect: (No such file or directory|Connection refused)|failed to initialize ZFS library/i.test(stderr) && !/Permission denied/i.test(stderr)) return 'no-daemon';
  if (/permission denied/i.test(stderr)) return 'no-permission';
  if (/out of space|No space left on device|quota exceeded/i.test(stderr)) return 'out-of-space';
  if (/dataset is busy|target is busy|resource busy|pool is busy/i.test(stderr)) return 'busy';
  if (/read-only|failed to create mountpoint/i.test(stderr)) return 'read-only';
  if (/dataset does not exist|could not find any snapshots/i.test(stderr)) return 'not-found';
  if (/filesystem already mounted/i.test(stderr)) return 'already-mounted';
  return 'other';
}
