// Kill -9 at every phase of a backup, many times, and check the ring contract after every kill and
// after every recovery run. Kills come from the engine's fault points (exact instants: between two
// renames of a rotation) and from SIGKILLs at seeded random moments inside a phase.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep, setImmediate as yieldLoop } from 'node:timers/promises';
import { explain, processesMentioning, resultEvent, runCli, startCli, type CliProcess } from './cli';
import { recordFigures } from './figures';
import { atCleanup, workDir } from './setup';
import { loopUnavailableReason, makeLoopFs, type LoopFs } from './loop';
import { seededRng } from './prng';
import { completeIds, listRing, ringProblems } from './ring';
import { mutateSource, populateSource } from './sourceTree';
import { describeTree, type TreeModel } from './tree';
import { verifySlot } from '../../../src/engine/verify';
import { purgeFinished } from '../../helpers/purge';
import { makeZfsPool, type ZfsPool } from '../../helpers/zfsPool';

const CAPACITY = 3;
const SNAPSHOT_DIR = '.shadow-slots-snapshots';
const debug = (m: string) => { if (process.env['RELIABILITY_DEBUG']) console.log(`# ${m}`); };

type KillSpec =
  | { kind: 'fault'; point: string }
  | { kind: 'random'; phase: string; maxDelayMs: number; tree: boolean }
  | { kind: 'spawn-window' };

