import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildRsyncArgv } from '../../core/rsyncArgs';
import { LineSplitter, parseItemizedLine, type ItemizedChange } from '../../core/rsyncOutput';
import type { PreviewItem, PreviewResult } from '../../core/filter/preview';
import { META_DIR, INCOMING_DIR } from '../../core/layout';
import { run } from '../runner';

export interface PreviewOptions {
  source: string;
  /** The ring's target folder (holding slots 0 … N-1). */
  target: string;
  /** The newest complete slot; defaults to `<target>/0` when that folder exists. */
  newestSlot?: string | undefined;
  rsyncPath?: string | undefined;
  /** The filter file, passed to rsync as `--filter=merge FILE` exactly as a backup does. */
  filterFile?: string | undefined;
  excludes?: readonly string[] | undefined;
  windowsRsync?: boolean | undefined;
  coarseTimes?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** Every item as rsync reports it, streamed (the result keeps only the first `keep`). */
  onItem?: ((item: PreviewItem) => void) | undefined;
  keep?: number | undefined;
}

export type { PreviewItem, PreviewResult } from '../../core/filter/preview';

function isDir(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}

/**
 * Preview Backup: what the next backup would copy, change and delete, from rsync's own dry runs.
 * The first run is the backup's command line plus `--dry-run` (newest slot as --link-dest, into a
 * slot folder that does not exist yet): it lists new and changed files. A link-dest run cannot
 * show deletions, so a second dry run against the newest slot itself lists what the next slot
 * would no longer contain (`--delete-excluded`: a newly excluded file is not in a fresh slot).
 */
export async function previewBackup(options: PreviewOptions): Promise<PreviewResult> {
  const rsync = options.rsyncPath ?? 'rsync';
  const newestSlot = options.newestSlot ?? (isDir(join(options.target, '0')) ? join(options.target, '0') : undefined);
  const keep = options.keep ?? 10000;
  const result: PreviewResult = { newestSlot, copied: 0, changed: 0, deleted: 0, items: [], truncated: false, commands: [] };
  const base = {
    source: options.source,
    excludes: [...(options.excludes ?? [])],
    windowsRsync: options.windowsRsync ?? false,
    coarseTimes: options.coarseTimes ?? false,
    progress: false,
    filterFile: options.filterFile,
  };
  const add = (item: PreviewItem) => {
    if (item.action === 'copy') result.copied++;
    else if (item.action === 'change') result.changed++;
    else result.deleted++;
    options.onItem?.(item);
    if (result.items.length < keep) result.items.push(item); else result.truncated = true;
  };
  const dryRun = async (argv: string[], onItem: (item: ItemizedChange) => void) => {
    result.commands.push([rsync, ...argv]);
    const splitter = new LineSplitter();
    const onLine = (line: string) => { const item = parseItemizedLine(line); if (item) onItem(item); };
    await run(rsync, argv, {
      signal: options.signal,
      // As a backup does: relative `.` merge names in the filter file resolve from its folder.
      ...(options.filterFile !== undefined ? { cwd: dirname(options.filterFile) } : {}),
      onStdout: (chunk) => splitter.push(chunk, onLine),
      // 23: some files could not be read; the preview still lists the rest (the backup would warn about them).
      okExitCodes: [0, 23, 24],
      errorCode: 'rsync',
    });
    splitter.end(onLine);
  };
  const incoming = join(options.target, META_DIR, INCOMING_DIR, 'preview-dry-run');
  const transferArgv = buildRsyncArgv({ ...base, destination: incoming, linkDest: newestSlot, extraArgs: ['--dry-run'] });
  await dryRun(transferArgv, (item) => {
    if (item.change === 'deleted' || (item.kind === 'dir' && item.change !== 'created')) return;
    if (item.kind === 'dir' && newestSlot !== undefined) return; // folders are recreated in every slot; only their files matter
    if (item.change === 'created') add({ ...item, action: 'copy' });
    else if (item.change === 'changed' || item.change === 'attributes') add({ ...item, action: newestSlot === undefined ? 'copy' : 'change' });
  });
  if (newestSlot !== undefined) {
    const deleteArgv = buildRsyncArgv({ ...base, destination: newestSlot, extraArgs: ['--dry-run', '--delete-excluded'] });
    await dryRun(deleteArgv, (item) => { if (item.change === 'deleted') add({ ...item, action: 'delete' }); });
  }
  return result;
}
