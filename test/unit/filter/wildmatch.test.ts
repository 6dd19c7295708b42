import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wildmatch } from '../../../src/core/filter/wildmatch';

// Cases in the style of rsync's wildtest.txt: [expected, pattern, text].
const CASES: Array<[boolean, string, string]> = [
  [true, 'foo', 'foo'], [false, 'foo', 'bar'], [true, '', ''], [true, '???', 'abc'], [true, '*', 'foo'],
  [true, 'f*', 'foo'], [false, '*f', 'foo'], [true, '*foo*', 'foo'], [true, '*ob*a*r*', 'foobar'],
  [false, '*', 'a/b'], [true, '**', 'a/b'], [true, 'a/**', 'a/b/c'], [false, 'a/*', 'a/b/c'], [false, 'a?b', 'a/b'],
  [false, 'a/**/b', 'a/b'], [true, 'a/**/b', 'a/x/b'], [true, 'a/**/b', 'a/x/y/b'],
  [true, '[a-c]x', 'bx'], [false, '[a-c]x', 'dx'], [true, '[!a-c]x', 'dx'], [true, '[^a-c]x', 'dx'], [false, '[!a-c]x', 'ax'],
  [true, '[]]', ']'], [true, '[!]]', 'a'], [false, '[!]]', ']'], [true, '[a-]', '-'], [true, '[[:alpha:]]', 'q'],
  [false, '[[:digit:]]', 'q'], [true, '[[:digit:][:upper:]]', 'Q'], [true, '[[:xdigit:]]', 'F'], [true, '[[:space:]]', ' '],
  [true, '\\*', '*'], [false, '\\*', 'x'], [true, '\\[x]', '[x]'], [true, '[\\]]', ']'], [false, '[/]', '/'],
  [false, '[!x]', '/'], [true, '*.log', '.log'], [true, '.*', '.git'],
  // Bytes, not characters: "é" is two bytes in UTF-8.
  [false, '?', 'é'], [true, '??', 'é'], [true, 'caf*', 'café'],
  // A malformed character class matches nothing.
  [false, '[[:nope:]]', 'a'], [false, '[abc', 'a'],
];

test('wildmatch agrees with rsync\'s wildmatch on its classic cases', () => {
  for (const [expected, pattern, text] of CASES) {
    assert.equal(wildmatch(pattern, text), expected, `wildmatch(${JSON.stringify(pattern)}, ${JSON.stringify(text)})`);
  }
});
