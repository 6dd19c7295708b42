import { invalid } from './errors';
/** How the engine calls rsync. Pure: the same argv is golden-tested for every platform. */
export interface RsyncPlan {
  /** Folder to read, as the rsync build expects it (converted on Windows); a trailing `/` is added. */
  source: string;
  /** The in-progress slot folder. */
  destination: string;
  /** The newest complete slot; absent for the first backup. */
  linkDest?: string | undefined;
  /** The target kind's own arguments (`--link-dest=…`, or `--inplace --no-whole-file`), in --link-dest's place. */
  targetArgs?: string[];
  excludes: string[];
  /** rsync filter-rule file merged after the excludes (`--filter=merge FILE`). */
  filterFile?: string | undefined;
  extraArgs: string[];
  /** Cygwin/MSYS2 rsync writing to NTFS: let files inherit the target folder's ACL. */
  windowsRsync?: boolean;
  /**
   * How precisely modification times can be compared. rsync's default quick check compares whole
   * seconds, so a file rewritten with the same size within the second of the previous backup
   * would be skipped; `nanoseconds` (both file systems keep them) closes that hole, `coarse`
   * tolerates FAT/exFAT's 2-second times.
   */
  timePrecision?: 'coarse' | 'seconds' | 'nanoseconds';
  /** Same as `timePrecision: 'coarse'` (FAT/exFAT targets). */
  coarseTimes?: boolean;
  /** Machine-readable progress on stdout (`--info=progress2`). */
  progress?: boolean;
  /**
   * Itemize unchanged entries too (`-ii`): the output then names every entry of the new slot, in
   * rsync's order, which is what the slot's checksum list is built from (engine/finalize.ts).
   */
  listUnchanged?: boolean;
}

/** The out-format line the parser expects: itemize flags, one space, the escaped name. */
export const OUT_FORMAT = '%i %n';

export function buildRsyncArgv(plan: RsyncPlan): string[] {
  const argv: string[] = [
    // The original recipe's -rtDx; -l keeps symlinks as links (Windows rsync builds skip them,
    // as the recipe did), never following them out of the source.
    plan.windowsRsync ? '-rtDx' : '-rltDx',
    '--delete',
  ];
  if (plan.windowsRsync) argv.push('--chmod=ugo=rwX');
  if (plan.timePrecision === 'coarse' || plan.coarseTimes) argv.push('--modify-window=1');
  if (plan.timePrecision === 'nanoseconds') argv.push('--modify-window=-1');
  if (plan.linkDest !== undefined) argv.push(`--link-dest=${plan.linkDest}`);
  if (plan.targetArgs) argv.push(...plan.targetArgs);
  argv.push(`--out-format=${OUT_FORMAT}`);
  // --out-format stays the format whatever the position (-i without it would mean `%i %n%L`).
  if (plan.listUnchanged) argv.push('-ii');
  argv.push('--stats');
  if (plan.progress !== false) argv.push('--info=progress2');
  for (const pattern of plan.excludes) argv.push(`--exclude=${pattern}`);
  if (plan.filterFile !== undefined) argv.push(`--filter=merge ${plan.filterFile}`);
  argv.push(...plan.extraArgs);
  argv.push('--', withTrailingSlash(plan.source), withTrailingSlash(plan.destination));
  return argv;
}

function withTrailingSlash(p: string): string {
  return p.endsWith('/') ? p : `${p}/`;
}

/**
 * One word of rsync's `-e` (--rsh) string, by the rule rsync's manual gives: words are split on
 * spaces, single quotes keep spaces, a doubled single quote inside them is one, backslashes are
 * not special. Quoted with single quotes only, so the string never holds a `"` (which the Windows
 * helper's command line refuses). A control character cannot be carried and is refused.
 */
export function rsyncShellWord(word: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(word)) throw invalid(`${JSON.stringify(word)} cannot be passed in rsync's -e (a control character).`);
  return word !== '' && !/[ '"]/.test(word) ? word : `'${word.replace(/'/g, "''")}'`;
}
