import { parseFilterText, type FilterRule } from './parse';
import type { RuleList } from './ruleList';
import type { FilterCounts } from './stats';
import { formatBytes, formatCount } from './format';
import { SETTINGS_EXCLUDES } from './settingsExcludes';

export type Severity = 'error' | 'warning' | 'info' | 'hint';

export type DiagnosticCode =
  | 'syntax' | 'merge-missing' | 'merge-loop' | 'merge-relative' | 'dir-merge' | 'cleared' | 'receiver-only' | 'xattr'
  | 'trailing-space' | 'too-long' | 'duplicate' | 'no-match' | 'shadowed' | 'excludes-all' | 'matches-files-too' | 'unanchored';

/** A text change in the filter document (0-based line and columns; `endLine` defaults to `line`). */
export interface TextEdit { line: number; start: number; end: number; endLine?: number; newText: string }

export interface QuickFix { title: string; edits: TextEdit[]; preferred?: boolean }

export interface FilterDiagnostic {
  line: number;
  start: number;
  end: number;
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  fixes: QuickFix[];
}

/** Edit that anchors a rule's pattern at the top of the source (`/` in front of it). */
export function anchorFix(rule: FilterRule): QuickFix | undefined {
  if (rule.pattern.startsWith('/') || rule.pattern.startsWith('**') || rule.pattern.length === 0) return undefined;
  return { title: `Anchor this rule: only "/${rule.pattern}" at the top of the source`, edits: [{ line: rule.line, start: rule.patternStart, end: rule.patternStart, newText: '/' }] };
}

/** Edit that makes a rule match folders only (a trailing `/`). */
export function folderOnlyFix(rule: FilterRule): QuickFix | undefined {
  const trimmed = rule.pattern.replace(/[ \t]+$/, '');
  if (trimmed.endsWith('/') || trimmed.length === 0) return undefined;
  const at = rule.patternStart + trimmed.length;
  return { title: 'Make this rule match folders only (add a trailing "/")', edits: [{ line: rule.line, start: at, end: rule.patternStart + rule.pattern.length, newText: '/' }] };
}

function trimFix(rule: FilterRule): QuickFix {
  const trimmed = rule.pattern.replace(/[ \t]+$/, '');
  return { title: 'Remove the trailing white space', preferred: true, edits: [{ line: rule.line, start: rule.patternStart + trimmed.length, end: rule.end, newText: '' }] };
}

function deleteLineFix(rule: FilterRule, title = 'Remove this rule'): QuickFix {
  return { title, edits: [{ line: rule.line, start: 0, endLine: rule.line + 1, end: 0, newText: '' }] };
}

const RULE_NAMES = ['exclude', 'include', 'hide', 'show', 'protect', 'risk', 'merge', 'dir-merge', 'clear'];
/** Modifiers people write in the wrong case (rsync's are case-sensitive: `C` but `s r p x e n w`). */
const CASE_SWAPS: Record<string, string> = { S: 's', R: 'r', P: 'p', X: 'x', E: 'e', N: 'n', W: 'w', c: 'C' };

/** Levenshtein distance, small strings only (rule names). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/**
 * Quick fixes for a line rsync rejects, each checked by parsing the fixed line: a missing space
 * after a one-character rule (`-node_modules/`), a misspelt rule name (`exlude foo`), a modifier
 * in the wrong case or one that does not exist (`-S foo`, `-q foo`), white space before the rule.
 * `lineText` is the whole line; `line` its 0-based number.
 */
export function syntaxFixes(lineText: string, line: number): QuickFix[] {
  if (parseFilterText(lineText).errors.length === 0) return [];
  const fixes: QuickFix[] = [];
  const offer = (title: string, start: number, end: number, newText: string, preferred = false) => {
    const fixed = lineText.slice(0, start) + newText + lineText.slice(end);
    if (parseFilterText(fixed).errors.length > 0 || fixes.some((f) => f.title === title)) return;
    fixes.push({ title, ...(preferred ? { preferred: true } : {}), edits: [{ line, start, end, newText }] });
  };
  const lead = /^[ \t]+/.exec(lineText)?.[0].length ?? 0;
  if (lead > 0) offer('Remove the white space before the rule', 0, lead, '', true);
  const first = lineText[0] ?? '';
  // Modifiers run up to the first space or "_": a run without one is a pattern missing its space.
  const run = /^[^ _]*/.exec(lineText.slice(1))?.[0] ?? '';
  const looksLikePattern = run.length === lineText.length - 1 || run.length > 3;
  if ('+-HSPR.:'.includes(first) && first !== '' && lineText[1] !== ' ' && lineText.length > 1) {
    offer(`Insert a space after "${first}"`, 1, 1, ' ', looksLikePattern);
  }
  const word = /^[a-z-]+/i.exec(lineText)?.[0] ?? '';
  if (word.length > 2 && !RULE_NAMES.includes(word)) {
    const near = RULE_NAMES.map((n) => ({ n, d: distance(word.toLowerCase(), n) })).filter((x) => x.d <= 2).sort((a, b) => a.d - b.d)[0];
    if (near) offer(`Change "${word}" to "${near.n}"`, 0, word.length, near.n, true);
  }
  const bad = /^invalid modifier '(.)' at position (\d+)/.exec(parseFilterText(lineText).errors[0]?.message ?? '');
  if (bad) {
    const at = Number(bad[2]);
    const swap = CASE_SWAPS[bad[1]!];
    const singleCharRule = !/^[a-z]{2}/i.test(lineText);
    if (swap) offer(`Change the modifier "${bad[1]}" to "${swap}"`, at, at + 1, swap, !(singleCharRule && looksLikePattern));
    offer(`Remove the modifier "${bad[1]}"`, at, at + 1, '', !swap && !looksLikePattern);
  }
  // The likeliest fix first: the editor lists them in this order.
  return [...fixes.filter((f) => f.preferred), ...fixes.filter((f) => !f.preferred)];
}

