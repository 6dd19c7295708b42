// Kill -9 at every phase of a backup, at least 30 times, and check the ring contract after every
// kill and after every recovery run. Kills come from the engine's fault points (exact instants:
// between two renames of a rotation) and from SIGKILLs at seeded random moments inside a phase.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep, setImmediate as yieldLoop } from 'node:timers/promises';
import { explain, processesMentioning, resultEvent, runCli, startCli, type CliProcess } from './lib/cli';
import { recordFigures } from './lib/figures';
import { atCleanup, workDir } from './lib/setup';
import { loopUnavailableReason, makeLoopFs, type LoopFs } from './lib/loop';
import { seededRng } from './lib/prng';
import { completeIds, listRing, ringProblems } from './lib/ring';
import { mutateSource, populateSource } from './lib/sourceTree';
import { describeTree, type TreeModel } from './lib/tree';
import { verifySlot } from '../../src/engine/verify';
import { purgeFinished } from '../helpers/purge';

const CAPACITY = 3;
const SNAPSHOT_DIR = '.shadow-slots-snapshots';
const MIN_KILLS = 30;
const debug = (m: string) => { if (process.env['RELIABILITY_DEBUG']) console.log(`# ${m}`); };

type KillSpec =
  | { kind: 'fault'; point: string }
  | { kind: 'random'; phase: string; maxDelayMs: number; tree: boolean }
  | { kind: 'spawn-window' };

/** Every fault point of the engine, then random kills spread over the phases (copy and finalize weigh most). */
function killPlan(rng: ReturnType<typeof seededRng>): KillSpec[] {
  const faults = ['phase:preflight', 'phase:lock', 'phase:repair', 'phase:snapshot', 'phase:copy', 'copy:spawned', 'phase:rotate',
    'rotate:journaled', 'rotate:step-0', 'rotate:step-1', 'rotate:step-2', 'rotate:step-3', 'rotate:state-written', 'phase:release', 'phase:finalize'];
  const randomPhases: Array<[string, number]> = [['lock', 5], ['repair', 10], ['snapshot', 40], ['copy', 150], ['copy', 400], ['copy', 700], ['copy', 300],
    ['rotate', 10], ['release', 20], ['finalize', 30], ['finalize', 120], ['finalize', 250], ['snapshot', 15], ['rotate', 3],
    ['finalize', 60], ['copy', 500]];
  const plan: KillSpec[] = [
    ...faults.map((point): KillSpec => ({ kind: 'fault', point })),
    ...randomPhases.map(([phase, maxDelayMs]): KillSpec => ({ kind: 'random', phase, maxDelayMs, tree: rng.next() < 0.5 })),
    { kind: 'spawn-window' }, { kind: 'spawn-window' },
  ];
  // Shuffle so that fault points meet rings of every fill level (a full ring has 4 rotation steps).
  for (let i = plan.length - 1; i > 0; i--) { const j = rng.int(0, i); [plan[i], plan[j]] = [plan[j]!, plan[i]!]; }
  return plan;
}

function describeSpec(s: KillSpec): string {
  if (s.kind === 'fault') return `fault ${s.point}`;
  if (s.kind === 'random') return `random in ${s.phase} (0-${s.maxDelayMs}ms, ${s.tree ? 'engine+rsync' : 'engine only'})`;
  return 'between rsync spawn and its journal record';
}

/** Kills the engine the moment its rsync child exists: the copy is not journaled yet, the rsync orphaned. */
async function killAtSpawn(p: CliProcess): Promise<boolean> {
  await p.waitForPhase('snapshot');
  const deadline = Date.now() + 20000;
  while (p.running && Date.now() < deadline) {
    let children: string[] = [];
    try { children = readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean); } catch { return false; }
    for (const c of children) {
      let comm = '';
      try { comm = readFileSync(`/proc/${c}/comm`, 'utf8').trim(); } catch { continue; }
      if (comm === 'rsync') return p.kill(false);
    }
    await yieldLoop();
  }
  return false;
}

