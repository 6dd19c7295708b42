/** The argv of every btrfs command a copy-on-write ring runs, exported for golden tests. */
export const btrfsTargetArgv = {
  create: (path: string) => ['subvolume', 'create', '--', path],
  /** Writable: the next run's working copy of the newest slot. */
  snapshot: (slot: string, destination: string) => ['subvolume', 'snapshot', '--', slot, destination],
  remove: (path: string) => ['subvolume', 'delete', '--', path],
  getReadOnly: (path: string) => ['property', 'get', '-ts', '--', path, 'ro'],
  // -f: a received subvolume keeps its read-only flag otherwise (only dropped slots are flipped).
  setReadOnly: (path: string, readOnly: boolean) => readOnly
    ? ['property', 'set', '-ts', '--', path, 'ro', 'true']
    : ['property', 'set', '-f', '-ts', '--', path, 'ro', 'false'],
  du: (path: string) => ['filesystem', 'du', '-s', '--raw', '--', path],
};

/**
 * Parses `btrfs filesystem du -s --raw PATH`:
 * ```
 *      Total   Exclusive  Set shared  Filename
 *   20971520           0    20971520  s1
 * ```
 */
export function parseFilesystemDu(text: string): { total: number; exclusive: number; shared: number } | null {
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+|-)\s+/.exec(line);
    if (m) return { total: Number(m[1]), exclusive: Number(m[2]), shared: m[3] === '-' ? 0 : Number(m[3]) };
  }
  return null;
}
