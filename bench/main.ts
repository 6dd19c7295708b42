/**
 * `npm run bench`: Shadow Slots against the original recipe (raw rsync, with its own `sync`) and
 * rsnapshot, on the same synthetic tree and the same target disk, each contender run once per
 * round as a whole process, in alternating order; prints the per-round (per-pair) ratios, their
 * medians, and PASS/MISS for the targets of issue 16. See BENCHMARKS.md. Progress goes to stderr,
 * results to stdout and bench/.work/results/.
 */
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { run } from '../src/platform/runner';
import { RawRecipe, Rsnapshot, ShadowSlotsCli, type Contender } from './lib/contenders';
import { describeMachine } from './lib/machine';
import { applyMutation, planMutation } from './lib/mutate';
import { Scratch } from './lib/scratch';
import { ALL, markdown, report, SCENARIOS, type Name, type Report, type ReportContext, type Round, type ScenarioKey, type SizeResults } from './lib/report';
import { measureStreamVsWalk } from './lib/streamVsWalk';
import { RingStore } from '../src/platform/ringStore';
import { formatMs, formatTarget, verdict } from './lib/stats';
import { contentPool, MEAN_FILE_BYTES, planTree, writeTree, type TreePlan } from './lib/tree';
import { checkSlot, countFiles } from './lib/verify';
import { makeListingFolder, measureListing, type ListingResult } from './lib/listing';
import { measureRingIndex, ringIndexLines } from './lib/ringIndexBench';
import { measureOverSsh, sshScenarioUnavailable } from './lib/sshScenario';
import type { SshOutcome } from './lib/report';

const repo = resolve(import.meta.dirname ?? '.', '..');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    rounds: { type: 'string' },
    contenders: { type: 'string' },
    scenarios: { type: 'string' },
    seed: { type: 'string', default: '20261126' },
    work: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'no-btrfs': { type: 'boolean', default: false },
    'host-target': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'ring-index': { type: 'boolean', default: false },
    ssh: { type: 'boolean', default: false },
    'ssh-only': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  process.stdout.write(`Usage: npm run bench -- [--quick] [--sizes 20000,200000] [--rounds 7] [--contenders raw,rsnapshot,shadow-slots,shadow-slots-btrfs]
       [--scenarios s2,s6] [--seed N] [--work DIR] [--keep] [--no-btrfs] [--host-target] [--cpu-prof DIR] [--ssh | --ssh-only] [--ring-index]
  --quick      20,000 files only: a routine check (still 7 rounds: the statistic needs 7 pairs)
  --rounds     pairs per scenario (7 to 12; the issue's statistic needs at least 7)
  --scenarios  s1 (1 % changed, ring not full), s2 (1 % changed, full ring: the issue's targets),
               s3 (no change), s6 (finalize: rsync's list against the walk, in process)
  --keep       keep the work folder and its images for inspection; mounts are still released
  --no-btrfs   keep the source on the work disk (no shadow-slots-btrfs contender)
  --host-target  put the rings on the work disk itself instead of a fresh ext4 loop volume
  --cpu-prof   write a V8 CPU profile of every engine run into DIR
  --ssh        also scenario 7: a ring over SSH to a test sshd on 127.0.0.1 against rsync -a
               --link-dest over ssh to the same sshd (smallest size, --rounds pairs)
  --ssh-only   scenario 7 alone
  --ring-index only scenario 8 (issue 17): index build, file history and find on a 16-slot ring of
               the first --sizes files (default 200,000), made by the engine's own backups
`);
  process.exit(0);
}

