// Finding 4 of issue 12: the helper's command line for rsync must mean the same argv to Cygwin's
// parser (cwRsync, Cygwin rsync) and to MSVCRT's (MSYS2), for every value that can reach it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinRsyncArgs, joinWindowsArgs, quoteRsyncArg, rsyncArgProblem } from '../../../src/core/windows/cmdline';
import { helperRsyncArgv } from '../../../src/core/windows/helperProfile';
import { parseCygwinNoglob, parseMsvcrt } from './cmdlineParsers';
import { HOSTILE_NAMES } from './hostile';
import { HOSTILE_WINDOWS_NAMES, planFor } from './planFixtures';

const INJECTION = 'Q" --log-file=/cygdrive/c/ProgramData/x.log --exclude="Z';

test('the simulators themselves: documented cases of each parser', () => {
  assert.deepEqual(parseMsvcrt('"a b" c\\d "e\\"f" "g\\\\" h""i "j""k"'), ['a b', 'c\\d', 'e"f', 'g\\', 'hi', 'j"k']);
  assert.deepEqual(parseCygwinNoglob('"a b" c\\d h""i'), ['a b', 'c\\d', 'hi']);
  assert.deepEqual(parseCygwinNoglob('"e\\"f"'), ['e\\f']);
  assert.deepEqual(parseCygwinNoglob('"g\\\\"'), ['g\\\\']);
  assert.deepEqual(parseCygwinNoglob('@list "@quoted"'), ['@file:list', '@quoted']);
});

test('the old quoting lets an exclude add an elevated --log-file under Cygwin (the attack), not under MSYS2', () => {
  const line = joinWindowsArgs([`--exclude=${INJECTION}`, '--', '/src/', '/dst/'], true);
  assert.deepEqual(parseMsvcrt(line), [`--exclude=${INJECTION}`, '--', '/src/', '/dst/']);
  const cygwin = parseCygwinNoglob(line);
  assert.ok(cygwin.includes('--log-file=/cygdrive/c/ProgramData/x.log'), cygwin.join(' | '));
});

test('a double quote is refused before it can be quoted at all', () => {
  assert.match(rsyncArgProblem(`--exclude=${INJECTION}`)!, /double quote/);
  assert.match(rsyncArgProblem('--exclude=a\nb')!, /control character/);
  assert.throws(() => quoteRsyncArg('"'), /double quote/);
  assert.throws(() => planFor({ source: 'C:\\src\\p', target: 'D:\\B', excludes: [INJECTION] }), /double quote/);
});

test('every value without a double quote reads back identically under both parsers', () => {
  const values = [...HOSTILE_NAMES, ...HOSTILE_WINDOWS_NAMES].filter((v) => rsyncArgProblem(v) === undefined);
  const extra = ['', 'a\\', 'a\\\\', '\\\\server\\share\\', 'x\\y\\', '--exclude=dir\\', '@file', ' lead', 'trail ', '--exclude=*.tmp', 'a b\\\\\\'];
  for (const value of [...values, ...extra]) {
    const quoted = quoteRsyncArg(value);
    assert.deepEqual(parseMsvcrt(quoted), [value], `MSVCRT ${JSON.stringify(value)} → ${quoted}`);
    assert.deepEqual(parseCygwinNoglob(quoted), [value], `Cygwin ${JSON.stringify(value)} → ${quoted}`);
  }
  // All of them on one line, as the helper passes them.
  const all = [...values, ...extra];
  assert.deepEqual(parseMsvcrt(joinRsyncArgs(all)), all);
  assert.deepEqual(parseCygwinNoglob(joinRsyncArgs(all)), all);
});

test('the helper\'s whole rsync command line, for hostile profiles, splits the same under both parsers', () => {
  for (const name of HOSTILE_WINDOWS_NAMES) {
    const plan = planFor({ source: `C:\\Users\\alice\\${name}`, target: `D:\\Backups\\${name}\\`, excludes: [`${name}/`, `${name}\\`, '*.tmp'] });
    const argv = helperRsyncArgv(plan.storedProfile, '20261126T070000Z-a1b2c3', true);
    const line = joinRsyncArgs(argv);
    assert.deepEqual(parseMsvcrt(line), argv, name);
    assert.deepEqual(parseCygwinNoglob(line), argv, name);
    assert.ok(!parseCygwinNoglob(line).some((a) => a.startsWith('@file:')), 'no response file');
  }
});
