import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilterText } from '../../../src/core/filter/parse';
import { buildRuleList } from '../../../src/core/filter/ruleList';
import { isIncluded, MatchPath } from '../../../src/core/filter/match';

function copies(rules: string, paths: Array<[string, boolean]>): string[] {
  const list = buildRuleList(parseFilterText(rules), { readMerge: (name) => (name === 'more' ? { text: '- *.bak\n', file: 'more' } : undefined) });
  const out: string[] = [];
  const included = new Map<string, boolean>();
  for (const [rel, isDir] of paths) {
    const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    const inc = (parent === '' || included.get(parent) === true) && isIncluded(list.entries, new MatchPath(rel, isDir, Buffer.from('home/me/src')));
    included.set(rel, inc);
    if (inc) out.push(isDir ? `${rel}/` : rel);
  }
  return out;
}

const TREE: Array<[string, boolean]> = [
  ['build', true], ['build/out.o', false], ['src', true], ['src/build', false], ['src/deep', true], ['src/deep/build', true],
  ['src/deep/build/x', false], ['notes.log', false], ['src/a.log', false], ['keep', true], ['keep/a.log', false], ['x.bak', false],
];

test('a leading slash anchors the pattern at the top of the source', () => {
  assert.deepEqual(copies('- /build', TREE).filter((p) => p.includes('build')), ['src/build', 'src/deep/build/', 'src/deep/build/x']);
});

test('a trailing slash matches folders only', () => {
  assert.deepEqual(copies('- build/', TREE).filter((p) => p.includes('build')), ['src/build']);
});

test('a pattern without a slash matches the last name at any depth; with a slash, the trailing elements', () => {
  assert.deepEqual(copies('- build', TREE).filter((p) => p.includes('build')), []);
  assert.deepEqual(copies('- deep/build', TREE).filter((p) => p.includes('build')), ['build/', 'build/out.o', 'src/build']);
  assert.deepEqual(copies('- src/build', TREE).filter((p) => p.includes('build')), ['build/', 'build/out.o', 'src/deep/build/', 'src/deep/build/x']);
});

test('* stays within a name, ** crosses folders, dir/*** is the folder and everything in it', () => {
  assert.deepEqual(copies('- /src/*', TREE).filter((p) => p.startsWith('src')), ['src/']);
  assert.deepEqual(copies('+ /keep/***\n- *.log', TREE).filter((p) => p.endsWith('.log')), ['keep/a.log']);
  assert.deepEqual(copies('- src/**/x', TREE).filter((p) => p.endsWith('/x')), []);
  assert.deepEqual(copies('- /**.log', TREE).filter((p) => p.endsWith('.log')), []);
});

test('first match wins, and an excluded folder hides everything below it from later includes', () => {
  assert.ok(copies('+ notes.log\n- *.log', TREE).includes('notes.log'));
  assert.ok(!copies('- *.log\n+ notes.log', TREE).includes('notes.log'));
  assert.deepEqual(copies('- /src/\n+ /src/a.log', TREE).filter((p) => p.startsWith('src')), []);
  assert.deepEqual(copies('+ */\n+ *.log\n- *', TREE), ['build/', 'src/', 'src/deep/', 'src/deep/build/', 'notes.log', 'src/a.log', 'keep/', 'keep/a.log']);
});

test('negation, clear, merge files, receiver-only and xattr rules', () => {
  assert.deepEqual(copies('-! */', TREE), ['build/', 'src/', 'src/deep/', 'src/deep/build/', 'keep/']);
  assert.equal(copies('- *\n!', TREE).length, TREE.length, '"!" drops the rules before it');
  assert.ok(!copies('. more', TREE).includes('x.bak'));
  assert.equal(copies('P *\nR *\n-r *\n-x *', TREE).length, TREE.length, 'they do not change what is copied');
  assert.ok(!copies('-C', TREE).includes('x.bak'), 'the CVS list excludes *.bak');
});

test('the / modifier matches the absolute path of the item', () => {
  assert.ok(!copies('-/ /home/me/src/notes.log', TREE).includes('notes.log'));
  assert.ok(copies('-/ /notes.log', TREE).includes('notes.log'));
});
