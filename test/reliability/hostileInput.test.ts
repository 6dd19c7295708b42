// Hostile input: invalid profiles and arguments each get a clear error, exit 2 (bad input) or
// exit 1 (an environment problem such as an unplugged drive), and write nothing — the whole work
// folder (sources, rings, profile files, the working directory) is fingerprinted byte for byte,
// with mtimes and modes, before and after. Names full of shell and script metacharacters are
// backed up and restored literally, and nothing they spell is ever executed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorEvent, explain, runCli, type CliResult } from './lib/cli';
import { measured, repoRoot } from './lib/figures';
import { listRing, ringProblems } from './lib/ring';
import { slotId, workDir } from './lib/setup';
import { describeTree, diffTrees, fingerprint } from './lib/tree';
import { startEngine } from './lib/engine';
import { ResponseError } from 'vscode-jsonrpc/node';
import { BackupRequest, ValidateProfileRequest } from '../../src/rpc/protocol';


interface Case {
  name: string;
  args: string[];
  /** 2: bad input; 1: an environment problem (preflight), which is not the user's typing. */
  exit?: 1 | 2;
  /** The message must point at the offending value. */
  mentions: RegExp;
  /** Profile file content for this case (written before the fingerprint). */
  profile?: unknown;
}

test('at least 30 invalid profiles and arguments: clear error, exit 2, nothing written', { timeout: 180_000 }, async (t) => {
  await measured('5a-hostile-inputs', async (rows) => {
    const work = await workDir(t, 'hostile');
    const source = join(work, 'source');
    const ring = join(work, 'ring');
    const empty = join(work, 'empty-target');
    const cwd = join(work, 'cwd');
    const home = join(work, 'home');
    const out = join(work, 'schedule-out');
    for (const d of [join(source, 'sub'), ring, empty, cwd, home]) await mkdir(d, { recursive: true });
    await writeFile(join(source, 'a.txt'), 'a');
    await writeFile(join(source, 'sub', 'b.txt'), 'b');
    await symlink(join(source, 'sub'), join(work, 'link-into-source'));
    const first = await runCli(['backup', '--source', source, '--target', ring, '--snapshot', 'none', '--json']);
    assert.equal(first.code, 0, explain(first));

    const P = (n: number) => join(work, `profile-${n}.json`);
    let profiles = 0;
    const withProfile = (name: string, profile: unknown, mentions: RegExp, exit: 1 | 2 = 2): Case => {
      const file = P(++profiles);
      return { name, args: ['backup', '--profile', file, '--json'], profile: { file, profile }, mentions, exit };
    };
    const base = { source, target: ring, snapshot: 'none' };
    const B = (...extra: string[]) => ['backup', '--source', source, '--target', ring, '--snapshot', 'none', '--json', ...extra];
    const missingDrive = `/nonexistent-drive-${process.pid}/backups`;
    const cases: Case[] = [
      { name: 'no arguments at all', args: ['backup', '--json'], mentions: /source folder is missing/ },
      withProfile('relative source in a profile', { ...base, source: 'source' }, /"source" is not absolute/),
      withProfile('relative target in a profile', { ...base, target: './ring' }, /"\.\/ring" is not absolute/),
      withProfile('".." escape in the source', { ...base, source: `${work}/cwd/../source` }, /contains "\.\."/),
      withProfile('".." escape in the target', { ...base, target: `${ring}/../../etc` }, /contains "\.\."/),
      { name: 'target is the source', args: ['backup', '--source', source, '--target', source, '--json'], mentions: /is the source itself/ },
      { name: 'source inside the target', args: ['backup', '--source', join(ring, '0'), '--target', ring, '--json'], mentions: /inside the target/ },
      { name: 'target inside the source through a symlink', args: ['backup', '--source', source, '--target', join(work, 'link-into-source'), '--snapshot', 'none', '--json'], mentions: /resolves to a folder inside the source/ },
      { name: 'target on a drive that does not exist', args: ['backup', '--source', source, '--target', missingDrive, '--json'], mentions: /does not exist/, exit: 1 },
      { name: 'slots 0', args: B('--slots', '0'), mentions: /slot count "0"/ },
      { name: 'slots -1', args: B('--slots=-1'), mentions: /slot count "-1"/ },
      { name: 'slots 10^9', args: B('--slots', '1000000000'), mentions: /slot count "1000000000"/ },
      { name: 'slots NaN', args: B('--slots', 'NaN'), mentions: /slot count "NaN"/ },
      { name: 'slots 1.5', args: B('--slots', '1.5'), mentions: /slot count "1.5"/ },
      { name: 'slots 0x10', args: B('--slots', '0x10'), mentions: /slot count "0x10"/ },
      { name: 'slots 1001', args: B('--slots', '1001'), mentions: /slot count "1001"/ },
      withProfile('slots 1e9 as a JSON number', { ...base, slots: 1e9 }, /slot count 1000000000/),
      withProfile('slots true', { ...base, slots: true }, /slot count true/),
      { name: 'unknown snapshot method', args: ['backup', '--source', source, '--target', ring, '--snapshot', 'zfs;rm -rf /', '--json'], mentions: /snapshot method "zfs;rm -rf \/"/ },
      { name: 'empty exclude', args: B('--exclude', ''), mentions: /exclude #1 is empty/ },
      { name: 'blank exclude', args: B('--exclude', '   '), mentions: /exclude #1 is empty/ },
      { name: 'exclude with an unclosed [', args: B('--exclude', 'build[abc'), mentions: /"build\[abc" has a "\[" without/ },
      { name: 'exclude of everything', args: B('--exclude', '*'), mentions: /would exclude the whole source/ },
      { name: 'exclude that is a filter rule', args: B('--exclude', '+ keep'), mentions: /filter-rule prefix/ },
      { name: 'exclude with a line break', args: B('--exclude', 'a\n- /'), mentions: /line break/ },
      { name: 'exclude with a trailing space', args: B('--exclude', 'node_modules/ '), mentions: /leading or trailing spaces/ },
      withProfile('excludes not a list', { ...base, excludes: '*.tmp' }, /Excludes must be a list/),
      withProfile('profile name with a path', { ...base, name: '../../etc/cron.d/x' }, /profile name/),
      withProfile('rsync --inplace (would rewrite shared inodes)', { ...base, rsyncArgs: ['--inplace'] }, /--inplace/),
      withProfile('rsync --remove-source-files', { ...base, rsyncArgs: ['--remove-source-files'] }, /would delete your source/),
      withProfile('rsync -e remote shell', { ...base, rsyncArgs: ['--rsh=sh -c "touch PWNED"'] }, /remote shells/),
      withProfile('rsync combined -vn dry run', { ...base, rsyncArgs: ['-vn'] }, /dry run/),
      withProfile('rsync argument that is not an option', { ...base, rsyncArgs: ['/etc'] }, /not an option/),
      withProfile('unknown profile field', { ...base, sorce: '/x' }, /unknown field "sorce"/),
      withProfile('profile is a list', [base], /must contain a JSON object/),
      withProfile('profile source is a number', { ...base, source: 42 }, /must be a path/),
      { name: 'profile file that is not JSON', args: ['backup', '--profile', join(work, 'not-json.txt'), '--json'], mentions: /not valid JSON/ },
      { name: 'profile file that does not exist', args: ['backup', '--profile', join(work, 'nope.json'), '--json'], mentions: /cannot be read/ },
      { name: 'source path with a line break', args: ['backup', '--source', `${source}\nrm -rf /`, '--target', ring, '--json'], mentions: /line break/ },
      { name: 'source path ending in a space', args: ['backup', '--source', `${source} `, '--target', ring, '--json'], mentions: /spaces/ },
      { name: 'unknown option', args: ['backup', '--frobnicate', '--json'], mentions: /frobnicate/ },
      { name: 'stray positional argument', args: ['backup', 'now', '--json'], mentions: /now/ },
      { name: 'unknown command', args: ['backpu'], mentions: /Unknown command "backpu"/ },
      { name: 'restore slot -1', args: ['restore', '--target', ring, '--slot', '-1', '--path', 'a.txt', '--to', empty], mentions: /slot/ },
      { name: 'restore slot abc', args: ['restore', '--target', ring, '--slot', 'abc', '--path', 'a.txt', '--to', empty], mentions: /"abc"/ },
      { name: 'restore path with ..', args: ['restore', '--target', ring, '--slot', '0', '--path', '../../etc/passwd', '--to', empty], mentions: /contains "\.\."/ },
      { name: 'restore absolute path', args: ['restore', '--target', ring, '--slot', '0', '--path', '/etc/passwd', '--to', empty], mentions: /must be relative/ },
      { name: 'restore to a folder that does not exist', args: ['restore', '--target', ring, '--slot', '0', '--path', 'a.txt', '--to', join(work, 'nowhere')], mentions: /does not exist/ },
      { name: 'verify slot NaN', args: ['verify', '--target', ring, '--slot', 'NaN'], mentions: /"NaN"/ },
      { name: 'list without a target', args: ['list'], mentions: /--target is required/ },
      { name: 'schedule at 25:61', args: ['schedule', 'create', '--source', source, '--target', ring, '--when', 'daily', '--at', '25:61', '--platform', 'cron', '--dry-run', '--out', out], mentions: /hour 25/ },
      { name: 'schedule at 23:60', args: ['schedule', 'create', '--source', source, '--target', ring, '--when', 'daily', '--at', '23:60', '--platform', 'cron', '--dry-run', '--out', out], mentions: /minute 60/ },
      { name: 'schedule at 7pm', args: ['schedule', 'create', '--source', source, '--target', ring, '--when', 'daily', '--at', '7pm', '--platform', 'cron', '--dry-run', '--out', out], mentions: /"7pm" is not a 24-hour time/ },
      { name: 'schedule on an unknown day', args: ['schedule', 'create', '--source', source, '--target', ring, '--when', 'mon,funday', '--at', '23:30', '--platform', 'cron', '--dry-run', '--out', out], mentions: /funday/ },
      { name: 'schedule with relative target', args: ['schedule', 'create', '--source', source, '--target', 'ring', '--when', 'daily', '--at', '23:30', '--platform', 'cron', '--dry-run', '--out', out], mentions: /not absolute/ },
    ];
    for (const c of cases) {
      const p = c.profile as { file: string; profile: unknown } | undefined;
      if (p) await writeFile(p.file, JSON.stringify(p.profile));
    }
    await writeFile(join(work, 'not-json.txt'), '{ "source": ');
    // Other suites may edit this user's crontab at the same time: only our paths must never appear in it.
    const crontab = () => { try { return execFileSync('crontab', ['-l'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }); } catch { return ''; } };
    const tmpBefore = new Set(readdirSync(tmpdir()).filter((n) => n.includes('PWNED')));

    const bad: string[] = [];
    // Two at a time (the machine has two cores); a write is then blamed on both cases of the pair.
    for (let i = 0; i < cases.length; i += 2) {
      const pair = cases.slice(i, i + 2);
      const before = await fingerprint(work);
      const results = await Promise.all(pair.map((c) => runCli(c.args, { cwd, env: { HOME: home, XDG_CONFIG_HOME: join(home, '.config') } })));
      const changed = diffTrees(before, await fingerprint(work));
      for (const [j, c] of pair.entries()) {
        const r: CliResult = results[j]!;
        const text = `${errorEvent(r)?.['message'] ?? ''} ${errorEvent(r)?.['hint'] ?? ''} ${r.stderr}`;
        const want = c.exit ?? 2;
        if (r.code !== want) bad.push(`${c.name}: exit ${r.code}, want ${want}: ${text.slice(0, 200)}`);
        if (!c.mentions.test(text)) bad.push(`${c.name}: message does not say ${c.mentions}: ${text.slice(0, 300)}`);
        if (text.trim().length < 20) bad.push(`${c.name}: no clear message`);
        if (changed.length > 0) bad.push(`${c.name} (or ${pair.map((x) => x.name).join(' / ')}): wrote to disk: ${changed.join('; ')}`);
      }
    }
    if (existsSync(missingDrive)) bad.push('the missing drive path was created');
    if (existsSync(out)) bad.push('schedule dry-run output was written for an invalid schedule');
    if (crontab().includes(work)) bad.push('a schedule for an invalid input reached the crontab');
    const pwned = readdirSync(tmpdir()).filter((n) => n.includes('PWNED') && !tmpBefore.has(n));
    if (pwned.length > 0 || existsSync(join(cwd, 'PWNED')) || existsSync(join(repoRoot, 'PWNED'))) bad.push(`something was executed: ${pwned.join(', ')}`);
    const exit2 = cases.filter((c) => (c.exit ?? 2) === 2).length;
    const wrong = new Set(bad.map((b) => b.split(':')[0]));
    rows.push(['Hostile inputs', `${cases.length} invalid profiles/arguments (${exit2} bad input → exit 2; ${cases.length - exit2} missing drive → exit 1, code preflight): ${cases.length - wrong.size} with the right exit code, a message naming the value, and not one byte written (${bad.filter((b) => b.includes('wrote')).length} wrote)`]);
    assert.deepEqual(bad, []);
    assert.ok(cases.length >= 30);
  });
});

const HOSTILE_NAMES = [
  '$(touch PWNED-1)', '`touch PWNED-2`', ';touch PWNED-3;', 'a && touch PWNED-4', 'x | touch PWNED-5', '-rf', '--delete', '--rsh=touch PWNED-6',
  '*', '?', '[ab]', '{a,b}', 'line\nbreak', "it's", 'say "hi"', '%PATH%', '^caret^', 'back\\slash', 'ünïcødé 🎉', ' leading', 'trailing ',
  '$HOME', '~', '#hash', '!bang', '>redirect', '<in', '&amp;', "'; touch PWNED-7; '", '${IFS}touch${IFS}PWNED-8',
];

test('names with shell and script metacharacters are backed up, excluded and restored literally; nothing is executed', { timeout: 60_000 }, async (t) => {
  await measured('5b-hostile-names', async (rows) => {
    const work = await workDir(t, 'meta');
    const cwd = join(work, 'cwd');
    await mkdir(cwd);
    const source = join(work, 'src $(touch PWNED-src) ; & | \'q\' "dq" `touch PWNED-bt` %PATH% ^ ünï');
    const target = join(work, 'tgt $(touch PWNED-tgt) && touch PWNED-t2 \'; "');
    await mkdir(join(source, '$(touch PWNED-dir)'), { recursive: true });
    await mkdir(target);
    for (const [i, name] of HOSTILE_NAMES.entries()) await writeFile(join(source, name), `content ${i} of ${name}`);
    await writeFile(join(source, '$(touch PWNED-dir)', '`inner`'), 'inner');
    await writeFile(join(source, '$(touch PWNED-excl)'), 'must be excluded');
    await writeFile(join(source, 'drop.skip'), 'must be excluded');
    await writeFile(join(source, 'keep-[1].txt'), 'kept');
    const r = await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--json',
      '--exclude', '$(touch PWNED-excl)', '--exclude', '*.skip', '--exclude', '`touch PWNED-excl2`'], { cwd });
    assert.equal(r.code, 0, explain(r));
    const expected = await describeTree(source);
    expected.delete('$(touch PWNED-excl)');
    expected.delete('drop.skip');
    const id = slotId(r);
    assert.deepEqual(await ringProblems(target, await listRing(target), new Map([[id, expected]]), [id]), [], 'the slot holds every hostile name literally, minus the literal excludes');

    const to = join(work, 'restore $(touch PWNED-to)');
    await mkdir(to);
    for (const name of ['$(touch PWNED-1)', ';touch PWNED-3;', 'line\nbreak', '--rsh=touch PWNED-6']) {
      // `--path=NAME`: a value starting with "-" must be attached (node's parseArgs refuses it as a separate word).
      const rr = await runCli(['restore', '--target', target, '--slot', '0', `--path=${name}`, '--to', to, '--json'], { cwd });
      assert.equal(rr.code, 0, `restore ${JSON.stringify(name)}: ${explain(rr)}`);
      assert.equal(await readFile(join(to, name), 'utf8'), `content ${HOSTILE_NAMES.indexOf(name)} of ${name}`);
    }
    const findPwned = (dir: string): string[] => {
      const out: string[] = [];
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (/^PWNED/.test(e.name)) out.push(join(dir, e.name));
        if (e.isDirectory() && !e.isSymbolicLink()) out.push(...findPwned(join(dir, e.name)));
      }
      return out;
    };
    const pwned = [...findPwned(work), ...readdirSync(tmpdir()).filter((n) => n.startsWith('PWNED')), ...readdirSync(repoRoot).filter((n) => n.startsWith('PWNED'))];
    assert.deepEqual(pwned, [], 'no metacharacter was interpreted');
    rows.push(['Hostile names', `${HOSTILE_NAMES.length + 1} names with $() \` ; & | * ? [ ] newline quotes % ^ Unicode in source, target and 3 excludes: backed up and restored literally, excludes matched literally, 0 commands executed`]);
  });
});

