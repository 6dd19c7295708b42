// Finding 4 of issue 12: the helper's command line for rsync must mean the same argv to Cygwin's
// parser (cwRsync, Cygwin rsync) and to MSVCRT's (MSYS2), for every value that can reach it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinRsyncArgs, joinWindowsArgs, quoteRsyncArg, rsyncArgProblem } from '../../../src/core/windows/cmdline';
import { helperRsyncArgv } from '../../../src/core/windows/helperProfile';
import { parseCygwinNoglob, parseMsvcrt, parseMsys2NextArg, parseMsys2OldNoglob } from './cmdlineParsers';

/** Every parser a Windows rsync may use (review L8: both MSYS2 variants treat ' as a quote too). */
const PARSERS = { MSVCRT: parseMsvcrt, 'Cygwin noglob': parseCygwinNoglob, 'msys2 next_arg': parseMsys2NextArg, 'old msys2 noglob': parseMsys2OldNoglob } as const;
import { HOSTILE_NAMES } from './hostile';
import { HOSTILE_WINDOWS_NAMES, planFor } from './planFixtures';

const INJECTION = 'Q" --log-file=/cygdrive/c/ProgramData/x.log --exclude="Z';

test('the simulators themselves: documented cases of each parser', () => {
  assert.deepEqual(parseMsvcrt('"a b" c\\d "e\\"f" "g\\\\" h""i "j""k"'), ['a b', 'c\\d', 'e"f', 'g\\', 'hi', 'j"k']);
  assert.deepEqual(parseCygwinNoglob('"a b" c\\d h""i'), ['a b', 'c\\d', 'hi']);
  assert.deepEqual(parseCygwinNoglob('"e\\"f"'), ['e\\f']);
  assert.deepEqual(parseCygwinNoglob('"g\\\\"'), ['g\\\\']);
  assert.deepEqual(parseCygwinNoglob('@list "@quoted"'), ['@file:list', '@quoted']);
  // msys2-runtime's next_arg: MSVCRT plus single quotes (from its source; cases worked by hand).
  assert.deepEqual(parseMsys2NextArg(`"a b" 'c d' a\\'b x\\\\'y z'`), ['a b', 'c d', "a'b", 'x\\y z']);
  assert.deepEqual(parseMsys2NextArg(`"x'y" 'p"q' 'r''s' e\\"f @list "@q"`), ["x'y", 'p"q', "r's", 'e"f', '@file:list', '@q']);
  assert.deepEqual(parseMsys2NextArg(`it's fine'`), ["its fine"]);
  // old msys2-runtime, MSYS=noglob: Cygwin's strip rules, ' included.
  assert.deepEqual(parseMsys2OldNoglob(`"a b" 'c d' "x'y" 'p"q' "e\\"f"`), ['a b', 'c d', "x'y", 'p"q', 'e\\f']);
  assert.deepEqual(parseMsys2OldNoglob(`it's fine'`), ['its fine']);
  assert.deepEqual(parseMsys2OldNoglob(`@list "@q"`), ['@file:list', '@q']);
});

test('the simulators see the regression review L8 names: a bare single quote splits or merges arguments under both MSYS2 variants', () => {
  const bare = ["it's", 'one', "last'"].join(' ');
  assert.deepEqual(parseMsvcrt(bare), ["it's", 'one', "last'"]);
  assert.notDeepEqual(parseMsys2NextArg(bare), ["it's", 'one', "last'"]);
  assert.notDeepEqual(parseMsys2OldNoglob(bare), ["it's", 'one', "last'"]);
  // The helper's quoting keeps every ' inside double quotes, where all four read it literally.
  for (const [name, parse] of Object.entries(PARSERS)) assert.deepEqual(parse(joinRsyncArgs(["it's", 'one', "last'"])), ["it's", 'one', "last'"], name);
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
    for (const [name, parse] of Object.entries(PARSERS)) assert.deepEqual(parse(quoted), [value], `${name} ${JSON.stringify(value)} → ${quoted}`);
  }
  // All of them on one line, as the helper passes them.
  const all = [...values, ...extra, "'", "a'", "'b'", "''", "x''y", "q'\\"];
  for (const [name, parse] of Object.entries(PARSERS)) assert.deepEqual(parse(joinRsyncArgs(all)), all, name);
});

test('the helper\'s whole rsync command line, for hostile profiles, splits the same under both parsers', () => {
  for (const name of HOSTILE_WINDOWS_NAMES) {
    const plan = planFor({ source: `C:\\Users\\alice\\${name}`, target: `D:\\Backups\\${name}\\`, excludes: [`${name}/`, `${name}\\`, '*.tmp'] });
    const argv = helperRsyncArgv(plan.storedProfile, '20261126T070000Z-a1b2c3', true);
    const line = joinRsyncArgs(argv);
    for (const [parser, parse] of Object.entries(PARSERS)) {
      assert.deepEqual(parse(line), argv, `${parser}: ${name}`);
      assert.ok(!parse(line).some((a) => a.startsWith('@file:')), 'no response file');
    }
  }
});
