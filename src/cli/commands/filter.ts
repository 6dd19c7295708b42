import { parseArgs } from 'node:util';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CliCommand, CliIO } from '../command';
import { ExitCode, invalid } from '../../core/errors';
import { effectLine } from '../../core/filter/report';
import { formatCount } from '../../core/filter/format';
import { analyzeFilter } from '../../platform/filter/analyze';
import { loadFilterFile } from '../../platform/filter/load';
import { previewBackup } from '../../platform/filter/preview';

function existingDir(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw invalid(`${flag} is required.`, `Pass ${flag} DIR.`);
  const abs = resolve(value);
  let ok = false;
  try { ok = statSync(abs).isDirectory(); } catch { /* reported below */ }
  if (!ok) throw invalid(`${flag} ${abs} is not an existing folder.`, `Pass the folder to back up as ${flag}.`);
  return abs;
}

function usageErrors<T>(parseIt: () => T): T {
  try {
    return parseIt();
  } catch (error) {
    throw invalid((error as Error).message, 'Run with --help for the options.');
  }
}

const CHECK_USAGE = 'shadow-slots filter check --source DIR --filter FILE [--exclude PATTERN]... [--json]';

/** `filter check`: per rule its line, what it excludes or includes, and its diagnostics. */
export const filterCommand: CliCommand = {
  name: 'filter',
  usage: CHECK_USAGE,
  summary: 'Check a filter file against a source: per rule the files and bytes it excludes or includes, and problems (exit 2 if rsync would reject it or it excludes everything).',
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values, positionals } = usageErrors(() => parseArgs({ args: argv, allowPositionals: true, strict: true, options: {
      source: { type: 'string' }, filter: { type: 'string' }, exclude: { type: 'string', multiple: true }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    } }));
    if (values.help) { io.out(`Usage: ${CHECK_USAGE}\n`); return ExitCode.ok; }
    if (positionals[0] !== 'check' || positionals.length !== 1) throw invalid(`Unknown filter sub-command ${JSON.stringify(positionals.join(' '))}.`, `Usage: ${CHECK_USAGE}`);
    const source = existingDir(values.source, '--source');
    const filterPath = values.filter;
    if (!filterPath) throw invalid('--filter is required.', 'Pass the filter file, e.g. --filter .shadowslots-filter.');
    const excludes = (values.exclude) ?? [];
    const loaded = loadFilterFile(filterPath, excludes);
    const analysis = await analyzeFilter(loaded.text, loaded.file, source, { signal: io.signal, excludes });
    const errors = analysis.diagnostics.filter((d) => d.severity === 'error').length;
    if (values.json) {
      const c = analysis.counts!;
      io.out(`${JSON.stringify({
        filter: loaded.file, source, summary: analysis.summary,
        totals: { files: c.totalFiles, bytes: c.totalBytes, folders: c.totalDirs, includedFiles: c.includedFiles, includedBytes: c.includedBytes, excludedFiles: c.excludedFiles, excludedBytes: c.excludedBytes, unreadable: c.unreadable, durationMs: c.durationMs },
        rules: analysis.rules.map((r) => ({ line: r.line + 1, rule: r.text, kind: r.kind, effect: r.effect, files: r.files, bytes: r.bytes, folders: r.dirs, examples: r.examples, diagnostics: r.diagnostics.map(diagJson) })),
        diagnostics: analysis.diagnostics.map(diagJson),
      }, null, 2)}\n`);
    } else {
      io.out(`${loaded.file} on ${source}: ${analysis.summary}\n`);
      const shown = new Set<number>();
      for (const r of analysis.rules) {
        io.out(`${String(r.line + 1).padStart(5)}  ${r.text}\n       ${effectLine(r)}${r.examples.length ? `, e.g. ${r.examples.slice(0, 3).join(', ')}` : ''}\n`);
        for (const d of r.diagnostics) { shown.add(analysis.diagnostics.indexOf(d)); io.out(`       ${d.severity}: ${d.message.replace(/\n/g, '\n         ')}\n`); }
      }
      analysis.diagnostics.forEach((d, i) => { if (!shown.has(i)) io.out(`${String(d.line + 1).padStart(5)}  ${d.severity}: ${d.message.replace(/\n/g, '\n         ')}\n`); });
      const warnings = analysis.diagnostics.filter((d) => d.severity === 'warning').length;
      io.out(`${formatCount(errors)} error${errors === 1 ? '' : 's'}, ${formatCount(warnings)} warning${warnings === 1 ? '' : 's'}\n`);
    }
    return errors > 0 ? ExitCode.usage : ExitCode.ok;
  },
};

function diagJson(d: { line: number; start: number; end: number; severity: string; code: string; message: string; fixes: unknown[] }) {
  return { line: d.line + 1, column: d.start + 1, endColumn: d.end + 1, severity: d.severity, code: d.code, message: d.message, fixes: d.fixes };
}

const PREVIEW_USAGE = 'shadow-slots preview --source DIR --target DIR [--filter FILE] [--exclude PATTERN]... [--rsync PATH] [--json]';

/** `preview`: rsync's dry run of the next backup — what it would copy, change and delete. */
export const previewCommand: CliCommand = {
  name: 'preview',
  usage: PREVIEW_USAGE,
  summary: 'Dry run of the next backup (rsync --dry-run --itemize-changes): what it would copy, change and delete.',
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = usageErrors(() => parseArgs({ args: argv, strict: true, options: {
      source: { type: 'string' }, target: { type: 'string' }, filter: { type: 'string' }, exclude: { type: 'string', multiple: true }, rsync: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    } }));
    if (values.help) { io.out(`Usage: ${PREVIEW_USAGE}\n`); return ExitCode.ok; }
    const source = existingDir(values.source, '--source');
    const target = existingDir(values.target, '--target');
    const filterFile = values.filter === undefined ? undefined : loadFilterFile(values.filter).file;
    const json = values.json === true;
    const marks = { copy: '+', change: '~', delete: '-' } as const;
    const result = await previewBackup({
      source, target, filterFile, excludes: (values.exclude) ?? [], rsyncPath: values.rsync, signal: io.signal, keep: json ? 100000 : 0,
      onItem: json ? undefined : (item) => io.out(`${marks[item.action]} ${item.path}\n`),
    });
    if (json) {
      io.out(`${JSON.stringify({ source, target, newestSlot: result.newestSlot ?? null, copied: result.copied, changed: result.changed, deleted: result.deleted, truncated: result.truncated, items: result.items.map((i) => ({ action: i.action, kind: i.kind, path: i.path })) }, null, 2)}\n`);
    } else {
      io.out(`${formatCount(result.copied)} to copy, ${formatCount(result.changed)} changed, ${formatCount(result.deleted)} not in the next slot${result.newestSlot ? ` (compared with ${result.newestSlot})` : ' (first backup)'}\n`);
    }
    return ExitCode.ok;
  },
};
