import { test } from 'node:test';
import assert from 'node:assert/strict';
import { perDirEntries } from '../../../src/core/filter/dirMerge';
import { includeOf, entryMatches, MatchPath, type DirMerge, type RuleEntry } from '../../../src/core/filter/match';

const DM: DirMerge = { name: '.rules', template: {}, noInherit: false };
const root = Buffer.from('home/me/src');

function decide(list: RuleEntry[], rel: string, isDir = false): string {
  const p = new MatchPath(rel, isDir, root);
  const hit = list.find((e) => entryMatches(e, p));
  return hit === undefined ? 'none' : includeOf(hit, p) ? `+${hit.rule.line}` : `-${hit.rule.line}`;
}

test('a leading slash in a per-folder file anchors at that folder', () => {
  const { list } = perDirEntries('- /a.txt\n', '/home/me/src/sub/.rules', '/home/me/src/sub', DM, []);
  assert.equal(decide(list, 'sub/a.txt'), '-0');
  assert.equal(decide(list, 'a.txt'), 'none');
  assert.equal(decide(list, 'sub/deeper/a.txt'), 'none');
});

test('a folder\'s own rules come before the inherited ones; n and ! drop the inherited ones', () => {
  const parent = perDirEntries('- *.log\n', '/home/me/src/.rules', '/home/me/src', DM, []).list;
  const child = perDirEntries('+ keep.log\n', '/home/me/src/sub/.rules', '/home/me/src/sub', DM, parent).list;
  assert.equal(decide(child, 'sub/keep.log'), '+0');
  assert.equal(decide(child, 'sub/other.log'), '-0');
  assert.equal(decide(perDirEntries('+ keep.log\n', 'f', '/home/me/src/sub', { ...DM, noInherit: true }, parent).list, 'sub/other.log'), 'none');
  assert.equal(decide(perDirEntries('!\n+ keep.log\n', 'f', '/home/me/src/sub', DM, parent).list, 'sub/other.log'), 'none');
  assert.equal(perDirEntries(undefined, 'f', '/home/me/src/sub', DM, parent).list.length, 1, 'a folder without a file inherits');
});

test('bare-pattern files and syntax errors', () => {
  const bare = perDirEntries('*.o\n', 'f', '/home/me/src', { ...DM, template: { noPrefixes: true, include: true } }, []);
  assert.equal(decide(bare.list, 'x.o'), '+0');
  assert.match(perDirEntries('-oops\n', 'f', '/home/me/src', DM, []).errors[0]!.message, /invalid modifier/);
});
