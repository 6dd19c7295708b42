import { compilePattern, type RuleEntry } from './match';
import { SETTINGS_EXCLUDES } from './settingsExcludes';
import { DEFAULT_CVS_IGNORE, parseFilterText, templateOf, type FilterParseError, type FilterRule, type ParsedFilterText } from './parse';

/** How the list reads a `.` merge file. Returns its text, or undefined when it cannot be read. */
export type MergeReader = (name: string, from: string | undefined) => { text: string; file: string } | undefined;

export interface RuleListOptions {
  /** Reads `.`/`merge` files; without it merge rules are reported as not evaluated. */
  readMerge?: MergeReader | undefined;
  /** Patterns from the settings' exclude list, applied before the file's rules (`--exclude=`). */
  excludes?: readonly string[] | undefined;
  /** Extra CVS-ignore words (the user's ~/.cvsignore and $CVSIGNORE), added after rsync's defaults. */
  cvsIgnoreExtra?: string | undefined;
}

export type RuleNote =
  | { kind: 'merge-missing'; rule: FilterRule; name: string }
  | { kind: 'merge-loop'; rule: FilterRule; name: string }
  | { kind: 'dir-merge'; rule: FilterRule }
  | { kind: 'cleared'; rule: FilterRule; dropped: number }
  | { kind: 'receiver-only'; rule: FilterRule }
  | { kind: 'xattr'; rule: FilterRule };

/**
 * The list of rules the sending rsync matches, in order. It holds only what decides which files
 * are copied: receiver-only rules (P, R, `r`) only protect or risk files in the target during
 * deletion, and `x` rules filter extended-attribute names.
 */
export interface RuleList {
  entries: RuleEntry[];
  /** Every rule read, from the file and from merged files, in order (including receiver-only). */
  rules: FilterRule[];
  errors: FilterParseError[];
  notes: RuleNote[];
}

const MAX_MERGE_DEPTH = 16;

/** Builds the sender's rule list from parsed filter text, expanding merges and clears as rsync does. */
export function buildRuleList(parsed: ParsedFilterText, options: RuleListOptions = {}): RuleList {
  const list: RuleList = { entries: [], rules: [], errors: [...parsed.errors], notes: [] };
  (options.excludes ?? []).forEach((pattern, i) => {
    const rule: FilterRule = { kind: 'exclude', flags: { ...blankFlags }, pattern, line: i, start: 0, patternStart: 0, end: pattern.length, prefix: '-', file: SETTINGS_EXCLUDES };
    list.rules.push(rule);
    list.entries.push({ rule, include: false, pattern: compilePattern(pattern) });
  });
  addRules(list, parsed.rules, options, [], 0);
  return list;
}

const blankFlags = parseFilterText('- x').rules[0]!.flags;

function addRules(list: RuleList, rules: FilterRule[], options: RuleListOptions, stack: string[], depth: number): void {
  for (const rule of rules) {
    list.rules.push(rule);
    const f = rule.flags;
    switch (rule.kind) {
      case 'clear':
        list.notes.push({ kind: 'cleared', rule, dropped: list.entries.length });
        list.entries.length = 0;
        continue;
      case 'dir-merge': {
        if (f.excludeSelf) addExcludeSelf(list, rule);
        const name = rule.pattern.length === 0 ? '.cvsignore' : rule.pattern;
        // A name with a folder part makes rsync also scan the parents of the source; not modelled.
        if (name.includes('/') || depth > 0) { list.notes.push({ kind: 'dir-merge', rule }); continue; }
        list.entries.push({ rule, include: false, pattern: compilePattern('-'), sub: [], dirMerge: { name, template: templateOf(rule), noInherit: f.noInherit } });
        continue;
      }
      case 'merge': {
        if (f.excludeSelf) addExcludeSelf(list, rule);
        const name = rule.pattern.length === 0 ? '.cvsignore' : rule.pattern;
        if (stack.includes(name) || depth >= MAX_MERGE_DEPTH) { list.notes.push({ kind: 'merge-loop', rule, name }); continue; }
        const read = options.readMerge?.(name, rule.file);
        if (!read) { list.notes.push({ kind: 'merge-missing', rule, name }); continue; }
        const nested = parseFilterText(read.text, templateOf(rule), read.file);
        list.errors.push(...nested.errors);
        addRules(list, nested.rules, options, [...stack, name], depth + 1);
        continue;
      }
      default:
        break;
    }
    if (f.xattr) { list.notes.push({ kind: 'xattr', rule }); continue; }
    if (f.receiverSide && !f.senderSide) { list.notes.push({ kind: 'receiver-only', rule }); continue; }
    if (f.cvsIgnore) {
      list.entries.push({ rule, include: false, pattern: compilePattern('-'), sub: cvsEntries(rule, options.cvsIgnoreExtra) });
      continue;
    }
    list.entries.push({ rule, include: f.include, pattern: compilePattern(rule.pattern, { negate: f.negate, absPath: f.absPath }) });
  }
}

function addExcludeSelf(list: RuleList, rule: FilterRule): void {
  const base = rule.pattern.slice(rule.pattern.lastIndexOf('/') + 1);
  if (base.length === 0) return;
  list.entries.push({ rule, include: false, pattern: compilePattern(base) });
}

function cvsEntries(via: FilterRule, extra: string | undefined): RuleEntry[] {
  // get_cvs_excludes(): the defaults are perishable excludes; the user's words follow them.
  const parsed = parseFilterText(`${DEFAULT_CVS_IGNORE} ${extra ?? ''}`, { noPrefixes: true, wordSplit: true, cvsIgnore: true });
  const out: RuleEntry[] = [];
  for (const r of parsed.rules) {
    if (r.kind === 'clear') { out.length = 0; continue; }
    out.push({ rule: r, via, include: r.flags.include, pattern: compilePattern(r.pattern, { negate: r.flags.negate }) });
  }
  return out;
}
