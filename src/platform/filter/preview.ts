import { lstatSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { firstMatch, includeOf, MatchPath, type RuleEntry } from '../../core/filter/match';
import type { RuleList } from '../../core/filter/ruleList';
import { SETTINGS_EXCLUDES } from '../../core/filter/settingsExcludes';
import type { PreviewRule } from '../../core/filter/preview';
import { checkFilterFile } from './check';
import { ruleListFor } from './load';
import { countFilterMatches } from './walk';
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
  /** Also walk the source with the rules: what each rule decides, and why an item leaves (default true). */
  explain?: boolean | undefined;
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
  // An invalid rule gets the engine's own diagnostic (with where it is), not rsync's exclude.c line.
  if (options.filterFile !== undefined) await checkFilterFile(options.filterFile);
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
  if (options.explain !== false) await explain(result, options);
  return result;
}

/**
 * Walks the source with the rule list the backup uses: per rule what it decides now, and for each
 * item leaving the ring whether a rule excludes it (naming the rule) or it is gone from the source.
 */
async function explain(result: PreviewResult, options: PreviewOptions): Promise<void> {
  const text = options.filterFile !== undefined ? readFileSync(options.filterFile, 'utf8') : '';
  const list = ruleListFor(text, options.filterFile, options.excludes ?? []);
  const counts = await countFilterMatches(options.source, list.entries, { oneFileSystem: true, signal: options.signal });
  const { rules, indexOfEntry } = previewRules(list, counts.stats, options.filterFile);
  result.rules = rules;
  result.included = { files: counts.includedFiles, bytes: counts.includedBytes };
  result.excluded = { files: counts.excludedFiles, bytes: counts.excludedBytes };
  for (const item of result.items) {
    if (item.action !== 'delete') continue;
    const rel = item.path.replace(/\/+$/, '');
    let exists = false;
    try { lstatSync(join(options.source, ...rel.split('/'))); exists = true; } catch { /* gone from the source */ }
    if (!exists) { item.reason = { kind: 'gone' }; continue; }
    const entry = excludingEntry(list.entries, rel, item.kind === 'dir', options.source);
    item.reason = { kind: 'excluded', rule: entry === undefined ? null : indexOfEntry(entry) ?? null };
  }
}

/** The entry that excludes `rel` itself or, first, one of its folders (rsync never looks inside an excluded folder). */
function excludingEntry(entries: readonly RuleEntry[], rel: string, isDir: boolean, source: string): number | undefined {
  const parts = rel.split('/');
  const root = Buffer.from(source.replace(/^\/+/, ''), 'utf8');
  for (let n = 1; n <= parts.length; n++) {
    const path = new MatchPath(parts.slice(0, n).join('/'), n < parts.length || isDir, root);
    const i = firstMatch(entries, path);
    if (i >= 0 && !includeOf(entries[i]!, path)) return i;
  }
  return undefined;
}

/** One PreviewRule per written rule (a `-C` rule's many patterns count as that one rule), in rsync's order. */
function previewRules(list: RuleList, stats: ReadonlyArray<{ files: number; dirs: number; bytes: number; examples: string[] }>, filterFile: string | undefined): { rules: PreviewRule[]; indexOfEntry: (entry: number) => number | undefined } {
  const rules: PreviewRule[] = [];
  const byKey = new Map<string, number>();
  const ofEntry: number[] = [];
  list.entries.forEach((e, i) => {
    const r = e.via ?? e.rule;
    const key = `${r.file ?? ''}\0${r.line}`;
    let index = byKey.get(key);
    if (index === undefined) {
      const origin: PreviewRule['origin'] = r.file === SETTINGS_EXCLUDES ? 'settings' : r.file === undefined ? 'filter-file' : 'merged';
      const file = origin === 'settings' ? undefined : r.file ?? filterFile;
      index = rules.push({
        origin, ...(file !== undefined ? { file } : {}), line: r.line, text: r.pattern === '' ? r.prefix : `${r.prefix} ${r.pattern}`,
        include: e.include, files: 0, dirs: 0, bytes: 0, examples: [],
      }) - 1;
      byKey.set(key, index);
    }
    const s = stats[i]!;
    const rule = rules[index]!;
    rule.files += s.files; rule.dirs += s.dirs; rule.bytes += s.bytes;
    for (const x of s.examples) if (rule.examples.length < 5) rule.examples.push(x);
    ofEntry[i] = index;
  });
  return { rules, indexOfEntry: (entry) => ofEntry[entry] };
}
