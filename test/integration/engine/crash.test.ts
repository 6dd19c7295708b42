import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp';
import { runCli } from '../../helpers/cli';
import { run } from '../../../src/platform/runner';
import { COPY_MARKER_VARIABLE, newCopyMarker, processesCarryingMarker, stopOrphanCopy } from '../../../src/platform/orphans';

interface Listing { slots: Array<{ number: number | null; id: string; state: string }>; busy: boolean }

async function setup(t: import('node:test').TestContext, files = 20) {
  const dir = await tempDir(t);
  const source = join(dir, 'source');
  const target = join(dir, 'ring');
  await mkdir(join(source, 'd'), { recursive: true });
  await mkdir(target);
  for (let i = 0; i < files; i++) await writeFile(join(source, 'd', `f${i}`), `file ${i} `.repeat(50));
  return { dir, source, target };
}

const backup = (source: string, target: string, env: Record<string, string> = {}, slots = '3') =>
  runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--slots', slots, '--json'], env);

async function listing(target: string): Promise<Listing> {
  const r = await runCli(['list', '--target', target, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Listing;
}

function complete(l: Listing) {
  return l.slots.filter((s) => s.state === 'complete');
}

/** The invariants of the ring contract after any crash and after the recovery run. */
async function assertRingHealthy(target: string, mustContain: string[], { afterCrash = false } = {}) {
  const l = await listing(target);
  const numbers = complete(l).map((s) => s.number);
  assert.deepEqual(numbers, numbers.map((_, i) => i), 'no gap in slot numbering');
  const folders = (await readdir(target)).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  assert.deepEqual(folders, numbers, 'every listed slot is a folder and every folder is listed');
  for (const id of mustContain) assert.ok(complete(l).some((s) => s.id === id), `complete slot ${id} survived`);
  for (const s of l.slots) if (s.number === null) assert.notEqual(s.state, 'complete', 'unfinished folders are never complete');
  for (const s of complete(l)) {
    const v = await runCli(['verify', '--target', target, '--slot', String(s.number), '--json']);
    const result = JSON.parse(v.stdout) as { ok: boolean; verified: boolean; note: string | null; checked: number };
    // Right after a crash between rotation and finalize a slot may lack checksums (verify says so
    // and exits 1); the next run records them. Content that differs is never acceptable.
    if (afterCrash && !result.verified) continue;
    assert.equal(v.code, 0, `slot ${s.number} verifies: ${v.stdout}`);
  }
  return l;
}

async function orphanRsyncs(target: string): Promise<string[]> {
  const ps = await run('ps', ['-eo', 'pid=,args='], {});
  return ps.stdout.split('\n').filter((line) => line.includes('rsync') && line.includes(target));
}

test('kill -9 at every instant of a rotation: the next start finishes it, no complete slot is lost', async (t) => {
  const points = ['phase:rotate', 'rotate:journaled', 'rotate:step-0', 'rotate:step-1', 'rotate:step-2', 'rotate:step-3', 'rotate:state-written', 'phase:release', 'phase:finalize'];
  for (const point of points) {
    const { source, target } = await setup(t);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      await writeFile(join(source, 'n.txt'), `run ${i}`);
      const r = await backup(source, target);
      assert.equal(r.code, 0, r.stderr);
      ids.push(r.events.find((e) => e['type'] === 'complete')!['id'] as string);
    }
    await writeFile(join(source, 'n.txt'), 'crashing run');
    const crashed = await backup(source, target, { SHADOW_SLOTS_FAULT: point });
    assert.equal(crashed.code, 137, `${point}: the engine was killed (${crashed.stderr})`);
    // Full ring of 3: the crashing run drops the oldest (ids[0]) if the rotation was journaled.
    const afterCrash = await assertRingHealthy(target, [ids[1]!, ids[2]!], { afterCrash: true });
    assert.ok(afterCrash.slots.length >= 3, `${point}: listing after the crash`);
    const recovered = await backup(source, target);
    assert.equal(recovered.code, 0, `${point}: ${recovered.stderr}`);
    const final = await assertRingHealthy(target, [ids[2]!]);
    assert.equal(complete(final).length, 3);
    assert.equal(await readFile(join(target, '0', 'n.txt'), 'utf8'), 'crashing run');
    assert.deepEqual(await readdir(join(target, '.shadow-slots', 'incoming')), []);
    await assert.rejects(readFile(join(target, '.shadow-slots', 'lock')), 'no lock left');
    await assert.rejects(readFile(join(target, '.shadow-slots', 'journal.json')), 'no journal left');
  }
});

for (const point of ['copy:spawned', 'copy:unrecorded']) {
  const when = point === 'copy:spawned' ? 'with its pid journaled' : 'before its pid was journaled';
  test(`kill -9 while rsync copies (${when}): the orphaned rsync is stopped, the copy resumes, nothing partial is listed`, async (t) => {
    const { source, target } = await setup(t, 2000);
    const first = await backup(source, target);
    assert.equal(first.code, 0, first.stderr);
    const firstId = first.events.find((e) => e['type'] === 'complete')!['id'] as string;
    for (let i = 0; i < 2000; i += 3) await writeFile(join(source, 'd', `f${i}`), `changed ${i} `.repeat(5000));
    // About 33 MB at 20 MB/s: the orphaned rsync may still be copying when the next run starts.
    const profile = join(source, '..', 'slow.json');
    await writeFile(profile, JSON.stringify({ name: 'crash', source, target, slots: 3, snapshot: 'none', rsyncArgs: ['--bwlimit=20000'] }));
    const crashed = await runCli(['backup', '--profile', profile, '--json'], { SHADOW_SLOTS_FAULT: point });
    assert.equal(crashed.code, 137);
    // The copy is journaled before rsync exists: even a kill before its pid was written leaves the
    // marker every process of that rsync carries in its environment.
    const copy = (JSON.parse(await readFile(join(target, '.shadow-slots', 'journal.json'), 'utf8')) as { copy: { pid: number | null; marker: string } }).copy;
    t.after(async () => { for (const pid of await processesCarryingMarker(copy.marker)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } } });
    assert.match(copy.marker, /^[0-9a-f]{32}$/);
    assert.equal(copy.pid === null, point === 'copy:unrecorded');
    t.diagnostic(`processes of the killed run's copy still running before the next run: ${(await processesCarryingMarker(copy.marker)).length}`);
    // Changed again after the crash: the slot must hold this, not what the orphan was copying.
    await writeFile(join(source, 'd', 'f1998'), 'after the crash\n');
    const mid = await listing(target);
    assert.deepEqual(complete(mid).map((s) => s.id), [firstId], 'only the old slot is complete');
    assert.ok(mid.slots.some((s) => s.number === null && s.state !== 'complete'), 'the unfinished copy is listed as unfinished');
    const recovered = await backup(source, target);
    assert.equal(recovered.code, 0, recovered.stderr);
    assert.deepEqual(await orphanRsyncs(target), [], 'no rsync left running against the ring');
    assert.deepEqual(await processesCarryingMarker(copy.marker), [], 'no process of the killed run\'s copy is left');
    const l = await assertRingHealthy(target, [firstId]);
    assert.equal(complete(l).length, 2);
    assert.equal(await readFile(join(target, '0', 'd', 'f3'), 'utf8'), 'changed 3 '.repeat(5000));
    assert.equal(await readFile(join(target, '0', 'd', 'f1998'), 'utf8'), 'after the crash\n');
  });
}