test('kill -9 at every phase: no complete slot is ever lost, the next run always recovers', { timeout: 300_000 }, async (t) => {
  const started = Date.now();
  const rng = seededRng();
  console.log(`# kill suite seed ${rng.seed} (rerun with SHADOW_SLOTS_SEED=${rng.seed})`);
  const work = await workDir(t, 'kill');
  let fs: LoopFs | null = null;
  atCleanup(work, () => fs?.cleanup());

  // The source lives on btrfs when this machine can make one, so kills also hit real snapshots.
  const btrfsReason = loopUnavailableReason('btrfs');
  let source: string;
  let snapshot: 'btrfs' | 'none';
  if (btrfsReason === null) {
    fs = makeLoopFs(work, 'btrfs', 256);
    source = fs.mountPoint;
    snapshot = 'btrfs';
  } else {
    source = join(work, 'source');
    snapshot = 'none';
    console.log(`# btrfs not available (${btrfsReason}): live copies, the snapshot phase has nothing to leave behind`);
  }
  const target = join(work, 'target');
  mkdirSync(source, { recursive: true });
  mkdirSync(target);
  populateSource(source, rng, { dirs: 12, filesPerDir: 60, bigFiles: 3, bigBytes: 512 * 1024 });
  const profileFile = join(work, 'profile.json');
  // --bwlimit (KiB/s) stretches the copy of each day's ~3 MiB of new data to about half a second.
  writeFileSync(profileFile, JSON.stringify({ name: 'kill-test', source, target, slots: CAPACITY, snapshot, rsyncArgs: ['--bwlimit=6000'] }));
  const backupArgs = ['backup', '--profile', profileFile, '--json'];
  const stateOf = () => describeTree(source, { skipTopLevel: [SNAPSHOT_DIR] });

  const models = new Map<string, TreeModel>();
  const problems: string[] = [];
  const figures = { kills: 0, recoveries: 0, lost: 0, missed: 0, unjournaledOrphans: 0, byPhase: new Map<string, number>(), verified: 0, unverifiable: 0, tempFiles: [] as string[] };

  // The very first backup killed mid-copy: an empty ring must stay empty, the copy only "interrupted".
  const firstKilled = await runCli(backupArgs, { env: { SHADOW_SLOTS_FAULT: 'copy:spawned' } });
  assert.equal(firstKilled.signal, 'SIGKILL');
  figures.kills++;
  figures.byPhase.set('copy:spawned (first slot)', 1);
  const empty = await listRing(target);
  assert.deepEqual(completeIds(empty), [], 'nothing complete after killing the first backup');
  assert.ok(empty.slots.every((s) => s.number === null && s.state !== 'complete'));
  // Its recovery makes the first complete slot, so that later kills always have history to endanger.
  const first = await runCli(backupArgs);
  assert.equal(first.code, 0, explain(first));
  models.set((resultEvent(first)!.result['slot'] as { id: string }).id, await stateOf());
  assert.deepEqual(await ringProblems(target, await listRing(target), models), []);
  figures.recoveries++;

  const plan = killPlan(rng);
  let attempt = 0;
  while ((attempt < plan.length || figures.kills < MIN_KILLS) && attempt < plan.length + 20) {
    const spec = plan[attempt % plan.length]!;
    attempt++;
    debug(`attempt ${attempt}: ${describeSpec(spec)} at ${Math.round((Date.now() - started) / 1000)}s`);
    const before = completeIds(await listRing(target));
    mutateSource(source, rng, rng.int(2, 4) * 1024 * 1024);
    const killedState = await stateOf();

    const p = startCli(backupArgs, spec.kind === 'fault' ? { env: { SHADOW_SLOTS_FAULT: spec.point } } : {});
    let landed = '?';
    if (spec.kind === 'random') {
      const seen = await p.waitForPhase(spec.phase);
      if (seen) {
        await sleep(rng.int(0, spec.maxDelayMs));
        landed = p.lastPhase() ?? '?';
        p.kill(spec.tree);
      }
    } else if (spec.kind === 'spawn-window') {
      landed = 'copy (spawn)';
      await killAtSpawn(p);
    } else {
      landed = spec.point;
    }
    const killed = await p.done;
    debug(`  killed run ended (${killed.signal ?? killed.code}) at ${Date.now() - started}ms`);
    if (killed.signal !== 'SIGKILL') {
      // The run finished before the kill landed: it must simply have been a good backup.
      figures.missed++;
      assert.equal(killed.code, 0, `unkilled run (${describeSpec(spec)}) failed: ${killed.stderr}`);
      const id = (resultEvent(killed)!.result['slot'] as { id: string }).id;
      models.set(id, killedState);
      const order = [id, ...before].slice(0, CAPACITY);
      problems.push(...(await ringProblems(target, await listRing(target), models, order)).map((m) => `after unkilled run ${attempt}: ${m}`));
      continue;
    }
    figures.kills++;
    figures.byPhase.set(landed, (figures.byPhase.get(landed) ?? 0) + 1);
    if (spec.kind === 'spawn-window') {
      const journal = join(target, '.shadow-slots', 'journal.json');
      const recorded = existsSync(journal) && readFileSync(journal, 'utf8').includes('"copy"');
      if (!recorded) figures.unjournaledOrphans++;
    }

    // Invariants right after the kill, as a user listing the ring would see it.
    const afterKill = await listRing(target);
    const newIds = completeIds(afterKill).filter((id) => !models.has(id));
    if (newIds.length > 1) problems.push(`kill ${figures.kills}: more than one new slot appeared: ${newIds.join(', ')}`);
    if (newIds.length === 1) models.set(newIds[0]!, killedState);
    const expectedAfterKill = newIds.length === 1 ? [newIds[0]!, ...before].slice(0, CAPACITY) : before;
    const killProblems = await ringProblems(target, afterKill, models, expectedAfterKill);
    problems.push(...killProblems.map((m) => `after kill ${figures.kills} (${describeSpec(spec)}): ${m}`));
    const listedAfterKill = new Set(completeIds(afterKill));
    figures.lost += expectedAfterKill.filter((id) => !listedAfterKill.has(id) || killProblems.some((m) => m.includes(id))).length;

    // The next run, after the source changed again, must recover and complete.
    mutateSource(source, rng, 256 * 1024);
    const recoveryState = await stateOf();
    debug(`  checks after kill done at ${Date.now() - started}ms`);
    const recovery = await runCli(backupArgs);
    debug(`  recovery ended at ${Date.now() - started}ms`);
    const result = resultEvent(recovery);
    if (recovery.code !== 0 || !result) {
      problems.push(`recovery after kill ${figures.kills} (${describeSpec(spec)}) failed: exit ${recovery.code} ${recovery.stderr.slice(-400)} ${JSON.stringify(recovery.events.find((e) => e.type === 'error'))}`);
      continue;
    }
    const id = (result.result['slot'] as { id: string }).id;
    models.set(id, recoveryState);
    const expected = [id, ...expectedAfterKill].slice(0, CAPACITY);
    const afterRecovery = await listRing(target);
    const recoveryProblems = await ringProblems(target, afterRecovery, models, expected);
    const meta = join(target, '.shadow-slots');
    if (existsSync(join(meta, 'lock'))) recoveryProblems.push('the lock is still there after the run');
    if (existsSync(join(meta, 'journal.json'))) recoveryProblems.push(`a journal is left: ${readFileSync(join(meta, 'journal.json'), 'utf8')}`);
    const incoming = readdirSync(join(meta, 'incoming'));
    if (incoming.length > 0) recoveryProblems.push(`in-progress folders left: ${incoming.join(', ')}`);
    // The dropped slot is deleted by a detached purge after the run's own process ended.
    if (!(await purgeFinished(target))) recoveryProblems.push('the purge of dropped slots did not finish within 30 s');
    const trash = readdirSync(join(meta, 'trash'));
    if (trash.length > 0) recoveryProblems.push(`dropped slots not deleted: ${trash.join(', ')}`);
    const snapshots = existsSync(join(source, SNAPSHOT_DIR)) ? readdirSync(join(source, SNAPSHOT_DIR)) : [];
    if (snapshots.length > 0) recoveryProblems.push(`snapshots left behind: ${snapshots.join(', ')}`);
    let strays = processesMentioning(target);
    // The purge process exits a moment after it released its lock (purgeFinished above).
    for (let i = 0; i < 100 && strays.length > 0 && strays.every((s) => s.cmdline.includes(' purge --target ')); i++) {
      await sleep(50);
      strays = processesMentioning(target);
    }
    if (strays.length > 0) recoveryProblems.push(`processes still working in the target: ${strays.map((s) => `${s.pid} ${s.cmdline.slice(0, 120)}`).join(' | ')}`);
    // Temp files of atomic writes a kill interrupted: the next run's repair removes them (since 5c5e75b).
    const temps = ['.', 'manifests', 'sums'].flatMap((d) => readdirSync(join(meta, d)).filter((n) => n.includes('.tmp-')).map((n) => join(d, n)));
    figures.tempFiles.push(...temps);
    if (temps.length > 0) recoveryProblems.push(`temp files of interrupted atomic writes left: ${temps.join(', ')}`);
    // The engine's own check of the new slot against the checksums it recorded (in-process: same
    // code as `verify`); every third recovery, as it re-reads the whole slot.
    if (figures.kills % 3 === 0) {
      const v = await verifySlot(target, 0);
      if (!v.ok || v.note) recoveryProblems.push(`verify of the new slot 0: ${JSON.stringify(v).slice(0, 300)}`);
      else figures.verified++;
    }
    problems.push(...recoveryProblems.map((m) => `after recovery ${figures.kills} (${describeSpec(spec)}): ${m}`));
    const listed = new Set(completeIds(afterRecovery));
    figures.lost += expected.filter((id2) => id2 !== id && (!listed.has(id2) || recoveryProblems.some((m) => m.includes(id2)))).length;
    if (recoveryProblems.length === 0) figures.recoveries++;
  }

  // Every slot still in the ring, checked by the engine against its recorded checksums.
  const final = await listRing(target);
  for (const s of final.slots.filter((x) => x.state === 'complete')) {
    const verify = await runCli(['verify', '--target', target, '--slot', String(s.number), '--json']);
    const v = JSON.parse(verify.stdout || '{}') as { ok?: boolean; note?: string | null };
    if (v.note) figures.unverifiable++;
    if (verify.code !== 0 || v.ok !== true) problems.push(`final verify of slot ${s.number}: ${verify.stdout.slice(0, 300)}`);
  }

  const phases = [...figures.byPhase.entries()].sort().map(([k, v]) => `${k} ${v}`).join(', ');
  // The issue's categories: finalize writes the checksums into the manifest, then deletes the dropped slot.
  const category = (phase: string) => /preflight|lock|repair/.test(phase) ? 'lock' : /snapshot|release/.test(phase) ? 'snapshot'
    : /copy/.test(phase) ? 'rsync' : /rotate/.test(phase) ? 'rotation' : /finalize/.test(phase) ? 'manifest + dropping the oldest' : 'other';
  const byCategory = new Map<string, number>();
  for (const [phase, n] of figures.byPhase) byCategory.set(category(phase), (byCategory.get(category(phase)) ?? 0) + n);
  const categories = ['lock', 'snapshot', 'rsync', 'rotation', 'manifest + dropping the oldest', 'other'].filter((c) => byCategory.has(c)).map((c) => `${c} ${byCategory.get(c)}`).join(', ');
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(`# ${figures.kills} kills, ${figures.recoveries} recoveries, ${figures.lost} complete slots lost (must be 0)`);
  console.log(`# ${figures.tempFiles.length} temp files (*.tmp-*) of killed atomic writes left after a recovery: ${figures.tempFiles.join(', ')}`);
  console.log(`# kills by phase: ${phases}; ${figures.missed} planned kills came too late (the run had finished); ${figures.unjournaledOrphans} kills between rsync spawn and its journal record; snapshot method ${snapshot}; ${seconds}s`);
  if (problems.length > 0) console.log(`# problems:\n${problems.map((p) => `#   ${p}`).join('\n')}`);
  await recordFigures({
    area: '1-kill',
    ok: problems.length === 0 && figures.kills >= MIN_KILLS && figures.lost === 0,
    rows: [
      ['Kill -9 at every phase', `${figures.kills} kills, ${figures.recoveries} recoveries, ${figures.lost} complete slots lost (must be 0)`],
      ['Kills per phase of the issue', categories],
      ['Kills by exact point', phases],
      ['Kill suite details', `seed ${rng.seed}; source on ${snapshot === 'btrfs' ? 'btrfs (real snapshots)' : 'ext4 (live copy)'}; ring of ${CAPACITY}; ${figures.verified} recoveries verified by \`verify\`; ${figures.unjournaledOrphans} kills landed between rsync spawn and its journal record; ${figures.tempFiles.length} temp files of interrupted atomic writes left after a recovery${figures.tempFiles.length > 0 ? ` (${figures.tempFiles.map((f) => f.replace(/\.tmp-.*/, '.tmp-…')).join(', ')})` : ''}; ${problems.length} invariant violations`],
    ],
  });
  assert.deepEqual(problems, [], 'ring invariants violated');
  assert.ok(figures.kills >= MIN_KILLS, `only ${figures.kills} kills landed`);
  assert.equal(figures.lost, 0);
  assert.equal(figures.recoveries, figures.kills);
});
