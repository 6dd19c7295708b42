import type { FilterDiagnostic } from './diagnostics';
import { formatBytes, formatCount } from './format';
import type { FilterRule } from './parse';
import type { RuleList } from './ruleList';
import type { FilterCounts, RuleStats } from './stats';

/** One line of the filter file with what it does: the data of the hover, the CLI and the JSON. */
export interface RuleReport {
  line: number;
  /** The rule as written (prefix and pattern). */
  text: string;
  kind: FilterRule['kind'] | 'invalid';
  /** What the rule does to the files it decides, or why it decides none. */
  effect: 'excludes' | 'includes' | 'decides' | 'not-evaluated' | 'receiver-only' | 'none';
  files: number;
  bytes: number;
  dirs: number;
  examples: string[];
  diagnostics: FilterDiagnostic[];
}

const EFFECT_OF_KIND: Record<FilterRule['kind'], RuleReport['effect']> = {
  exclude: 'excludes', hide: 'excludes', include: 'includes', show: 'includes', protect: 'receiver-only', risk: 'receiver-only',
  merge: 'not-evaluated', 'dir-merge': 'not-evaluated', clear: 'none',
};

/** Per-rule reports for the rules of the document itself (not of merged files), in line order. */
export function ruleReports(list: RuleList, counts: FilterCounts | undefined, diagnostics: readonly FilterDiagnostic[], lines: readonly string[] = []): RuleReport[] {
  const byLine = new Map<number, RuleReport>();
  for (const r of list.rules) {
    if (r.file !== undefined || byLine.has(r.line)) continue;
    let effect = EFFECT_OF_KIND[r.kind];
    if (r.flags.receiverSide && !r.flags.senderSide && effect !== 'not-evaluated') effect = 'receiver-only';
    if (r.flags.xattr) effect = 'none';
    if (r.kind === 'merge') effect = 'none';
    byLine.set(r.line, { line: r.line, text: r.pattern === '' ? r.prefix : `${r.prefix} ${r.pattern}`, kind: r.kind, effect, files: 0, bytes: 0, dirs: 0, examples: [], diagnostics: [] });
  }
  list.entries.forEach((e, i) => {
    const rep = e.rule.file === undefined ? byLine.get(e.rule.line) : undefined;
    const s: RuleStats | undefined = counts?.stats[i];
    if (!rep || !s) return;
    rep.files += s.files; rep.bytes += s.bytes; rep.dirs += s.dirs;
    for (const x of s.examples) if (rep.examples.length < 5) rep.examples.push(x);
    if (e.rule.flags.cvsIgnore && e.rule.kind === 'exclude') rep.effect = 'excludes';
    if (e.dirMerge) rep.effect = rep.files + rep.dirs > 0 ? 'decides' : 'none';
  });
  for (const e of list.errors) {
    if (e.file === undefined && !byLine.has(e.line)) byLine.set(e.line, { line: e.line, text: lines[e.line] ?? '', kind: 'invalid', effect: 'none', files: 0, bytes: 0, dirs: 0, examples: [], diagnostics: [] });
  }
  for (const d of diagnostics) byLine.get(d.line)?.diagnostics.push(d);
  return [...byLine.values()].sort((a, b) => a.line - b.line);
}

/** "excludes 1,234 files (5.6 MB) and 7 folders" — or why the rule counts nothing. */
export function effectLine(r: RuleReport, complete = true): string {
  switch (r.effect) {
    case 'receiver-only': return 'affects only deletion in the backup (receiver side); copies nothing more or less';
    case 'not-evaluated': return 'per-folder merge files named with a folder part are not evaluated by the preview';
    case 'none': return r.kind === 'clear' ? 'clears the rules before it' : r.kind === 'invalid' ? 'invalid: rsync stops with a syntax error' : 'decides no files itself';
    default: {
      const folders = r.dirs > 0 ? ` and ${formatCount(r.dirs)} folder${r.dirs === 1 ? '' : 's'}` : '';
      const through = r.effect === 'decides' ? ' through its per-folder files' : '';
      return `${r.effect} ${formatCount(r.files)} file${r.files === 1 ? '' : 's'} (${formatBytes(r.bytes)})${folders}${through}${complete ? '' : ' so far'}`;
    }
  }
}

/** Markdown for a hover on a rule. */
export function hoverMarkdown(r: RuleReport, complete: boolean): string {
  const lines = [`**${escapeMd(r.text)}** ${effectLine(r, complete)}`];
  if (r.examples.length > 0) lines.push('', ...r.examples.map((x) => `- \`${x.replace(/`/g, '\'')}\``));
  for (const d of r.diagnostics) lines.push('', `*${d.severity}:* ${escapeMd(d.message)}`);
  return lines.join('\n');
}

function escapeMd(s: string): string {
  return s.replace(/([\\`*_{}[\]()#+\-.!|<>])/g, '\\$1');
}
