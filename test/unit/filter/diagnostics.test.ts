import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilterText } from '../../../src/core/filter/parse';
import { buildRuleList } from '../../../src/core/filter/ruleList';
import { FilterCounter } from '../../../src/core/filter/stats';
import { anchorFix, diagnoseFilter, folderOnlyFix, summaryLine, type TextEdit } from '../../../src/core/filter/diagnostics';

/** Walks an in-memory tree the way the platform walker does. */
function analyse(rules: string, tree: Array<[string, number | 'dir']>) {
  const list = buildRuleList(parseFilterText(rules));
  const counter = new FilterCounter(list.entries);
  const excluded = new Map<string, number>();
  for (const [rel, size] of tree) {
    const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    const by = parent === '' ? -1 : (excluded.get(parent) ?? -1);
    const d = counter.visit(rel, size === 'dir', size === 'dir' ? 0 : size, by);
    if (size === 'dir') excluded.set(rel, by >= 0 ? by : d.include ? -1 : d.entry);
  }
  const counts = counter.finish(true, 1);
  return { list, counts, diagnostics: diagnoseFilter(list, counts, '/src') };
}

const TREE: Array<[string, number | 'dir']> = [
  ['node_modules', 'dir'], ['node_modules/a.js', 1000], ['node_modules/b.js', 2000], ['app', 'dir'], ['app/build', 'dir'],
  ['app/build/out', 50], ['build', 5], ['main.ts', 10], ['debug.log', 7],
];

const codes = (ds: Array<{ line: number; code: string }>) => ds.map((d) => `${d.line}:${d.code}`).sort();

test('counts per rule include everything below an excluded folder', () => {
  const { counts } = analyse('- node_modules/\n- *.log', TREE);
  assert.deepEqual([counts.stats[0]!.files, counts.stats[0]!.bytes, counts.stats[0]!.dirs], [2, 3000, 1]);
  assert.deepEqual([counts.stats[1]!.files, counts.stats[1]!.examples], [1, ['debug.log']]);
  assert.equal(summaryLine(counts), 'excludes 3 files (3.0 kB) of 6');
});

test('rules that match nothing, shadowed rules and rules inside excluded folders are warned about', () => {
  const { diagnostics } = analyse('- node_modules/\n+ node_modules/a.js\n- *.tmp\n- *.log\n- debug.log', TREE);
  assert.deepEqual(codes(diagnostics), ['1:shadowed', '2:no-match', '4:shadowed']);
  assert.match(diagnostics.find((d) => d.line === 1)!.message, /inside a folder excluded by line 1/);
  assert.match(diagnostics.find((d) => d.line === 4)!.message, /decided first by line 4/);
});

test('a rule set that leaves nothing to back up is an error, statically and on the tree', () => {
  assert.deepEqual(codes(analyse('- *', TREE).diagnostics), ['0:excludes-all']);
  const counted = analyse('- /node_modules\n- /app\n- /build\n- /*.*', TREE).diagnostics.filter((d) => d.code === 'excludes-all');
  assert.deepEqual(counted.map((d) => d.line), [0, 1, 2, 3]);
  assert.deepEqual(codes(analyse('+ */\n+ *.ts\n- *', TREE).diagnostics).filter((c) => c.endsWith('excludes-all')), []);
});

test('hints offer the two quick fixes: folder-only and anchor', () => {
  const { diagnostics } = analyse('- build', TREE);
  const filesToo = diagnostics.find((d) => d.code === 'matches-files-too')!;
  assert.equal(filesToo.fixes[0]!.title, 'Make this rule match folders only (add a trailing "/")');
  const unanchored = diagnostics.find((d) => d.code === 'unanchored')!;
  assert.match(unanchored.fixes[0]!.title, /^Anchor this rule/);
});

function apply(text: string, edits: TextEdit[]): string {
  const lines = text.split('\n');
  for (const e of edits) {
    const endLine = e.endLine ?? e.line;
    const head = lines[e.line]!.slice(0, e.start);
    const tail = endLine < lines.length ? lines[endLine]!.slice(e.end) : '';
    lines.splice(e.line, endLine - e.line + 1, head + e.newText + tail);
  }
  return lines.join('\n');
}

test('quick-fix edits produce the intended rule text', () => {
  const rule = (t: string) => parseFilterText(t).rules[0]!;
  assert.equal(apply('- build', anchorFix(rule('- build'))!.edits), '- /build');
  assert.equal(apply('exclude,s build/', anchorFix(rule('exclude,s build/'))!.edits), 'exclude,s /build/');
  assert.equal(anchorFix(rule('- /x')), undefined);
  assert.equal(anchorFix(rule('- **/x')), undefined);
  assert.equal(apply('- build', folderOnlyFix(rule('- build'))!.edits), '- build/');
  assert.equal(apply('- build  ', folderOnlyFix(rule('- build  '))!.edits), '- build/');
  assert.equal(folderOnlyFix(rule('- build/')), undefined);
  const { diagnostics } = analyse('- *.log \n- x\n- x', TREE);
  const trim = diagnostics.find((d) => d.code === 'trailing-space')!.fixes[0]!;
  assert.equal(apply('- *.log \n- x\n- x', trim.edits), '- *.log\n- x\n- x');
  const dup = diagnostics.find((d) => d.code === 'duplicate')!.fixes[0]!;
  assert.equal(apply('- *.log \n- x\n- x', dup.edits), '- *.log \n- x\n');
});

test('syntax errors, missing merge files and rules that do not change the copy are reported', () => {
  const list = buildRuleList(parseFilterText('-foo\n. /nowhere\nP keep\n: sub/.rules\n- x\n!'), { readMerge: () => undefined });
  assert.deepEqual(codes(diagnoseFilter(list)), ['0:syntax', '1:merge-missing', '2:receiver-only', '3:dir-merge', '3:merge-relative', '5:cleared']);
});