/** Every fault point of the engine, then random kills spread over the phases (copy and finalize weigh most). */
function killPlan(rng: ReturnType<typeof seededRng>, target: KillSuiteOptions['target'], extraFaults: string[]): KillSpec[] {
  const faults = ['phase:preflight', 'phase:lock', 'phase:repair', 'phase:snapshot', 'phase:copy', 'copy:unrecorded', 'copy:spawned', 'phase:rotate',
    'rotate:journaled', 'rotate:step-0', 'rotate:step-1', 'rotate:step-2', 'rotate:step-3', 'rotate:settle', 'rotate:state-written', 'phase:release', 'phase:finalize'];
  const randomPhases: Array<[string, number]> = [['lock', 5], ['repair', 10], ['snapshot', 40], ['copy', 150], ['copy', 400], ['copy', 700], ['copy', 300],
    ['rotate', 10], ['release', 20], ['finalize', 30], ['finalize', 120], ['finalize', 250], ['snapshot', 15], ['rotate', 3],
    ['finalize', 60], ['copy', 500]];
  // A ZFS rotation is a dozen zfs commands (snapshot, clone, remounts, rmdir of what an unmount
  // left) and a purge destroys a clone and then its snapshot: land kills among them too.
  if (target === 'zfs-cow') randomPhases.push(['rotate', 150], ['rotate', 400], ['rotate', 700], ['finalize', 300], ['finalize', 600]);
  const plan: KillSpec[] = [
    ...[...faults, ...extraFaults].map((point): KillSpec => ({ kind: 'fault', point })),
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

export interface KillSuiteOptions {
  /**
   * Where the ring lives: a plain folder (hard links), a btrfs loop file system (copy-on-write
   * slots made by rsync, or by btrfs send/receive) or a zfs-fuse pool on a file (copy-on-write
   * slots; the caller runs the ZFS daemon, see useZfsDaemon).
   */
  target: 'links' | 'btrfs-cow' | 'btrfs-send' | 'zfs-cow';
  minKills: number;
  /** The summary's area key and title. */
  area: string;
  title: string;
}

const RING_DESCRIPTION: Record<KillSuiteOptions['target'], string> = {
  'links': 'hard-linked folders',
  'btrfs-cow': 'btrfs copy-on-write snapshots on a loop device',
  'btrfs-send': 'btrfs copy-on-write snapshots on a loop device, copied by btrfs send/receive',
  'zfs-cow': 'ZFS snapshots as read-only clones on a zfs-fuse pool on a file',
};

/**
 * Every complete slot of a ZFS ring is a read-only clone mounted at its folder, and the ring holds
 * nothing else: no dropped slot left, no snapshot without its slot, the working copy unmounted.
 */
function zfsRingProblems(target: string, pool: ZfsPool, slots: Array<{ number: number | null; id: string; path: string }>): string[] {
  const problems: string[] = [];
  const container = `${pool.name}/shadow-slots-${statSync(target).ino}`;
  const lines = execFileSync('zfs', ['get', '-H', '-p', '-r', '-o', 'name,property,value', 'mountpoint,mounted,origin', container], { encoding: 'utf8' }).trim().split('\n');
  const props = new Map<string, Map<string, string>>();
  for (const [name, property, ...value] of lines.map((l) => l.split('\t'))) props.set(name!, (props.get(name!) ?? new Map()).set(property!, value.join('\t')));
  const expected = new Set([container, `${container}/work`, ...slots.flatMap((s) => [`${container}/slot-${s.id}`, `${container}/work@${s.id}`])]);
  const strays = [...props.keys()].filter((n) => !expected.has(n));
  if (strays.length > 0) problems.push(`ZFS datasets the ring does not need: ${strays.join(', ')}`);
  if (props.get(`${container}/work`)?.get('mounted') !== 'no') problems.push('the working copy is still mounted');
  for (const s of slots) {
    const clone = props.get(`${container}/slot-${s.id}`);
    if (clone?.get('mountpoint') !== s.path || clone.get('mounted') !== 'yes' || clone.get('origin') !== `${container}/work@${s.id}`) {
      problems.push(`slot ${s.number} is not the mounted clone of its snapshot: ${JSON.stringify(clone ? Object.fromEntries(clone) : null)}`);
    }
    try {
      writeFileSync(join(s.path, '.write-probe'), 'x');
      problems.push(`slot ${s.number} is writable`);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EROFS') problems.push(`slot ${s.number}: writing failed with ${(error as Error).message}, not EROFS`);
    }
  }
  return problems;
}

/**
 * The kill suite: every engine fault point and seeded random SIGKILLs, each followed by the
 * invariants a user listing the ring would check and by a recovery run.
 */
export async function runKillSuite(t: TestContext, options: KillSuiteOptions): Promise<void> {
  const started = Date.now();
  const rng = seededRng();
  console.log(`# kill suite seed ${rng.seed} (rerun with SHADOW_SLOTS_SEED=${rng.seed})`);
  const work = await workDir(t, 'kill');
  let fs: LoopFs | null = null;
  let targetFs: LoopFs | null = null;
  let pool: ZfsPool | null = null;
  atCleanup(work, () => { fs?.cleanup(); targetFs?.cleanup(); pool?.cleanup(); });

  // The source lives on btrfs when this machine can make one, so kills also hit real snapshots.
  const btrfsReason = loopUnavailableReason('btrfs');
  let source: string;
  let snapshot: 'btrfs' | 'none';
  if (btrfsReason === null) {
    fs = makeLoopFs(work, 'btrfs', 256);
    source = fs.mountPoint;
    if (options.target === 'btrfs-send') {
      // btrfs send copies whole subvolumes: the source is one, below the file system's top level.
      source = join(fs.mountPoint, 'data');
      execFileSync('btrfs', ['subvolume', 'create', source], { stdio: 'ignore' });
    }
    snapshot = 'btrfs';
  } else {
    source = join(work, 'source');
    snapshot = 'none';
    console.log(`# btrfs not available (${btrfsReason}): live copies, the snapshot phase has nothing to leave behind`);
  }
  let target = join(work, 'target');
  if (options.target === 'zfs-cow') {
    pool = makeZfsPool(work, 640, 'target');
    target = join(pool.mountPoint, 'ring');
  } else if (options.target !== 'links') {
    // A directory inside the file system, as a user would choose it: auto picks copy-on-write.
    targetFs = makeLoopFs(work, 'btrfs', 640, 'target');
    target = join(targetFs.mountPoint, 'ring');
  }
  mkdirSync(source, { recursive: true });
  mkdirSync(target);
  populateSource(source, rng, { dirs: 12, filesPerDir: 60, bigFiles: 3, bigBytes: 512 * 1024 });
  // zfs-fuse keeps whole seconds of a modification time: a file rewritten with its old size within
  // the second of its previous version would look unchanged to rsync's quick check (as on any
  // target that keeps whole seconds), so there each round of changes starts in a new second.
  let lastChange = Math.floor(Date.now() / 1000);
  const changeSource = async (newBytes: number) => {
    if (options.target === 'zfs-cow') await sleep(Math.max(0, (lastChange + 1) * 1000 - Date.now()));
    mutateSource(source, rng, newBytes);
    lastChange = Math.floor(Date.now() / 1000);
  };
  const profileFile = join(work, 'profile.json');
  // --bwlimit (KiB/s) stretches the copy of each day's ~3 MiB of new data to about half a second;
  // btrfs send cannot take rsync options, so it runs without.
  writeFileSync(profileFile, JSON.stringify({ name: 'kill-test', source, target, slots: CAPACITY, snapshot, rsyncArgs: options.target === 'btrfs-send' ? [] : ['--bwlimit=6000'] }));
  const backupArgs = ['backup', '--profile', profileFile, '--json'];
  const stateOf = async () => {
    const model = await describeTree(source, { skipTopLevel: [SNAPSHOT_DIR] });
    // zfs-fuse keeps whole seconds of a modification time (kernel OpenZFS keeps nanoseconds).
    if (options.target === 'zfs-cow') for (const [path, entry] of model) model.set(path, entry.replace(/^(f \d+ \S+ )(\d+)$/, (_, head: string, ns: string) => `${head}${BigInt(ns) / 1_000_000_000n}000000000`));
    return model;
  };

  const models = new Map<string, TreeModel>();
  const problems: string[] = [];
  const figures = { kills: 0, recoveries: 0, lost: 0, missed: 0, unjournaledOrphans: 0, byPhase: new Map<string, number>(), verified: 0, unverifiable: 0, tempFiles: [] as string[], sendFallbacks: 0 };

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

  const plan = killPlan(rng, options.target, options.target === 'btrfs-send' ? ['send:journaled', 'send:parent-kept'] : []);
  let attempt = 0;
  while ((attempt < plan.length || figures.kills < options.minKills) && attempt < plan.length + 20) {
    const spec = plan[attempt % plan.length]!;
    attempt++;
    debug(`attempt ${attempt}: ${describeSpec(spec)} at ${Math.round((Date.now() - started) / 1000)}s`);
    const before = completeIds(await listRing(target));
    await changeSource(rng.int(2, 4) * 1024 * 1024);
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
    await changeSource(256 * 1024);
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
    if (options.target === 'btrfs-send') {
      // Exactly one source snapshot is kept between runs: the parent of the next send.
      const kept = readdirSync(join(source, '..', '.shadow-slots-send', 'data'));
      if (kept.length !== 1) recoveryProblems.push(`source snapshots kept for send: ${kept.join(', ') || 'none'} (expected exactly one parent)`);
      const sent = resultEvent(recovery)!.result['slot'] as { manifest?: { transfer?: unknown } };
      if (!sent.manifest?.transfer) figures.sendFallbacks++;
    }
    // A purge process that released its lock (purgeFinished above) has nothing left to do in the
    // target; it may still be exiting on a loaded machine.
    const strays = processesMentioning(target).filter((s) => !s.cmdline.includes(' purge --target '));
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
  if (options.target === 'btrfs-cow' || options.target === 'btrfs-send') {
    // Every slot the copy-on-write ring holds at the end is a read-only subvolume.
    for (const s of final.slots.filter((x) => x.state === 'complete')) {
      const props = execFileSync('btrfs', ['property', 'get', '-ts', '--', s.path, 'ro'], { encoding: 'utf8' });
      if (statSync(s.path).ino !== 256 || !props.includes('ro=true')) problems.push(`slot ${s.number} is not a read-only subvolume (${props.trim()})`);
    }
  }
  if (options.target === 'zfs-cow') problems.push(...zfsRingProblems(target, pool!, final.slots.filter((x) => x.state === 'complete')));
  await recordFigures({
    area: options.area,
    ok: problems.length === 0 && figures.kills >= options.minKills && figures.lost === 0,
    rows: [
      [options.title, `${figures.kills} kills, ${figures.recoveries} recoveries, ${figures.lost} complete slots lost (must be 0)`],
      [`${options.title}: kills per phase`, categories],
      [`${options.title}: kills by exact point`, phases],
      [`${options.title}: details`, `seed ${rng.seed}; ring: ${RING_DESCRIPTION[options.target]}${options.target === 'btrfs-send' ? ` (${figures.sendFallbacks} recoveries fell back to rsync)` : ''}; source on ${snapshot === 'btrfs' ? 'btrfs (real snapshots)' : 'ext4 (live copy)'}; ring of ${CAPACITY}; ${figures.verified} recoveries verified by \`verify\`; ${figures.unjournaledOrphans} kills landed between rsync spawn and its journal record; ${figures.tempFiles.length} temp files of interrupted atomic writes left after a recovery${figures.tempFiles.length > 0 ? ` (${figures.tempFiles.map((f) => f.replace(/\.tmp-.*/, '.tmp-…')).join(', ')})` : ''}; ${problems.length} invariant violations`],
    ],
  });
  assert.deepEqual(problems, [], 'ring invariants violated');
  assert.ok(figures.kills >= options.minKills, `only ${figures.kills} kills landed`);
  assert.equal(figures.lost, 0);
  assert.equal(figures.recoveries, figures.kills);
}
