// Concurrency: two backups of one ring at once (the second is refused and told who holds the
// lock), simultaneous starts, stale locks left by killed runs, and the extension's engine process
// (dist/engine.js over JSON-RPC, exactly as the extension starts it) against the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ResponseError } from 'vscode-jsonrpc/node';
import { descendants, errorEvent, explain, resultEvent, runCli, startCli } from './lib/cli';
import { measured } from './lib/figures';
import { completeIds, listRing } from './lib/ring';
import { slotId, workDir, writeProfile } from './lib/setup';
import { BackupRequest } from '../../src/rpc/protocol';
import { startEngine } from './lib/engine';


async function ring(t: Parameters<typeof workDir>[0], label: string, bigBytes = 4 * 1024 * 1024) {
  const work = await workDir(t, label);
  const source = join(work, 'source');
  const target = join(work, 'target');
  await mkdir(join(source, 'd'), { recursive: true });
  await mkdir(target);
  for (let i = 0; i < 50; i++) await writeFile(join(source, 'd', `f${i}.txt`), randomBytes(400));
  await writeFile(join(source, 'big.bin'), randomBytes(bigBytes));
  // --bwlimit keeps the first backup running for about two seconds: long enough to collide with.
  const profile = await writeProfile(join(work, 'profile.json'), { source, target, rsyncArgs: ['--bwlimit=2000'] });
  return { work, source, target, profile, lockFile: join(target, '.shadow-slots', 'lock') };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

test('two backups of the same ring at once: the second is refused (exit 1) and names the holder', async (t) => {
  await measured('4a-two-at-once', async (rows) => {
    const { target, profile } = await ring(t, 'two');
    const a = startCli(['backup', '--profile', profile, '--json']);
    assert.ok(await a.waitForPhase('copy'), 'first backup is copying');
    // Held still (a stopped process is a live lock holder) while the second one runs: on a loaded
    // machine the first copy could otherwise end before the second process reaches the lock.
    process.kill(a.pid, 'SIGSTOP');
    let b;
    try {
      b = await runCli(['backup', '--profile', profile, '--json']);
    } finally {
      process.kill(a.pid, 'SIGCONT');
    }
    assert.equal(b.code, 1, explain(b));
    const e = errorEvent(b)!;
    assert.equal(e['code'], 'locked');
    assert.match(String(e['message']), new RegExp(`process ${a.pid} on ${escape(hostname())}`), `names the holder: ${String(e['message'])}`);
    const ra = await a.done;
    assert.equal(ra.code, 0, explain(ra));
    assert.deepEqual(completeIds(await listRing(target)), [slotId(ra)], 'only the first backup made a slot');
    rows.push(['Two backups at once (CLI + CLI)', `second refused, exit 1, code locked: "${String(e['message'])}"; first completed`]);
  });
});

test('simultaneous starts: exactly one wins each time, the others are refused', async (t) => {
  await measured('4b-simultaneous', async (rows) => {
    const { target, profile } = await ring(t, 'race', 2 * 1024 * 1024);
    let winners = 0;
    let refused = 0;
    const rounds = 3;
    for (let round = 0; round < rounds; round++) {
      await writeFile(join(target, '..', 'source', 'big.bin'), randomBytes(2 * 1024 * 1024));
      const runs = await Promise.all([0, 1, 2].map(() => runCli(['backup', '--profile', profile, '--json'])));
      for (const r of runs) {
        if (r.code === 0) winners++;
        else if (r.code === 1 && errorEvent(r)?.['code'] === 'locked') refused++;
        else assert.fail(`unexpected outcome: ${explain(r)}`);
      }
      assert.equal(runs.filter((r) => r.code === 0).length >= 1, true, 'at least one run backs up');
    }
    const listing = await listRing(target);
    assert.equal(completeIds(listing).length, Math.min(3, winners));
    // A run may start after the winner finished and legitimately win too; never two at the same time.
    assert.ok(refused >= rounds, `${refused} refusals in ${rounds} rounds of three`);
    rows.push(['Simultaneous starts (3 at once, 3 rounds)', `${winners} backups ran, ${refused} refused with "locked", ring consistent afterwards`]);
  });
});

test('a stale lock from a killed run is recovered, and the user is told', async (t) => {
  await measured('4c-stale-lock', async (rows) => {
    const { profile, lockFile } = await ring(t, 'stale');
    const a = startCli(['backup', '--profile', profile, '--json']);
    assert.ok(await a.waitForPhase('copy'));
    a.kill(true);
    await a.done;
    assert.ok(existsSync(lockFile), 'the killed run left its lock');
    const left = JSON.parse(readFileSync(lockFile, 'utf8')) as { pid: number };
    assert.equal(left.pid, a.pid);
    const b = await runCli(['backup', '--profile', profile, '--json']);
    assert.equal(b.code, 0, explain(b));
    const notes = (resultEvent(b)!.result as { notes: string[] }).notes;
    assert.ok(notes.some((n) => n.includes(`Recovered a stale lock left by process ${a.pid}`)), notes.join(' | '));
    assert.equal(existsSync(lockFile), false, 'lock released after the run');
    rows.push(['Stale lock from a kill -9', `recovered; note: "${notes.find((n) => n.includes('stale lock'))}"`]);
  });
});

test('lock files of every kind: torn, recycled pid, other host, live holder', async (t) => {
  await measured('4d-lock-kinds', async (rows) => {
    const { profile, lockFile } = await ring(t, 'lockkinds', 64 * 1024);
    const ok = await runCli(['backup', '--profile', profile, '--json']);
    assert.equal(ok.code, 0, explain(ok));
    const myStart = readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
    const cases: Array<{ name: string; content: string; expect: 'recovered' | 'refused'; message?: RegExp; ageSeconds?: number }> = [
      // Locks appear atomically (written aside, then linked), so an unreadable one is damage; it is
      // still given 30 s in case another tool writes it non-atomically, then taken as stale.
      { name: 'torn (empty, left by a crash a minute ago)', content: '', expect: 'recovered', ageSeconds: 60 },
      { name: 'garbage (a minute old)', content: '{not json', expect: 'recovered', ageSeconds: 60 },
      { name: 'unreadable and brand new (someone may be writing it)', content: '', expect: 'refused', message: /a lock being written/ },
      { name: 'pid reused by another process', content: JSON.stringify({ pid: process.pid, host: hostname(), pidStart: '1', command: 'backup old', startedAt: '2020-01-01T00:00:00Z' }), expect: 'recovered' },
      { name: 'dead pid', content: JSON.stringify({ pid: 2 ** 22 - 3, host: hostname(), pidStart: null, command: 'backup old', startedAt: '2020-01-01T00:00:00Z' }), expect: 'recovered' },
      { name: 'another computer', content: JSON.stringify({ pid: 4242, host: 'other-host.example', pidStart: null, command: 'backup nightly', startedAt: '2026-01-01T00:00:00Z' }), expect: 'refused', message: /process 4242 on other-host\.example/ },
      { name: 'live holder (this test process)', content: JSON.stringify({ pid: process.pid, host: hostname(), pidStart: myStart, command: 'backup held', startedAt: '2026-01-01T00:00:00Z' }), expect: 'refused', message: new RegExp(`process ${process.pid}`) },
    ];
    const outcomes: string[] = [];
    for (const c of cases) {
      await writeFile(lockFile, c.content);
      if (c.ageSeconds) { const then = new Date(Date.now() - c.ageSeconds * 1000); await utimes(lockFile, then, then); }
      const r = await runCli(['backup', '--profile', profile, '--json']);
      if (c.expect === 'recovered') {
        assert.equal(r.code, 0, `${c.name}: ${explain(r)}`);
        assert.equal(existsSync(lockFile), false, `${c.name}: lock released`);
      } else {
        assert.equal(r.code, 1, `${c.name}: ${explain(r)}`);
        const e = errorEvent(r)!;
        assert.equal(e['code'], 'locked');
        assert.match(String(e['message']), c.message!);
        if (c.name.startsWith('another')) assert.match(String(e['hint']), /another computer.*delete/i);
        assert.equal(readFileSync(lockFile, 'utf8'), c.content, `${c.name}: a held lock is left alone`);
      }
      outcomes.push(`${c.name}: ${c.expect}`);
    }
    rows.push(['Lock files of every kind', outcomes.join('; ')]);
  });
});

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

test('the extension\'s engine and the CLI at once: whichever starts second is refused', async (t) => {
  await measured('4e-engine-and-cli', async (rows) => {
    const { source, target, profile } = await ring(t, 'engine');
    const engine = startEngine(t);
    await engine.connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
    await engine.connection.sendNotification('initialized', {});
    const profileInput = { source, target, slots: 3, snapshot: 'none', rsyncArgs: ['--bwlimit=2000'] };

    // Engine first, CLI second.
    const backup = engine.connection.sendRequest(BackupRequest.type, { profile: profileInput });
    assert.ok(await until(() => engine.phases.includes('copy'), 20000), `engine reached copy: ${engine.phases.join(',')}`);
    const cli = await runCli(['backup', '--profile', profile, '--json']);
    assert.equal(cli.code, 1, explain(cli));
    assert.equal(errorEvent(cli)!['code'], 'locked');
    assert.match(String(errorEvent(cli)!['message']), new RegExp(`process ${engine.pid} `), 'names the engine process');
    const result = await backup;
    assert.equal(result.outcome, 'complete');

    // CLI first, engine second.
    await writeFile(join(source, 'big.bin'), randomBytes(4 * 1024 * 1024));
    const running = startCli(['backup', '--profile', profile, '--json']);
    assert.ok(await running.waitForPhase('copy'));
    const refused = await engine.connection.sendRequest(BackupRequest.type, { profile: profileInput }).then(
      () => null,
      (error: unknown) => error,
    );
    assert.ok(refused instanceof ResponseError, 'the engine refuses');
    const data = (refused as ResponseError<{ code: string }>).data;
    assert.equal(data?.code, 'locked');
    assert.match((refused as Error).message, new RegExp(`process ${running.pid} `));
    const r = await running.done;
    assert.equal(r.code, 0, explain(r));
    assert.equal(completeIds(await listRing(target)).length, 2);
    rows.push(['Extension engine + CLI at once', 'engine first → CLI refused (names the engine pid); CLI first → engine request rejected with code locked']);
  });
});

test('the extension\'s engine process killed mid-backup (window closed, crash): the CLI recovers the ring', async (t) => {
  await measured('4f-engine-killed', async (rows) => {
    const { target, profile, lockFile } = await ring(t, 'enginekill');
    const first = await runCli(['backup', '--profile', profile, '--json']);
    assert.equal(first.code, 0, explain(first));
    const firstId = slotId(first);
    const engine = startEngine(t);
    await engine.connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
    const profileInput = JSON.parse(readFileSync(profile, 'utf8')) as Record<string, unknown>;
    await writeFile(join(target, '..', 'source', 'big.bin'), randomBytes(4 * 1024 * 1024));
    void engine.connection.sendRequest(BackupRequest.type, { profile: profileInput }).catch(() => undefined);
    assert.ok(await until(() => engine.phases.includes('copy'), 20000), `engine reached copy: ${engine.phases.join(',')}`);
    await new Promise((r) => setTimeout(r, 300));
    // Power-cut style: the engine and its rsync die in the same instant.
    for (const pid of [engine.pid, ...descendants(engine.pid)]) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    assert.ok(await until(() => { try { process.kill(engine.pid, 0); return false; } catch { return true; } }, 5000), 'engine gone');
    assert.ok(existsSync(lockFile), 'the killed engine left its lock');
    const listing = await listRing(target);
    assert.deepEqual(completeIds(listing), [firstId], 'the ring is unchanged');
    assert.ok(listing.slots.some((s) => s.number === null && s.state === 'interrupted'), 'the copy is listed as interrupted');
    const r = await runCli(['backup', '--profile', profile, '--json']);
    assert.equal(r.code, 0, explain(r));
    const notes = (resultEvent(r)!.result as { notes: string[] }).notes;
    assert.ok(notes.some((n) => n.includes(`stale lock left by process ${engine.pid}`)), notes.join(' | '));
    assert.ok(notes.some((n) => /Resuming/.test(n)), `resumed the engine's copy: ${notes.join(' | ')}`);
    assert.deepEqual(completeIds(await listRing(target)), [slotId(r), firstId]);
    rows.push(['Extension engine killed mid-copy', 'ring unchanged, copy listed as interrupted; the next CLI run recovered the engine\'s stale lock and resumed its copy']);
  });
});