// Regression: found by this suite, fixed in de490ad. The CLI passed --source/--target to
// path.resolve(), which turns '' into the working directory, so `backup --source ''` backed up
// whatever folder the shell was in and `--target ''` wrote a ring into it.
test('regression: an empty --source or --target is refused, not taken as the working directory', { timeout: 60_000 }, async (t) => {
  await measured('5c-empty-args', async (rows) => {
  const work = await workDir(t, 'emptyarg');
  const source = join(work, 'source');
  const ring = join(work, 'ring');
  const cwd = join(work, 'cwd');
  for (const d of [source, ring, cwd]) await mkdir(d);
  await writeFile(join(source, 'a.txt'), 'a');
  await writeFile(join(cwd, 'not-for-backup.txt'), 'the shell happened to be here');
  const first = await runCli(['backup', '--source', source, '--target', ring, '--snapshot', 'none', '--json']);
  assert.equal(first.code, 0, explain(first));
  const outcomes: string[] = [];
  const problems: string[] = [];
  for (const [name, args, mentions] of [
    ['empty --source', ['backup', '--source', '', '--target', ring, '--snapshot', 'none', '--json'], /source folder is missing/],
    ['empty --target', ['backup', '--source', source, '--target', '', '--snapshot', 'none', '--json'], /target folder is missing/],
  ] as Array<[string, string[], RegExp]>) {
    const before = await fingerprint(work);
    const r = await runCli(args, { cwd });
    const changed = diffTrees(before, await fingerprint(work));
    outcomes.push(`${name}: exit ${r.code}${changed.length > 0 ? `, wrote ${changed.length} entries` : ''}`);
    if (r.code !== 2) problems.push(`${name}: exit ${r.code}`);
    if (!mentions.test(String(errorEvent(r)?.['message'] ?? ''))) problems.push(`${name}: message ${JSON.stringify(errorEvent(r)?.['message'] ?? null)}`);
    if (changed.length > 0) problems.push(`${name}: wrote ${changed.slice(0, 3).join('; ')}`);
  }
  rows.push(['Empty --source / --target', problems.length === 0 ? 'refused, exit 2, nothing written' : `BUG: ${outcomes.join('; ')} (path.resolve('') is the working directory)`]);
  assert.deepEqual(problems, []);
  });
});

