// The counting walk on a generated tree: its totals and per-rule counts must equal a brute-force
// evaluation of the same tree held in memory, and a cancelled walk must stop with `cancelled`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFilterText } from '../../../src/core/filter/parse';
import { buildRuleList } from '../../../src/core/filter/ruleList';
import { firstMatch, isIncluded, MatchPath } from '../../../src/core/filter/match';
import { countFilterMatches } from '../../../src/platform/filter/walk';
import { randomTree, rngFrom, writeTree } from '../../integration/filter/randomTrees';

const RULES = '+ keep/***\n- node_modules/\n- *.log\n+ */\n- *.o\n- /src/\n- [x]\n- nothing-matches-this';

test('per-rule counts on a generated tree equal a brute-force evaluation', async (t) => {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'ss-filter-walk-')));
  t.after(() => rm(root, { recursive: true, force: true }));
  const tree = randomTree(rngFrom(42), 600, 5);
  await writeTree(root, tree);
  const list = buildRuleList(parseFilterText(RULES));
  const counts = await countFilterMatches(root, list.entries);

  const files = new Array(list.entries.length).fill(0);
  const bytes = new Array(list.entries.length).fill(0);
  let excludedFiles = 0;
  const decidedBy = new Map<string, number>();
  const sorted = [...tree].sort((a, b) => a.rel.split('/').length - b.rel.split('/').length);
  for (const e of sorted) {
    const parent = e.rel.includes('/') ? e.rel.slice(0, e.rel.lastIndexOf('/')) : '';
    let by = parent === '' ? -1 : decidedBy.get(parent)!;
    if (by < 0) {
      const p = new MatchPath(e.rel, e.isDir);
      by = isIncluded(list.entries, p) ? -1 : firstMatch(list.entries, p);
      const first = firstMatch(list.entries, p);
      if (by < 0 && first >= 0 && !e.isDir) { files[first]++; bytes[first] += e.size; }
    }
    decidedBy.set(e.rel, by);
    if (by >= 0 && !e.isDir) { files[by]++; bytes[by] += e.size; excludedFiles++; }
  }
  assert.equal(counts.complete, true);
  assert.equal(counts.totalFiles, tree.filter((e) => !e.isDir).length);
  assert.equal(counts.totalDirs, tree.filter((e) => e.isDir).length);
  assert.equal(counts.totalBytes, tree.reduce((s, e) => s + e.size, 0));
  assert.equal(counts.excludedFiles, excludedFiles);
  assert.deepEqual(counts.stats.map((s) => s.files), files);
  assert.deepEqual(counts.stats.map((s) => s.bytes), bytes);
  assert.ok(excludedFiles > 0 && excludedFiles < counts.totalFiles, 'the rules exclude some but not all files');
});

test('a cancelled walk stops with a cancelled error', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'ss-filter-walk-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await writeTree(root, randomTree(rngFrom(7), 300));
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(countFilterMatches(root, [], { signal: controller.signal }), (e: Error & { code?: string }) => e.code === 'cancelled');
});

test('a missing source is reported clearly', async () => {
  await assert.rejects(countFilterMatches('/nonexistent/shadow-slots-source', []), /cannot be read/);
});