const quick = args.quick;
const sizes = (args.sizes ?? (quick ? '20000' : '20000,200000')).split(',').map((s) => Number(s.trim()));
const rounds = Number(args.rounds ?? 7);
const seed = Number(args.seed);
const scenarioList = (args.scenarios ?? 's2,s6').split(',').map((s) => s.trim());
const timedScenarios = scenarioList.filter((s): s is ScenarioKey => s in SCENARIOS);
const withS6 = scenarioList.includes('s6');
// The growing ring holds the seed, one slot per round of S1 and of S3: it must not fill up.
const growingSlots = 1 + rounds * ((timedScenarios.includes('s1') ? 1 : 0) + (timedScenarios.includes('s3') ? 1 : 0));
if (sizes.some((n) => !Number.isInteger(n) || n < 100) || !Number.isInteger(rounds) || rounds < 7 || rounds > 12 || !Number.isInteger(seed)
  || scenarioList.some((s) => !(s in SCENARIOS) && s !== 's6') || growingSlots > 16) {
  process.stderr.write('bench: --sizes must be integers ≥ 100, --rounds 7…12 (at least 7 pairs; with s1 and s3 together at most 7), --scenarios from s1,s2,s3,s6, --seed an integer.\n');
  process.exit(2);
}
const wanted = (args.contenders ?? 'raw,rsnapshot,shadow-slots').split(',').map((s) => s.trim()) as Name[];
for (const w of wanted) if (!ALL.includes(w)) { process.stderr.write(`bench: unknown contender "${w}"; choose from ${ALL.join(', ')}.\n`); process.exit(2); }

const benchWork = join(repo, 'bench', '.work');
const workRoot = resolve(args.work ?? join(benchWork, `run-${process.pid}`));
const resultsDir = join(benchWork, 'results');
const builtCli = join(repo, 'dist', 'cli.js');
// The run uses its own copy of the CLI bundle: others rebuilding dist/ during a long run must not
// change (or break) the engine halfway through the measurements.
const cli = join(workRoot, 'engine', 'cli.js');
const probe = join(repo, 'bench', 'hwm-probe.cjs');
const SLOTS = 16;

