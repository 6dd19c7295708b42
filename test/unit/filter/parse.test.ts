import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilterText, type FilterRule } from '../../../src/core/filter/parse';

function one(line: string): FilterRule {
  const r = parseFilterText(line);
  assert.deepEqual(r.errors, [], `${JSON.stringify(line)} should be valid`);
  assert.equal(r.rules.length, 1);
  return r.rules[0]!;
}

function error(line: string): string {
  const r = parseFilterText(line);
  assert.equal(r.rules.length, 0, `${JSON.stringify(line)} should be invalid`);
  assert.equal(r.errors.length, 1);
  return r.errors[0]!.message;
}

test('every short and long rule name maps to its kind', () => {
  const pairs: Array<[string, string, FilterRule['kind']]> = [
    ['-', 'exclude', 'exclude'], ['+', 'include', 'include'], ['H', 'hide', 'hide'], ['S', 'show', 'show'],
    ['P', 'protect', 'protect'], ['R', 'risk', 'risk'], ['.', 'merge', 'merge'], [':', 'dir-merge', 'dir-merge'],
  ];
  for (const [short, long, kind] of pairs) {
    const a = one(`${short} foo`);
    const b = one(`${long} foo`);
    assert.equal(a.kind, kind); assert.equal(b.kind, kind);
    assert.equal(a.pattern, 'foo'); assert.equal(b.pattern, 'foo');
    assert.equal(a.prefix, short); assert.equal(b.prefix, long);
    assert.equal(one(`${long}_foo`).pattern, 'foo', 'an underscore also separates the rule from its pattern');
  }
  assert.equal(one('!').kind, 'clear');
  assert.equal(one('clear').kind, 'clear');
});

test('sides and include flags follow the rule type', () => {
  assert.deepEqual([one('H x').flags.senderSide, one('H x').flags.include], [true, false]);
  assert.deepEqual([one('S x').flags.senderSide, one('S x').flags.include], [true, true]);
  assert.deepEqual([one('P x').flags.receiverSide, one('P x').flags.include], [true, false]);
  assert.deepEqual([one('R x').flags.receiverSide, one('R x').flags.include], [true, true]);
});

test('each modifier sets its flag, with or without a comma', () => {
  assert.equal(one('-/ /abs').flags.absPath, true);
  assert.equal(one('-! */').flags.negate, true);
  assert.equal(one('-s x').flags.senderSide, true);
  assert.equal(one('-r x').flags.receiverSide, true);
  assert.equal(one('-p x').flags.perishable, true);
  assert.equal(one('-x user.*').flags.xattr, true);
  assert.equal(one('-,s x').flags.senderSide, true);
  assert.equal(one('exclude,sp x').flags.perishable, true);
  const c = one('-C');
  assert.deepEqual([c.flags.cvsIgnore, c.pattern], [true, '']);
  const m = one('.-+ x'.replace('+', ''));
  assert.equal(m.flags.noPrefixes, true);
  assert.equal(one('.+ list').flags.include, true);
  assert.equal(one('.e list').flags.excludeSelf, true);
  assert.equal(one(':n .rules').flags.noInherit, true);
  assert.equal(one('.w words').flags.wordSplit, true);
});

test('invalid rules are rejected with rsync\'s reason and a hint', () => {
  assert.match(error('-foo'), /^invalid modifier 'f' at position 1/);
  assert.match(error('- '), /^unexpected end of filter rule/);
  assert.match(error('-'), /^unexpected end of filter rule/);
  assert.match(error('! '), /^'!' rule has trailing characters/);
  assert.match(error('clear x'), /^'!' rule has trailing characters/);
  assert.match(error('excludefoo'), /^Unknown filter rule/);
  assert.match(error('x foo'), /^Unknown filter rule/);
  assert.match(error(' - foo'), /^Unknown filter rule/);
  assert.match(error('exclude\tfoo'), /^invalid modifier '\t'/);
  assert.match(error('H,s foo'), /^invalid modifier 's'/, 'H already names the side');
  assert.match(error('-e foo'), /^invalid modifier 'e'/, 'e is for merge rules');
  assert.match(error('.! foo'), /^invalid modifier '!'/, 'negation is not a merge default');
  assert.match(error('.-+ foo'), /^invalid modifier '\+'/, 'only one of - and +');
  assert.match(error('PC foo'), /^invalid modifier 'C'/);
  const hinted = parseFilterText(' - foo').errors[0]!;
  assert.match(hinted.hint!, /white space before the rule/);
});

test('comments, blank lines, CRLF and trailing spaces are read as rsync reads them', () => {
  const r = parseFilterText('# c\n; c\n\n- a \r\n+ b\r- c');
  assert.deepEqual(r.rules.map((x) => [x.line, x.pattern]), [[3, 'a '], [4, 'b'], [5, 'c']]);
  assert.equal(parseFilterText(' # not a comment').errors.length, 1);
});

test('columns point at the prefix and the pattern', () => {
  const r = one('exclude,s  two spaces');
  assert.deepEqual([r.start, r.patternStart, r.end, r.pattern], [0, 10, 21, ' two spaces']);
});

test('word-split and no-prefix templates read merged files like rsync', () => {
  const r = parseFilterText('a b\n  c', { wordSplit: true, noPrefixes: true });
  assert.deepEqual(r.rules.map((x) => [x.kind, x.pattern]), [['exclude', 'a'], ['exclude', 'b'], ['exclude', 'c']]);
  const inc = parseFilterText('x', { noPrefixes: true, include: true });
  assert.equal(inc.rules[0]!.kind, 'include');
  const sided = parseFilterText('-s x', { senderSide: true });
  assert.match(sided.errors[0]!.message, /specified-side merge file contains specified-side filter/);
});