const WHOLE_SOURCE = new Set(['*', '**', '***', '/*', '/**', '/***', '*/', '/*/', '**/']);

function describeRule(rule: FilterRule): string {
  if (rule.file === SETTINGS_EXCLUDES) return `the settings' exclude "${rule.pattern}"`;
  return rule.file === undefined ? `line ${rule.line + 1}` : `${rule.file}:${rule.line + 1}`;
}

/**
 * Everything the editor and `filter check` say about a filter file: syntax errors (which stop
 * rsync), rules that cannot do what they look like, and, when counts of the current source are
 * given, rules that match nothing, rules shadowed by an earlier rule, and a rule set that would
 * leave the backup empty. Only diagnostics of the document itself are returned (`file` undefined).
 */
export function diagnoseFilter(list: RuleList, counts?: FilterCounts, source?: string): FilterDiagnostic[] {
  const out: FilterDiagnostic[] = [];
  const own = (r: FilterRule) => r.file === undefined;
  const at = (r: FilterRule, severity: Severity, code: DiagnosticCode, message: string, fixes: QuickFix[] = [], whole = true): void => {
    if (own(r)) out.push({ line: r.line, start: whole ? r.start : r.patternStart, end: r.end, severity, code, message, fixes });
  };
  for (const e of list.errors) {
    if (e.file === undefined) out.push({ line: e.line, start: e.start, end: e.end, severity: 'error', code: 'syntax', message: e.hint ? `${e.message}\n${e.hint}` : e.message, fixes: [] });
    else out.push({ line: 0, start: 0, end: 0, severity: 'error', code: 'syntax', message: `In merged file ${e.file}, line ${e.line + 1}: ${e.message}`, fixes: [] });
  }
  const seen = new Map<string, FilterRule>();
  for (const r of list.rules) {
    if (!own(r)) continue;
    if (r.kind !== 'clear' && /[ \t]$/.test(r.pattern)) {
      at(r, 'warning', 'trailing-space', `The pattern ends in white space, which rsync treats as part of the name: ${JSON.stringify(r.pattern)}.`, [trimFix(r)], false);
    }
    if (Buffer.byteLength(r.pattern) >= 4096) at(r, 'warning', 'too-long', 'rsync discards patterns of 4096 bytes or more.');
    // Backups run rsync from the filter file's folder, so a relative "." name works; a relative ":"
    // name with a folder part makes rsync look for it relative to each folder's parents instead.
    if (r.kind === 'dir-merge' && r.pattern.includes('/') && !r.pattern.startsWith('/')) {
      at(r, 'warning', 'merge-relative', 'A per-folder merge name with a folder part is resolved by rsync against the source\'s parent folders, not per folder; use a plain file name such as ".rules".', [], false);
    }
    const key = `${r.kind}|${r.prefix.replace(/^(exclude|include|hide|show|protect|risk|merge|dir-merge)/, (m) => ({ exclude: '-', include: '+', hide: 'H', show: 'S', protect: 'P', risk: 'R', merge: '.', 'dir-merge': ':' })[m] ?? m).replace(',', '')}|${r.pattern}`;
    const dup = seen.get(key);
    if (dup && r.kind !== 'clear') at(r, 'warning', 'duplicate', `Same rule as line ${dup.line + 1}; it never decides anything.`, [deleteLineFix(r)]);
    else seen.set(key, r);
  }
  for (const n of list.notes) {
    switch (n.kind) {
      case 'merge-missing': at(n.rule, 'error', 'merge-missing', `Cannot read the merge file ${JSON.stringify(n.name)}: rsync stops with "failed to open exclude file" (exit 11).`, [], false); break;
      case 'merge-loop': at(n.rule, 'error', 'merge-loop', `The merge file ${JSON.stringify(n.name)} merges itself (directly or through other files).`, [], false); break;
      case 'dir-merge': at(n.rule, 'info', 'dir-merge', `Per-folder merge files named with a folder part (${JSON.stringify(n.rule.pattern)}), or merged from another file, are applied by rsync but not evaluated here: the counts ignore them.`); break;
      case 'cleared': if (n.dropped > 0) at(n.rule, 'info', 'cleared', `Clears the ${n.dropped} rule${n.dropped === 1 ? '' : 's'} before it.`); break;
      case 'receiver-only': at(n.rule, 'info', 'receiver-only', 'Applies only on the receiving side: it protects or risks files in the backup during deletion and does not change what is copied.'); break;
      case 'xattr': at(n.rule, 'info', 'xattr', 'An "x" rule filters extended-attribute names, not files.'); break;
    }
  }
  // A rule set that excludes everything, known without looking at the tree.
  const firstDecider = list.entries[0];
  if (firstDecider && !firstDecider.include && !firstDecider.sub && !firstDecider.pattern.negate && WHOLE_SOURCE.has(firstDecider.rule.pattern)) {
    at(firstDecider.rule, 'error', 'excludes-all', `"${firstDecider.rule.pattern}" as the first rule excludes the whole source: every backup would be empty.`);
  }
  if (!counts || !counts.complete) return out;
  const where = source ? ` in ${source}` : ' in the source';
  for (const err of counts.dirMergeErrors) {
    const r = list.entries[err.entry]?.rule;
    if (r) at(r, 'error', 'syntax', `${err.file}, line ${err.line + 1}: ${err.message} (rsync stops with a syntax error when it reads this per-folder file)`);
  }
  list.entries.forEach((e, i) => {
    const s = counts.stats[i]!;
    const r = e.rule;
    if (!own(r) || e.via || e.dirMerge) return;
    if (s.files + s.dirs === 0) {
      if (s.shadowed > 0 && s.shadowedBy !== undefined) {
        const by = list.entries[s.shadowedBy]!;
        out.push({
          line: r.line, start: r.start, end: r.end, severity: 'warning', code: 'shadowed', fixes: [],
          message: s.shadowedInside * 2 >= s.shadowed
            ? `Never applies: what it matches (e.g. ${s.shadowExamples[0]}) lies inside a folder excluded by ${describeRule(by.rule)}, and rsync never looks inside an excluded folder. Move this rule above ${describeRule(by.rule)} and include the parent folders (e.g. "+ */").`
            : `Never applies: everything it matches (e.g. ${s.shadowExamples[0]}) is decided first by ${describeRule(by.rule)} ("${by.rule.prefix} ${by.rule.pattern}"). Move it above that rule if it should win.`,
        });
      } else if (counts.totalFiles + counts.totalDirs > 0) {
        out.push({ line: r.line, start: r.patternStart, end: r.end, severity: 'warning', code: 'no-match', fixes: [deleteLineFix(r, 'Remove this rule (it matches nothing)')], message: `Matches nothing${where}.${hintFor(r)}` });
      }
      return;
    }
    // Both hints are about literal names ("build"), where the two mistakes happen; wildcards are deliberate.
    const literal = !/[*?[]/.test(r.pattern);
    if (literal && !e.include && s.dirs > 0 && s.files > 0 && s.examples.some((x) => !x.endsWith('/')) && !r.pattern.endsWith('/') && !e.pattern.negate && !e.sub) {
      const file = s.examples.find((x) => !x.endsWith('/'));
      const fix = folderOnlyFix(r);
      out.push({ line: r.line, start: r.patternStart, end: r.end, severity: 'hint', code: 'matches-files-too', fixes: fix ? [fix] : [], message: `Matches files as well as folders (e.g. ${file}); add a trailing "/" to match folders only.` });
    }
    if (literal && !r.pattern.startsWith('/') && s.depths.length > 1 && !e.pattern.negate && !e.sub) {
      const fix = anchorFix(r);
      out.push({ line: r.line, start: r.patternStart, end: r.end, severity: 'hint', code: 'unanchored', fixes: fix ? [fix] : [], message: `Matches at several depths (e.g. ${s.examples.slice(0, 2).join(', ')}); a leading "/" anchors it at the top of the source.` });
    }
  });
  if (counts.topLevel > 0 && counts.topLevelExcluded === counts.topLevel && counts.includedFiles === 0) {
    const culprits = new Map<number, number>();
    list.entries.forEach((e, i) => { if (!e.include && counts.stats[i]!.examples.some((x) => !x.slice(0, -1).includes('/'))) culprits.set(i, counts.stats[i]!.files); });
    for (const i of culprits.keys()) {
      const r = list.entries[i]!.rule;
      if (own(r) && !out.some((d) => d.code === 'excludes-all' && d.line === r.line)) {
        out.push({ line: r.line, start: r.start, end: r.end, severity: 'error', code: 'excludes-all', fixes: [], message: `Together with the rules before it, this excludes the whole source${where}: the backup would be empty.` });
      }
    }
  }
  return out;
}

function hintFor(r: FilterRule): string {
  const p = r.pattern;
  if (p.startsWith('/') && p.slice(1).includes('/')) return ' An anchored pattern starts at the top of the source: check the folder names.';
  return '';
}

/** The one-line summary shown above the rules: "excludes 12,345 files (1.2 GB) of 45,678". */
export function summaryLine(counts: FilterCounts): string {
  const partial = counts.complete ? '' : ' so far';
  return `excludes ${formatCount(counts.excludedFiles)} file${counts.excludedFiles === 1 ? '' : 's'} (${formatBytes(counts.excludedBytes)}) of ${formatCount(counts.totalFiles)}${partial}`;
}