const controller = new AbortController();
const signal = controller.signal;
let interrupts = 0;
const onSignal = (): void => {
  interrupts++;
  if (interrupts === 1) process.stderr.write('\nbench: interrupted, stopping and releasing mounts…\n');
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// A closed pipe (`npm run bench | head`) must not kill the run before it releases its mounts.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);
const log = (s: string): void => { process.stderr.write(`${s}\n`); };

async function engineStatus(): Promise<string | null> {
  try {
    await run(process.execPath, [cli, 'backup', '--help'], { timeoutMs: 20_000 });
    return null;
  } catch (e) {
    return `engine not available (${cli} backup --help failed: ${String(e).split('\n')[0]})`;
  }
}

/** Leftovers of benchmark runs that were killed: release their mounts, delete their trees. */
async function recoverStale(): Promise<void> {
  let names: string[] = [];
  try { names = await readdir(benchWork); } catch { return; }
  for (const n of names) {
    const m = /^run-(\d+)$/.exec(n);
    if (!m || Number(m[1]) === process.pid) continue;
    try { process.kill(Number(m[1]), 0); continue; } catch { /* not alive: stale */ }
    const released = await new Scratch(join(benchWork, n, 'scratch.json')).recover();
    if (released.length) log(`bench: released leftovers of a killed run: ${released.join(', ')}`);
    await rm(join(benchWork, n), { recursive: true, force: true });
  }
}

function rotate<T>(items: readonly T[], k: number): T[] {
  const n = items.length;
  // Alternate both the starting contender and the direction, so no contender always runs
  // right after the tree was written (hot caches) or always last.
  const r = items.map((_, i) => items[(i + k) % n]!);
  return k % 2 === 1 ? r.reverse() : r;
}

async function runSize(files: number, scratch: Scratch, engineMissing: string | null, btrfsOk: { ok: boolean; why: string }, loopOk: { ok: boolean }): Promise<SizeResults> {
  const sizeDir = join(workRoot, `n${files}`);
  await mkdir(sizeDir, { recursive: true });
  const totalBytes = files * MEAN_FILE_BYTES;
  const res: SizeResults = { rounds: {}, seedMs: {}, files, bytes: totalBytes, notRun: {}, load: [loadavg()[0]!, Number.NaN], sourceFs: 'work disk', targetFs: 'work disk' };

  // One source for every contender: on a btrfs subvolume when possible (the btrfs contender
  // needs it there), so all contenders read the very same files from the same file system.
  let source = join(sizeDir, 'source');
  let btrfsMount: string | null = null;
  if (btrfsOk.ok) {
    try {
      const image = join(sizeDir, 'source.img');
      const size = Math.max(2 * 1024 ** 3, 5 * totalBytes);
      source = await scratch.btrfsSubvolume(image, size, join(sizeDir, 'source-fs'), 'source', signal);
      btrfsMount = join(sizeDir, 'source-fs');
      res.sourceFs = `btrfs subvolume on a loop device (${(size / 1024 ** 3).toFixed(0)} GiB sparse image on the work disk)`;
    } catch (e) {
      if (signal.aborted) throw e;
      btrfsOk.ok = false;
      btrfsOk.why = `btrfs loop device could not be set up: ${String(e).split('\n')[0]}`;
      log(`bench: ${btrfsOk.why}; the source stays on the work disk`);
    }
  }
  // The target disk: one fresh ext4 for all contenders (see Scratch.ext4Volume).
  let targets = join(sizeDir, 'targets');
  if (loopOk.ok && !args['host-target']) {
    try {
      const size = Math.max(4 * 1024 ** 3, 16 * totalBytes);
      await scratch.ext4Volume(join(sizeDir, 'targets.img'), size, targets, 4096, signal);
      res.targetFs = `fresh ext4 on a loop device (${(size / 1024 ** 3).toFixed(0)} GiB sparse image on the work disk, mounted noinit_itable)`;
    } catch (e) {
      if (signal.aborted) throw e;
      log(`bench: could not make an ext4 target volume (${String(e).split('\n')[0]}); targets go to the work disk`);
      targets = join(sizeDir, 'targets-host');
    }
  }
  const t0 = performance.now();
  let plan: TreePlan = planTree({ files, totalBytes, seed });
  const pool = contentPool(seed);
  await writeTree(source, plan, pool, signal);
  const onDisk = await countFiles(source);
  if (onDisk !== plan.files.length) throw new Error(`generator bug: planned ${plan.files.length} files, wrote ${onDisk}`);
  log(`bench: ${files} files, ${(totalBytes / 1024 ** 2).toFixed(0)} MB, ${plan.dirs.length} folders generated in ${formatMs(performance.now() - t0)} at ${source}`);

  // Each contender twice: one ring that grows (scenarios 1 and 3) and one kept full (scenario 2).
  const make = (name: Name, dir: string): Contender => {
    if (name === 'raw') return new RawRecipe(source, join(dir, 'ring'));
    if (name === 'rsnapshot') return new Rsnapshot(source, dir);
    return new ShadowSlotsCli(source, join(dir, 'ring'), { cli, probe, snapshot: name === 'shadow-slots' ? 'none' : 'btrfs', ...(args['cpu-prof'] ? { cpuProfDir: resolve(args['cpu-prof']) } : {}) });
  };
  const contenders: Contender[] = [];
  const fullRings = new Map<Contender, Contender>();
  for (const name of wanted) {
    if (name.startsWith('shadow-slots') && engineMissing) { res.notRun[name] = engineMissing; continue; }
    if (name === 'shadow-slots-btrfs' && !btrfsOk.ok) { res.notRun[name] = btrfsOk.why; continue; }
    const growing = make(name, join(targets, name));
    contenders.push(growing);
    fullRings.set(growing, make(name, join(targets, `${name}-full`)));
  }

  const timed = async (c: Contender, key: ScenarioKey | 'seed', label: string, round?: Round): Promise<void> => {
    const before = await c.slotCount();
    if (key !== 's2' && before >= SLOTS) throw new Error(`${c.name}: ring already full before a ${key} run`);
    // Untimed settling, so no contender pays for the previous one's leftovers: dirty pages still
    // being written back (sync), and btrfs cleaning up a deleted snapshot in the background.
    await run('sync', [], { signal });
    if (btrfsMount) await run('btrfs', ['subvolume', 'sync', btrfsMount], { signal });
    const m = await c.backup(signal);
    const check = await checkSlot(source, c.newestSlot(), plan.files.length, signal);
    const after = await c.slotCount();
    const expectedSlots = Math.min(SLOTS, before + 1);
    let problem = check.ok ? '' : `slot differs from source (${check.files}/${check.expectedFiles} files; ${check.differences.join(' | ')})`;
    if (!problem && after !== expectedSlots) problem = `ring has ${after} slots after the run, expected ${expectedSlots}`;
    const name = c.name as Name;
    if (key === 'seed') {
      if (problem) throw new Error(`${c.name}: first backup is not a correct copy: ${problem}`);
      res.seedMs[name] = m.toCompleteMs;
    } else if (round) {
      if (problem) round.invalid[name] = problem; else round.measures[name] = m;
    }
    const rss = m.peakRssKb !== undefined ? `, peak RSS ${(m.peakRssKb / 1024).toFixed(0)} MB` : '';
    const total = m.totalMs !== m.toCompleteMs ? ` (complete at ${formatMs(m.toCompleteMs)})` : '';
    const purge = m.purgeMs !== undefined ? `, purge done ${formatMs(m.purgeMs)} after exit` : '';
    log(`  ${label} ${c.name.padEnd(18)} ${formatMs(m.totalMs).padStart(8)}${total}${rss}${purge} ${problem ? `INVALID: ${problem}` : 'ok'}`);
  };

  for (const c of contenders) await c.prepare();
  for (const c of contenders) await timed(c, 'seed', 'seed ');
  if (timedScenarios.includes('s2')) {
    for (const c of contenders) {
      const full = fullRings.get(c)!;
      const t = performance.now();
      await full.prepare();
      // Only the slots the measured rounds will drop are real trees (see Contender.fillRing).
      await full.fillRing(SLOTS, c.slotFolder(0), SLOTS - rounds, signal);
      log(`  fill   ${c.name.padEnd(18)} second ring filled to ${await full.slotCount()} slots in ${formatMs(performance.now() - t)}`);
    }
  }

  let round = 0;
  const mutate = async (): Promise<void> => {
    round++;
    plan = await applyMutation(source, plan, planMutation(plan.files, plan.dirs, round, seed), pool, signal);
  };
  // The scenarios with a change alternate within each round, on the same change: measured
  // minutes apart, a ratio between them mostly measured how the machine's load had drifted.
  const changing = timedScenarios.filter((k) => k !== 's3');
  const runs = contenders.flatMap((c) => changing.map((key) => ({ c: key === 's2' ? fullRings.get(c)! : c, key })));
  for (let r = 0; r < rounds && runs.length > 0; r++) {
    await mutate();
    const load = loadavg()[0]!;
    const perKey = new Map(changing.map((k) => [k, { measures: {}, invalid: {}, load } as Round]));
    for (const { c, key } of rotate(runs, r)) await timed(c, key, `${key.toUpperCase()} r${r + 1}`, perKey.get(key));
    for (const [k, v] of perKey) (res.rounds[k] ??= []).push(v);
  }
  if (timedScenarios.includes('s3')) {
    for (let r = 0; r < rounds; r++) {
      const x: Round = { measures: {}, invalid: {}, load: loadavg()[0]! };
      for (const c of rotate(contenders, r)) await timed(c, 's3', `S3 r${r + 1}`, x);
      (res.rounds.s3 ??= []).push(x);
    }
  }
  if (withS6) {
    const engine = contenders.find((c) => c.name === 'shadow-slots');
    if (!engine) res.streamVsWalk = 'needs the shadow-slots contender';
    else {
      try {
        // One more night's change, then rsync against the engine's newest slot and its list.
        await mutate();
        const ringDir = (engine as ShadowSlotsCli).targetFolder;
        const store = new RingStore(ringDir);
        const newest = (await store.readState()).state.entries[0]!;
        const t = performance.now();
        res.streamVsWalk = await measureStreamVsWalk({ source, previousSlot: store.slotPath(newest.number), previousSums: store.sumsPath(newest.id), work: join(targets, 's6'), samples: 3, signal });
        log(`  S6     finalize: rsync's list ${formatMs(res.streamVsWalk.stream.medianMs)} against the walk ${formatMs(res.streamVsWalk.walk.medianMs)} (${formatMs(performance.now() - t)} with the rsync runs)`);
      } catch (e) {
        if (signal.aborted) throw e;
        res.streamVsWalk = String(e instanceof Error ? e.message : e).split('\n')[0]!;
      }
    }
  }
  res.load[1] = loadavg()[0]!;
  return res;
}

async function main(): Promise<number> {
  await mkdir(benchWork, { recursive: true });
  await recoverStale();
  const leftovers = await new Scratch(join(workRoot, 'scratch.json')).recover();
  if (leftovers.length) log(`bench: released leftovers of an earlier run in ${workRoot}: ${leftovers.join(', ')}`);
  await rm(workRoot, { recursive: true, force: true });
  await mkdir(workRoot, { recursive: true });
  const scratch = new Scratch(join(workRoot, 'scratch.json'));
  const started = performance.now();
  await mkdir(join(workRoot, 'engine'), { recursive: true });
  await copyFile(builtCli, cli).catch(() => undefined);
  const engineMissing = wanted.some((n) => n.startsWith('shadow-slots')) ? await engineStatus() : null;
  if (engineMissing) log(`bench: ${engineMissing}; shadow-slots contenders are reported as not run`);
  const btrfsOk = { ok: false, why: '' };
  const loopOk = { ok: process.getuid?.() === 0 };
  if (args['no-btrfs']) btrfsOk.why = '--no-btrfs';
  else if (!loopOk.ok) btrfsOk.why = 'needs root for a btrfs loop device';
  else btrfsOk.ok = true;
  const all: SizeResults[] = [];
  const ctx: ReportContext = { wanted, quick, rounds, seed, scenarios: timedScenarios };
  let listing: ListingResult | string = 'not measured';
  const sshOnly = args['ssh-only'];
  let ssh: SshOutcome = args.ssh || sshOnly ? 'not measured' : undefined;
  const machine = await describeMachine(benchWork);
  await mkdir(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const kind = quick ? 'quick' : 'full';
  // Written after every size, so a long run that is interrupted still leaves what it measured.
  const save = async (): Promise<Report> => {
    const rep = report(all, listing, ctx, ssh);
    await writeFile(join(resultsDir, `${kind}-${stamp}.json`), JSON.stringify({ sizes: all, listing, ssh, machine, targets: rep.targets.map((t) => ({ ...t, verdict: verdict(t) })) }, null, 2));
    await writeFile(join(resultsDir, `${kind}-latest.md`), markdown(all, listing, machine, rep, ctx, ssh));
    return rep;
  };
  try {
    for (const n of sshOnly ? [] : sizes) {
      all.push(await runSize(n, scratch, engineMissing, btrfsOk, loopOk));
      // Each size gets fresh file systems; release the previous ones first (disk and loop devices).
      await scratch.release({ keepImages: args.keep });
      if (!args.keep) await rm(join(workRoot, `n${n}`), { recursive: true, force: true });
      await save();
    }
    if (!sshOnly) {
      try {
        const dir = await makeListingFolder(join(workRoot, 'listing'), 10_000);
        listing = await measureListing(dir, 10_000);
      } catch (e) {
        if (signal.aborted) throw e;
        listing = String(e instanceof Error ? e.message : e);
      }
    }
    if (ssh !== undefined) {
      const why = engineMissing ?? sshScenarioUnavailable();
      if (why) ssh = why;
      else {
        const files = Math.min(...sizes);
        log(`bench: S7 over loopback SSH, ${files} files, ${rounds} pairs`);
        try {
          ssh = await measureOverSsh({ dir: join(workRoot, 'ssh'), files, pairs: rounds, seed, cli, probe, signal, log });
        } catch (e) {
          if (signal.aborted) throw e;
          ssh = `failed: ${String(e instanceof Error ? e.message : e).split('\n')[0]}`;
        }
      }
      await save();
    }
  } finally {
    await scratch.release({ keepImages: args.keep });
    if (!args.keep) await rm(workRoot, { recursive: true, force: true });
    else log(`bench: kept ${workRoot} (images can be loop-mounted: mount -o loop,ro IMAGE DIR)`);
  }
  const rep = await save();
  process.stdout.write(`\n${rep.lines.join('\n')}\n\nPer-pair ratios (one per round):\n${rep.pairLines.map((l) => `  ${l}`).join('\n')}\n\nTargets (median of per-pair ratios):\n${rep.targets.map((t) => `  ${formatTarget(t)}`).join('\n')}\n`);
  process.stdout.write(`\nbench: finished in ${formatMs(performance.now() - started)}\n`);
  log(`bench: results in ${resultsDir}`);
  return rep.primary.some((t) => verdict(t) === 'MISS') ? 1 : 0;
}

/** Scenario 8 alone (`--ring-index`): a 16-slot ring of small files, then the index's figures. */
async function ringIndexScenario(): Promise<number> {
  const files = args.sizes ? sizes[0]! : 200_000;
  await mkdir(benchWork, { recursive: true });
  await recoverStale();
  await rm(workRoot, { recursive: true, force: true });
  await mkdir(join(workRoot, 'engine'), { recursive: true });
  await copyFile(builtCli, cli);
  process.env['SHADOW_SLOTS_CACHE_DIR'] = join(workRoot, 'cache');
  try {
    const source = join(workRoot, 'source');
    const started = performance.now();
    // Contents do not matter to the index: small files keep the 16 backups quick.
    let plan: TreePlan = planTree({ files, totalBytes: files * 256, seed });
    const pool = contentPool(seed);
    await writeTree(source, plan, pool, signal);
    const probeFile = 'history-probe.txt';
    const ring = new ShadowSlotsCli(source, join(workRoot, 'ring'), { cli, probe, snapshot: 'none' });
    await ring.prepare();
    let round = 0;
    const backupOnce = async (): Promise<void> => {
      round++;
      plan = await applyMutation(source, plan, planMutation(plan.files, plan.dirs, round, seed), pool, signal);
      // The probed file changes every fourth backup: 4 versions in 16 slots.
      if (round % 4 === 1) await writeFile(join(source, probeFile), `version ${round}\n`.repeat(round));
      const m = await ring.backup(signal);
      log(`  backup ${String(round).padStart(2)} ${formatMs(m.toCompleteMs).padStart(8)}`);
    };
    for (let i = 1; i < SLOTS; i++) await backupOnce();
    log(`bench: ring of ${await ring.slotCount()} slots × ${files} files made in ${formatMs(performance.now() - started)}`);
    const r = await measureRingIndex(join(workRoot, 'ring'), files, SLOTS, probeFile, backupOnce);
    if (r.historyVersions !== 4) throw new Error(`the probed file has ${r.historyVersions} versions in the index, expected 4`);
    process.stdout.write(`\n${ringIndexLines(r).join('\n')}\nload average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
    return 0;
  } finally {
    if (!args.keep) await rm(workRoot, { recursive: true, force: true });
  }
}

(args['ring-index'] ? ringIndexScenario() : main()).then(
  (code) => { process.exitCode = signal.aborted ? 130 : code; },
  (e: unknown) => {
    process.stderr.write(`bench: ${signal.aborted ? 'interrupted' : `failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`}\n`);
    process.exitCode = signal.aborted ? 130 : 1;
  },
);
