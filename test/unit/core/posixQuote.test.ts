import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { shCommand, shQuote } from '../../../src/core/posixQuote';
import { HOSTILE_NAMES } from '../../helpers/hostileNames';


const shells = ['/usr/bin/dash', '/bin/sh', '/bin/bash'].filter((s) => existsSync(s));

test('every hostile value round-trips literally through a real dash (and sh, bash): printf %s <quoted>', { skip: shells.includes('/usr/bin/dash') ? false : 'dash is not installed' }, () => {
  for (const shell of shells) {
    for (const name of HOSTILE_NAMES) {
      const out = execFileSync(shell, ['-c', `printf '%s' ${shQuote(name)}`], { encoding: 'utf8' });
      assert.equal(out, name, `${shell}: ${JSON.stringify(name)}`);
    }
  }
});

test('a quoted argv reaches the program as the same words: no splitting, globbing or expansion', { skip: existsSync('/usr/bin/dash') ? false : 'dash is not installed' }, () => {
  const script = `${shCommand(['printf', '%s\\0', ...HOSTILE_NAMES])}`;
  const out = execFileSync('/usr/bin/dash', ['-c', script], { encoding: 'utf8', cwd: '/' });
  assert.deepEqual(out.split('\0').slice(0, -1), HOSTILE_NAMES);
});

test('a quoted value inside a script fed to dash on stdin (as the SSH session does) stays literal', { skip: existsSync('/usr/bin/dash') ? false : 'dash is not installed' }, () => {
  const script = HOSTILE_NAMES.map((n) => `(\nprintf '%s\\0' ${shQuote(n)}\n) </dev/null`).join('\n') + '\n';
  const out = execFileSync('/usr/bin/dash', [], { input: script, encoding: 'utf8' });
  assert.deepEqual(out.split('\0').slice(0, -1), HOSTILE_NAMES);
});

test('shQuote: the form of the quoting, and NUL refused', () => {
  assert.equal(shQuote('a b'), "'a b'");
  assert.equal(shQuote("it's"), "'it'\\''s'");
  assert.equal(shQuote(''), "''");
  assert.throws(() => shQuote('a\0b'), /NUL/);
  assert.throws(() => shCommand([]), /empty/);
});
