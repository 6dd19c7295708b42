import { isAbsolute, join } from 'node:path';

/**
 * rsnapshot's configuration for the benchmark: the same source, 16 retained slots, `link_dest 1`
 * (rsync --link-dest instead of `cp -al`), everything else at rsnapshot's defaults, so it is
 * measured as its users run it. rsnapshot splits every line on TABs and has no quoting, so a path
 * with a TAB or a line break cannot be expressed: such a path is refused, never written.
 */
export interface RsnapshotConfInput {
  /** Absolute folder that will hold daily.0 … daily.15. */
  snapshotRoot: string;
  /** Absolute source folder. */
  source: string;
  lockfile: string;
  retain?: number;
  rsync?: string;
}

function checkPath(label: string, p: string): void {
  if (!isAbsolute(p)) throw new Error(`rsnapshot needs an absolute ${label}, got "${p}". Pass an absolute path.`);
  if (/[\t\n\r]/.test(p)) throw new Error(`rsnapshot's config cannot express a ${label} containing a TAB or line break: "${JSON.stringify(p)}". Use a folder without them.`);
}

const withSlash = (p: string): string => (p.endsWith('/') ? p : `${p}/`);

export function rsnapshotConf(input: RsnapshotConfInput): string {
  checkPath('snapshot_root', input.snapshotRoot);
  checkPath('source', input.source);
  checkPath('lockfile', input.lockfile);
  const retain = input.retain ?? 16;
  if (!Number.isInteger(retain) || retain < 2) throw new Error(`retain must be an integer ≥ 2, got ${retain}`);
  const rows: string[][] = [
    ['config_version', '1.2'],
    ['snapshot_root', withSlash(input.snapshotRoot)],
    ['no_create_root', '0'],
    ['cmd_cp', '/bin/cp'],
    ['cmd_rm', '/bin/rm'],
    ['cmd_rsync', input.rsync ?? '/usr/bin/rsync'],
    ['retain', 'daily', String(retain)],
    ['verbose', '1'],
    ['loglevel', '1'],
    ['lockfile', input.lockfile],
    ['link_dest', '1'],
    // The raw recipe's -x: stay on the source's file system.
    ['one_fs', '1'],
    ['backup', withSlash(input.source), 'localhost/'],
  ];
  return rows.map((r) => r.join('\t')).join('\n') + '\n';
}

/**
 * Where rsnapshot puts the copy of `source` inside snapshot `daily.<n>`: its default
 * `--relative` keeps the source's absolute path below the `localhost/` destination.
 */
export function rsnapshotSlotPath(snapshotRoot: string, n: number, source: string): string {
  return join(snapshotRoot, `daily.${n}`, 'localhost', source);
}
