import { compilePattern, type DirMerge, type RuleEntry } from './match';
import { parseFilterText, type FilterParseError } from './parse';

/**
 * The rules a `:` dir-merge rule contributes inside one folder, as rsync's push_local_filters()
 * builds them: the folder's own file first, then (unless `n`) the rules inherited from the parent
 * folders; `!` in the file drops both. A pattern with a leading `/` is anchored at this folder:
 * rsync prefixes the folder's absolute path and matches it against the absolute path.
 *
 * @param text contents of the folder's per-folder file, or undefined when the folder has none
 * @param dirAbs absolute path of the folder, without a trailing slash
 */
export function perDirEntries(text: string | undefined, file: string, dirAbs: string, dm: DirMerge, inherited: readonly RuleEntry[]): { list: RuleEntry[]; errors: FilterParseError[] } {
  const base = dm.noInherit ? [] : inherited;
  if (text === undefined) return { list: [...base], errors: [] };
  const parsed = parseFilterText(text, dm.template, file);
  let local: RuleEntry[] = [];
  let cleared = false;
  for (const rule of parsed.rules) {
    const f = rule.flags;
    if (rule.kind === 'clear') { local = []; cleared = true; continue; }
    // Merges inside per-folder files, sides the sender ignores and xattr rules decide no file here.
    if (rule.kind === 'merge' || rule.kind === 'dir-merge' || f.xattr || (f.receiverSide && !f.senderSide) || f.cvsIgnore) continue;
    let pattern = rule.pattern;
    let absPath = f.absPath;
    if (!absPath && pattern.startsWith('/')) { pattern = `${dirAbs === '/' ? '' : dirAbs}${pattern}`; absPath = true; }
    local.push({ rule, include: f.include, pattern: compilePattern(pattern, { negate: f.negate, absPath }) });
  }
  return { list: cleared ? local : [...local, ...base], errors: parsed.errors };
}