test('an orphaned copy is stopped by its marker, whole (a forked child too), only when it names a destination of the ring; a journal someone edited stops nothing else', async (t) => {
  const destination = join(await tempDir(t), 'ring', '.shadow-slots', 'incoming', 'x');
  const marker = newCopyMarker();
  const other = newCopyMarker();
  const stop = new AbortController();
  t.after(() => stop.abort());
  // A stand-in copy: a shell naming the destination (as rsync's receiver does), and a child of it
  // that names nothing and carries only the marker (as rsync's forked generator does).
  const started = (m: string) => run('sh', ['-c', 'sleep 60; :', 'sh', destination], { env: { [COPY_MARKER_VARIABLE]: m }, signal: stop.signal, okExitCodes: [0, 137, 143] }).catch(() => undefined);
  const orphan = started(marker);
  const bystander = started(other);
  const both = async () => (await processesCarryingMarker(marker)).length === 2 && (await processesCarryingMarker(other)).length === 2;
  for (let i = 0; i < 250 && !(await both()); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(await both(), 'the stand-in copies run (a shell and its sleep each)');
  const bystanderPids = await processesCarryingMarker(other);

  // Edited journals: a destination the ring would not write, a marker copied from another ring's
  // journal next to this ring's destination, a pid (an older version's record) whose command line
  // does not name the destination, the engine itself.
  assert.equal(await stopOrphanCopy({ pid: null, destination: '/elsewhere', marker }, [destination]), false);
  assert.equal(await stopOrphanCopy({ pid: null, destination: '/other-ring/incoming/y', marker }, ['/other-ring/incoming/y']), false);
  assert.equal(await stopOrphanCopy({ pid: bystanderPids[1]!, destination: '', marker: 'x' }, ['']), false);
  assert.equal(await stopOrphanCopy({ pid: process.pid, destination, marker: 'x' }, [destination]), false);
  assert.equal((await processesCarryingMarker(marker)).length, 2, 'nothing was stopped by them');

  assert.equal(await stopOrphanCopy({ pid: null, destination, marker }, [destination]), true);
  assert.deepEqual(await processesCarryingMarker(marker), [], 'the shell and its child are gone');
  assert.deepEqual((await processesCarryingMarker(other)).sort(), bystanderPids.sort(), 'the copy with another marker runs on');
  stop.abort();
  await Promise.all([orphan, bystander]);
});

test('a stale lock left by a killed run is recovered; a live one refuses the second run and names its holder', async (t) => {
  const { source, target } = await setup(t);
  assert.equal((await backup(source, target)).code, 0);
  const lockFile = join(target, '.shadow-slots', 'lock');
  // A pid that cannot be alive (beyond pid_max on Linux).
  await writeFile(lockFile, JSON.stringify({ pid: 4194305, host: hostname(), pidStart: null, command: 'backup crashed', startedAt: '2026-01-01T00:00:00Z' }));
  const recovered = await backup(source, target);
  assert.equal(recovered.code, 0, recovered.stderr);
  const notes = (recovered.events.find((e) => e['type'] === 'result')!['result'] as { notes: string[] }).notes;
  assert.ok(notes.some((n) => /stale lock/.test(n)), notes.join('\n'));

  await writeFile(lockFile, JSON.stringify({ pid: process.pid, host: hostname(), pidStart: null, command: 'backup test-holder', startedAt: new Date().toISOString() }));
  t.after(() => import('node:fs/promises').then((fs) => fs.rm(lockFile, { force: true })));
  const refused = await backup(source, target);
  assert.equal(refused.code, 1);
  const error = refused.events.find((e) => e['type'] === 'error')!;
  assert.equal(error['code'], 'locked');
  assert.match(error['message'] as string, new RegExp(`process ${process.pid} on .*backup test-holder`));
});

test('a torn journal or ring.json is reported, and no slot is touched', async (t) => {
  const { source, target } = await setup(t);
  assert.equal((await backup(source, target)).code, 0);
  await writeFile(join(target, '.shadow-slots', 'journal.json'), '{"format":1,"rot');
  const r = await backup(source, target);
  assert.equal(r.code, 1);
  assert.match(JSON.stringify(r.events), /journal .* cannot be read/);
  assert.deepEqual((await readdir(target)).filter((n) => /^\d+$/.test(n)), ['0']);
});

test('temporary files of atomic writes torn by a crash are removed by the next run', async (t) => {
  const { source, target } = await setup(t);
  assert.equal((await backup(source, target)).code, 0);
  const torn = [join(target, '.shadow-slots', 'journal.json.tmp-4194305-0a1b2c3d'), join(target, '.shadow-slots', 'manifests', 'x.json.tmp-4194305-deadbeef'),
    // A whole checksum list's size: a server ring's list is written there under a temp name.
    join(target, '.shadow-slots', 'sums', 'x.tsv.tmp-4194305-0badf00d')];
  for (const f of torn) await writeFile(f, '{"half');
  const r = await backup(source, target);
  assert.equal(r.code, 0, r.stderr);
  for (const f of torn) await assert.rejects(readFile(f), `${f} removed`);
});

test('a lock draft another run is writing right now survives the lock holder\'s repair; one a crash left behind does not', async (t) => {
  const { source, target } = await setup(t);
  assert.equal((await backup(source, target)).code, 0);
  const meta = join(target, '.shadow-slots');
  // The race CI caught: the winner's repair deleted a loser's draft between its write and its link.
  const live = join(meta, 'lock.new-4194305-0a1b2c');
  const abandoned = join(meta, 'lock.new-4194306-d3e4f5');
  await writeFile(live, '{"pid":4194305}\n');
  await writeFile(abandoned, '{"pid":4194306}\n');
  const twoMinutesAgo = new Date(Date.now() - 120_000);
  await utimes(abandoned, twoMinutesAgo, twoMinutesAgo);
  const r = await backup(source, target);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await readFile(live, 'utf8'), '{"pid":4194305}\n', 'the fresh draft is left to its writer');
  await assert.rejects(readFile(abandoned), 'the abandoned draft is removed');
});

