// Preview Backup as a page (src/ui/filters): items grouped by what decides them, counted, each
// group a tree of collapsed folders in natural order; rules with links to their line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTree, naturalCompare, previewModel } from '../../../src/ui/filters/previewModel';
import { previewHtml } from '../../../src/ui/filters/previewHtml';
import type { PreviewItem, PreviewResult } from '../../../src/core/filter/preview';

const item = (action: PreviewItem['action'], path: string, reason?: PreviewItem['reason']): PreviewItem => ({
  action, path, kind: path.endsWith('/') ? 'dir' : 'file', change: action === 'delete' ? 'deleted' : action === 'copy' ? 'created' : 'changed', ...(reason ? { reason } : {}),
} as PreviewItem);

const result: PreviewResult = {
  newestSlot: '/ring/0', copied: 3, changed: 1, deleted: 4, truncated: false, commands: [['rsync', '--dry-run', 'a b']],
  items: [
    item('copy', 'notes/file10.txt'), item('copy', 'notes/file9.txt'), item('copy', 'notes/File2.txt'),
    item('change', 'README.md'),
    item('delete', 'build/', { kind: 'excluded', rule: 1 }), item('delete', 'build/out.o', { kind: 'excluded', rule: 1 }),
    item('delete', 'old.txt', { kind: 'gone' }), item('delete', 'x.log', { kind: 'excluded', rule: 0 }),
  ],
  rules: [
    { origin: 'settings', line: 0, text: '- *.log', include: false, files: 1, dirs: 0, bytes: 10, examples: ['x.log'] },
    { origin: 'filter-file', file: '/w/.shadowslots-filter', line: 2, text: '- /build/', include: false, files: 1, dirs: 1, bytes: 2000, examples: ['build/'] },
    { origin: 'filter-file', file: '/w/.shadowslots-filter', line: 4, text: '- *.nothing', include: false, files: 0, dirs: 0, bytes: 0, examples: [] },
  ],
  included: { files: 3, bytes: 30 }, excluded: { files: 2, bytes: 2010 },
};

test('natural order: numbers as numbers, case-insensitive, stable', () => {
  assert.deepEqual(['file10', 'file9', 'File2', 'file1'].sort(naturalCompare), ['file1', 'File2', 'file9', 'file10']);
  const t = buildTree(['b/z.txt', 'a/', 'b/c/d.txt', 'x10', 'x9']);
  assert.deepEqual([t.folders.map((f) => f.name), t.files, t.count], [['a', 'b'], ['x9', 'x10'], 4]);
  assert.deepEqual([t.folders[1]!.folders[0]!.name, t.folders[1]!.count, t.folders[0]!.count], ['c', 2, 0]);
});

test('items are grouped by what decides them: new, changed, excluded by a named rule, deleted from the folder', () => {
  const m = previewModel(result, 'proj');
  assert.deepEqual(m.groups.map((g) => [g.id, g.title, g.count]), [
    ['copy', 'New in the next slot', 3],
    ['change', 'Changed since the newest slot', 1],
    ['excluded-0', 'No longer backed up: excluded by the settings\' exclude "*.log"', 1],
    ['excluded-1', 'No longer backed up: excluded by line 3: - /build/', 1],
    ['gone', 'Deleted from the folder since the newest slot', 1],
  ]);
  assert.deepEqual(m.groups[0]!.tree.folders[0]!.files, ['File2.txt', 'file9.txt', 'file10.txt']);
  assert.deepEqual(m.totals, { copied: 3, changed: 1, deleted: 3 }, 'counted as the groups count: a folder whose files are listed is not counted again');
  assert.deepEqual([m.rules.length, m.idleRules.map((r) => r.text)], [2, ['- *.nothing']]);
});

test('the page: counts, rule links to their line, folders collapsed, everything escaped, a CSP with a nonce', () => {
  const hostile: PreviewResult = { ...result, items: [...result.items, item('copy', '<img src=x onerror=alert(1)>.txt')] };
  const html = previewHtml(previewModel(hostile, 'proj & <co>'), 'NONCE', 'vscode-resource:');
  assert.match(html, /Preview of the next backup of proj &amp; &lt;co&gt;/);
  assert.match(html, /<b>4<\/b> new &middot; <b>1<\/b> changed &middot; <b>3<\/b> no longer backed up/);
  assert.match(html, /<a href="#" class="rule" data-file="\/w\/\.shadowslots-filter" data-line="2">line 3: - \/build\/<\/a><\/td><td>excludes 1 file \(2\.0 kB\) and 1 folder/);
  assert.match(html, /Deciding nothing now: <a [^>]*data-line="4">line 5: - \*\.nothing<\/a>/);
  assert.match(html, /<details><summary class="folder">notes\/ <span class="count">3 files<\/span><\/summary>/);
  assert.doesNotMatch(html, /<details open/);
  assert.doesNotMatch(html, /<img/);
  assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;\.txt/);
  assert.match(html, /script-src 'nonce-NONCE'/);
  assert.equal((html.match(/<script /g) ?? []).length, 1);
  assert.match(html, /<script nonce="NONCE">/);
});

test('nothing to do says so; a truncated list says the totals are complete', () => {
  const empty = previewModel({ ...result, items: [], copied: 0, changed: 0, deleted: 0 }, 'p');
  assert.match(previewHtml(empty, 'n', 'c'), /Nothing would change/);
  const cut = previewModel({ ...result, truncated: true, copied: 12_345 }, 'p');
  assert.equal(cut.totals.copied, 12_345);
  assert.match(previewHtml(cut, 'n', 'c'), /cut short; the totals above are complete/);
});
