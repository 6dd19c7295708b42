import { diagnoseFilter, summaryLine, type FilterDiagnostic } from '../../core/filter/diagnostics';
import { ruleReports, type RuleReport } from '../../core/filter/report';
import type { RuleList } from '../../core/filter/ruleList';
import type { FilterCounts } from '../../core/filter/stats';
import { ruleListFor } from './load';
import { countFilterMatches, type CountOptions } from './walk';

/** Everything known about a filter text against a source: what the editor and `filter check` show. */
export interface FilterAnalysis {
  list: RuleList;
  /** Absent when no source was given or the walk failed. */
  counts: FilterCounts | undefined;
  diagnostics: FilterDiagnostic[];
  rules: RuleReport[];
  summary: string | undefined;
}

/** Parses, walks the source once (cancellable) and diagnoses; the one path used by the editor and the CLI. */
export async function analyzeFilter(text: string, filterFile: string | undefined, source: string | undefined, options: CountOptions & { excludes?: readonly string[] } = {}): Promise<FilterAnalysis> {
  const list = ruleListFor(text, filterFile, options.excludes ?? []);
  // Backups run rsync with -x: folders on other file systems are not descended into.
  const counts = source === undefined ? undefined : await countFilterMatches(source, list.entries, { oneFileSystem: true, ...options });
  const diagnostics = diagnoseFilter(list, counts, source);
  return { list, counts, diagnostics, rules: ruleReports(list, counts, diagnostics, text.split(/\r\n|\n|\r/)), summary: counts ? summaryLine(counts) : undefined };
}
