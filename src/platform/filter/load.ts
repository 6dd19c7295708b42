import { readFileSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { homedir } from 'node:os';
import { invalid } from '../../core/errors';
import { parseFilterText } from '../../core/filter/parse';
import { buildRuleList, type MergeReader, type RuleList } from '../../core/filter/ruleList';

/**
 * Reads `.`/`merge` files for a rule list. rsync opens a relative merge name from its own working
 * folder; backups and previews run rsync from the filter file's folder, so relative names resolve
 * from there.
 */
export function fileMergeReader(baseDir: string): MergeReader {
  return (name, from) => {
    const base = from !== undefined && isAbsolute(from) ? dirname(from) : baseDir;
    const file = isAbsolute(name) ? name : resolve(base, name);
    try {
      return { text: readFileSync(file, 'utf8'), file };
    } catch {
      return undefined;
    }
  };
}

/** The user's own CVS-ignore words, which rsync's -C adds: ~/.cvsignore and $CVSIGNORE. */
export function userCvsIgnore(env: NodeJS.ProcessEnv = process.env): string {
  let words = '';
  try { words += readFileSync(join(env['HOME'] ?? homedir(), '.cvsignore'), 'utf8'); } catch { /* none */ }
  return `${words} ${env['CVSIGNORE'] ?? ''}`;
}

export interface LoadedFilter { text: string; list: RuleList; file: string }

/** Builds the rule list of filter text (the document or a file's contents) as the engine applies it. */
export function ruleListFor(text: string, filterFile: string | undefined, excludes: readonly string[] = []): RuleList {
  return buildRuleList(parseFilterText(text), {
    readMerge: fileMergeReader(filterFile === undefined ? process.cwd() : dirname(filterFile)),
    excludes,
    cvsIgnoreExtra: userCvsIgnore(),
  });
}

/** Reads a filter file; a missing or unreadable file is bad input (exit 2), not a crash. */
export function loadFilterFile(file: string, excludes: readonly string[] = []): LoadedFilter {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (error) {
    throw invalid(`Cannot read the filter file ${abs}: ${(error as Error).message}.`, 'Pass an existing file with --filter, e.g. the workspace\'s .shadowslots-filter.');
  }
  return { text, list: ruleListFor(text, abs, excludes), file: abs };
}

/** Folder names directly inside `source/rel`, for completion (sorted, hidden folders included). */
export function listFolders(source: string, rel: string, limit = 500): string[] {
  try {
    return readdirSync(rel === '' ? source : join(source, rel), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort((a, b) => a.localeCompare(b))
      .slice(0, limit);
  } catch {
    return [];
  }
}