test('the extension\'s path: the engine process refuses invalid profiles from settings with invalid-input and writes nothing', { timeout: 60_000 }, async (t) => {
  await measured('5d-engine-hostile', async (rows) => {
    const work = await workDir(t, 'enginehostile');
    const source = join(work, 'source');
    const ring = join(work, 'ring');
    await mkdir(source);
    await mkdir(ring);
    await writeFile(join(source, 'a.txt'), 'a');
    const engine = startEngine(t);
    await engine.connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
    const base = { source, target: ring, snapshot: 'none' };
    const profiles: Array<[string, Record<string, unknown>]> = [
      ['empty target (setting not configured)', { ...base, target: '' }],
      ['relative target', { ...base, target: 'backups' }],
      ['slots NaN', { ...base, slots: 'NaN' }],
      ['slots 0', { ...base, slots: 0 }],
      ['slots 10^9', { ...base, slots: 1e9 }],
      ['empty exclude', { ...base, excludes: [''] }],
      ['exclude everything', { ...base, excludes: ['**'] }],
      ['exclude with a line break', { ...base, excludes: ['a\n- /'] }],
      ['unknown snapshot method', { ...base, snapshot: 'zfs' }],
      ['rsync --inplace', { ...base, rsyncArgs: ['--inplace'] }],
      ['target is the source', { ...base, target: source }],
    ];
    const bad: string[] = [];
    for (const [name, profile] of profiles) {
      const before = await fingerprint(work);
      for (const type of [ValidateProfileRequest.type, BackupRequest.type] as const) {
        const error = await (engine.connection.sendRequest(type as typeof BackupRequest.type, { profile }) as Promise<unknown>).then(() => null, (e: unknown) => e);
        const data = (error as ResponseError<{ code: string }> | null)?.data;
        if (!(error instanceof ResponseError) || data?.code !== 'invalid-input' || (error.message ?? '').length < 15) {
          bad.push(`${name} (${type.method}): ${error instanceof Error ? `${data?.code} ${error.message}` : 'accepted'}`);
        }
      }
      const changed = diffTrees(before, await fingerprint(work));
      if (changed.length > 0) bad.push(`${name}: wrote ${changed.slice(0, 3).join('; ')}`);
    }
    rows.push(['Hostile profiles through the engine process', `${profiles.length} invalid profiles × (validate, backup): ${profiles.length - new Set(bad.map((b) => b.split(' (')[0])).size} refused with code invalid-input and nothing written`]);
    assert.deepEqual(bad, []);
  });
});