test('a cancel that arrives after the rotation is too late: the new slot is reported complete, not "unchanged"', async (t) => {
  const { source, target } = await setup(t);
  const { runBackup } = await import('../../../src/engine/backup');
  const { validateProfile } = await import('../../../src/core/profile');
  assert.equal((await backup(source, target)).code, 0);
  await writeFile(join(source, 'late.txt'), 'late');
  const controller = new AbortController();
  const result = await runBackup({
    profile: validateProfile({ source, target, snapshot: 'none', slots: 3 }).profile,
    signal: controller.signal,
    onPhase: (phase) => { if (phase === 'release') controller.abort(); },
  });
  assert.equal(result.outcome, 'complete');
  assert.equal(await readFile(join(target, '0', 'late.txt'), 'utf8'), 'late');
  const v = await runCli(['verify', '--target', target, '--slot', '0', '--json']);
  assert.equal(v.code, 0, v.stdout);
});

test('verify and restore after a crash mid-rotation read the slots the journal says, not half-moved folders', async (t) => {
  const { dir, source, target } = await setup(t);
  for (let i = 0; i < 3; i++) {
    await writeFile(join(source, 'n.txt'), `version ${i}`);
    assert.equal((await backup(source, target)).code, 0);
  }
  await writeFile(join(source, 'n.txt'), 'version 3');
  assert.equal((await backup(source, target, { SHADOW_SLOTS_FAULT: 'rotate:step-2' })).code, 137);
  const v = await runCli(['verify', '--target', target, '--slot', '2', '--json']);
  const result = JSON.parse(v.stdout) as { ok: boolean; changed: string[] };
  assert.deepEqual(result.changed, [], 'no false mismatch from a half-moved folder');
  const out = join(dir, 'out');
  await mkdir(out);
  const r = await runCli(['restore', '--target', target, '--slot', '1', '--path', 'n.txt', '--to', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await readFile(join(out, 'n.txt'), 'utf8'), 'version 2', 'slot 1 is the previous backup once the rotation is finished');
});
