/**
 * `npm run bench`: Shadow Slots against the original recipe (raw rsync) and rsnapshot, on the same
 * synthetic tree and the same target disk, each contender run several times in alternation; prints
 * medians, ratios against anchors measured in the same run, and PASS/MISS for the targets of
 * issue 6. See BENCHMARKS.md. Progress goes to stderr, results to stdout and bench/.work/results/.
 */
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { run } from '../src/platform/runner';
import { RawRecipe, Rsnapshot, ShadowSlotsCli, type Contender, type Measure } from './lib/contenders';
import { describeMachine } from './lib/machine';
import { applyMutation, planMutation } from './lib/mutate';
import { Scratch } from './lib/scratch';
import { formatMs, formatNumber, formatTarget, median, ratio, verdict, type TargetCheck } from './lib/stats';
import { contentPool, MEAN_FILE_BYTES, planTree, writeTree, type TreePlan } from './lib/tree';
import { checkSlot, countFiles } from './lib/verify';
import { makeListingFolder, measureListing, type ListingResult } from './lib/listing';

const repo = resolve(import.meta.dirname ?? '.', '..');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    rounds: { type: 'string' },
    contenders: { type: 'string' },
    seed: { type: 'string', default: '20261126' },
    work: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'no-btrfs': { type: 'boolean', default: false },
    'host-target': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  process.stdout.write(`Usage: npm run bench -- [--quick] [--sizes 20000,200000] [--rounds 5] [--contenders raw,rsnapshot,shadow-slots,shadow-slots-btrfs]
       [--seed N] [--work DIR] [--keep] [--no-btrfs] [--host-target] [--cpu-prof DIR]
  --quick      20,000 files only, 2 rounds (1 for scenario 3), for a routine check
  --keep       keep the work folder and its images for inspection; mounts are still released
  --no-btrfs   keep the source on the work disk (no shadow-slots-btrfs contender)
  --host-target  put the rings on the work disk itself instead of a fresh ext4 loop volume
  --cpu-prof   write a V8 CPU profile of every engine run into DIR
`);
  process.exit(0);
}

const quick = args.quick;
const sizes = (args.sizes ?? (quick ? '20000' : '20000,200000')).split(',').map((s) => Number(s.trim()));
const rounds = Number(args.rounds ?? (quick ? 2 : 5));
// The quick run's budget is a minute: scenario 3 (no change, no target) gets a single round there.
const s3Rounds = quick && args.rounds === undefined ? 1 : rounds;
const seed = Number(args.seed);
if (sizes.some((n) => !Number.isInteger(n) || n < 100) || !Number.isInteger(rounds) || rounds < 1 || rounds > 7 || !Number.isInteger(seed)) {
  process.stderr.write('bench: --sizes must be integers ≥ 100, --rounds 1…7 (seed + 2 × rounds slots must leave the ring not full), --seed an integer.\n');
  process.exit(2);
}
const ALL = ['raw', 'rsnapshot', 'shadow-slots', 'shadow-slots-btrfs'] as const;
type Name = (typeof ALL)[number];
const wanted = (args.contenders ?? ALL.join(',')).split(',').map((s) => s.trim()) as Name[];
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

/** Results of one contender in one scenario at one size. */
interface Series { valid: Measure[]; invalid: string[] }
type ScenarioKey = 's1' | 's2' | 's3';
type SizeResults = Record<ScenarioKey, Partial<Record<Name, Series>>> & {
  seedMs: Partial<Record<Name, number>>; files: number; bytes: number; notRun: Partial<Record<Name, string>>;
  /** 1-minute load average at the start and the end: other work on the machine skews wall times. */
  load: [number, number];
  sourceFs: string; targetFs: string;
};

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
  const res: SizeResults = { s1: {}, s2: {}, s3: {}, seedMs: {}, files, bytes: totalBytes, notRun: {}, load: [loadavg()[0]!, Number.NaN], sourceFs: 'work disk', targetFs: 'work disk' };

  // One source for every contender: on a btrfs subvolume when possible (the btrfs contender
  // needs it there), so all contenders read the very same files from the same file system.
  let source = join(sizeDir, 'source');
  if (btrfsOk.ok) {
    try {
      const image = join(sizeDir, 'source.img');
      const size = Math.max(2 * 1024 ** 3, 5 * totalBytes);
      source = await scratch.btrfsSubvolume(image, size, join(sizeDir, 'source-fs'), 'source', signal);
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

  const contenders: Contender[] = [];
  for (const name of wanted) {
    const dir = join(targets, name);
    if (name === 'raw') contenders.push(new RawRecipe(source, join(dir, 'ring')));
    else if (name === 'rsnapshot') contenders.push(new Rsnapshot(source, dir));
    else if (engineMissing) res.notRun[name] = engineMissing;
    else if (name === 'shadow-slots-btrfs' && !btrfsOk.ok) res.notRun[name] = btrfsOk.why;
    else contenders.push(new ShadowSlotsCli(source, join(dir, 'ring'), { cli, probe, snapshot: name === 'shadow-slots' ? 'none' : 'btrfs', ...(args['cpu-prof'] ? { cpuProfDir: resolve(args['cpu-prof']) } : {}) }));
  }

  const timed = async (c: Contender, key: ScenarioKey | 'seed', label: string): Promise<void> => {
    const before = await c.slotCount();
    if (key === 's1' && before >= SLOTS) throw new Error(`${c.name}: ring already full before scenario 1 run`);
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
    } else {
      const series = (res[key][name] ??= { valid: [], invalid: [] });
      if (problem) series.invalid.push(problem); else series.valid.push(m);
    }
    const rss = m.peakRssKb !== undefined ? `, peak RSS ${(m.peakRssKb / 1024).toFixed(0)} MB` : '';
    const total = m.totalMs !== m.toCompleteMs ? ` (process ${formatMs(m.totalMs)})` : '';
    log(`  ${label} ${c.name.padEnd(18)} ${formatMs(m.toCompleteMs).padStart(8)}${total}${rss} ${problem ? `INVALID: ${problem}` : 'ok'}`);
  };

  for (const c of contenders) await c.prepare();
  for (const c of contenders) await timed(c, 'seed', 'seed ');

  let round = 0;
  const mutate = async (): Promise<void> => {
    round++;
    plan = await applyMutation(source, plan, planMutation(plan.files, plan.dirs, round, seed), pool, signal);
  };
  for (let r = 0; r < rounds; r++) {
    await mutate();
    for (const c of rotate(contenders, r)) await timed(c, 's1', `S1 r${r + 1}`);
  }
  for (let r = 0; r < s3Rounds; r++) {
    for (const c of rotate(contenders, r)) await timed(c, 's3', `S3 r${r + 1}`);
  }
  for (const c of contenders) {
    const t = performance.now();
    // Only the slots the measured rounds will drop are real trees (see fillRing).
    await c.fillRing(SLOTS, signal, SLOTS - rounds);
    log(`  fill   ${c.name.padEnd(18)} ring filled to ${await c.slotCount()} slots in ${formatMs(performance.now() - t)}`);
  }
  for (let r = 0; r < rounds; r++) {
    await mutate();
    for (const c of rotate(contenders, r)) await timed(c, 's2', `S2 r${r + 1}`);
  }
  res.load[1] = loadavg()[0]!;
  return res;
}

const med = (s: Series | undefined, f: (m: Measure) => number | undefined = (m) => m.toCompleteMs): number =>
  s && s.valid.length > 0 ? median(s.valid.map((m) => f(m) ?? Number.NaN)) : Number.NaN;

function cell(s: Series | undefined, notRun: string | undefined): string {
  if (notRun) return 'not run';
  if (!s) return 'n/a';
  const inv = s.invalid.length ? ` (${s.invalid.length} invalid)` : '';
  return `${formatMs(med(s))}${inv}`;
}

function sizeLabel(n: number): string { return n >= 1000 ? `${Math.round(n / 1000)}k` : String(n); }

interface Report { lines: string[]; targets: TargetCheck[]; primary: TargetCheck[] }

function report(all: SizeResults[], listing: ListingResult | string): Report {
  const lines: string[] = [];
  const targets: TargetCheck[] = [];
  const primary: TargetCheck[] = [];
  const cells = (r: SizeResults, key: ScenarioKey): string => wanted.map((n) => `${n} ${cell(r[key][n], r.notRun[n])}`).join(' | ');
  for (const r of all) {
    const L = sizeLabel(r.files);
    const s1 = (n: Name): number => med(r.s1[n]);
    const s2 = (n: Name): number => med(r.s2[n]);
    const s3 = (n: Name): number => med(r.s3[n]);
    for (const ss of ['shadow-slots', 'shadow-slots-btrfs'] as const) {
      if (!wanted.includes(ss)) continue;
      const main = ss === 'shadow-slots';
      const a: TargetCheck = { name: `S1 ${L} ${ss}/raw`, measured: ratio(s1(ss), s1('raw')), limit: 1.05, op: 'le', unit: '' };
      const b: TargetCheck = { name: `S1 ${L} ${ss}/rsnapshot`, measured: ratio(s1(ss), s1('rsnapshot')), limit: 0.75, op: 'le', unit: '' };
      const c: TargetCheck = { name: `S2 ${L} ${ss} S2/S1`, measured: ratio(s2(ss), s1(ss)), limit: 1.05, op: 'le', unit: '' };
      const d: TargetCheck = { name: `S2 ${L} ${ss}/raw S2`, measured: ratio(s2(ss), s2('raw')), limit: 1, op: 'lt', unit: '' };
      targets.push(a, b, c, d);
      if (main) primary.push(a, b, c, d);
    }
    const p = primary.filter((t) => t.name.includes(` ${L} `));
    const tail = (key: string): string => p.filter((t) => t.name.startsWith(key)).map((t) => `${t.name.replace(`${key} ${L} `, '')} ${formatNumber(t.measured)} ${verdict(t)}`).join(', ');
    lines.push(`S1 incremental 1% ${L} files, ring not full: ${cells(r, 's1')} → ${tail('S1') || 'no shadow-slots ratio'}`);
    lines.push(`S2 incremental 1% ${L} files, full ring (time to slot 0): ${cells(r, 's2')} → ${tail('S2') || 'no shadow-slots ratio'}`);
    lines.push(`S3 no change ${L} files: ${cells(r, 's3')} → shadow-slots/raw ${formatNumber(ratio(s3('shadow-slots'), s3('raw')))}`);
  }
  // Scenario 4 at the largest size measured (200k in a full run).
  const big = all[all.length - 1];
  if (big) {
    const rssMb = med(big.s1['shadow-slots'], (m) => m.peakRssKb) / 1024;
    const worst = big.s1['shadow-slots']?.valid.reduce((mx, m) => Math.max(mx, m.peakRssKb ?? 0), 0) ?? Number.NaN;
    const t: TargetCheck = { name: `S4 ${sizeLabel(big.files)} peak RSS`, measured: worst / 1024, limit: 100, op: 'le', unit: ' MB' };
    targets.push(t); primary.push(t);
    lines.push(`S4 engine peak RSS during S1, ${sizeLabel(big.files)} files: median ${formatNumber(rssMb)} MB, max ${formatNumber(worst / 1024)} MB → max/100 MB ${formatNumber(ratio(worst / 1024, 100))} ${verdict(t)}`);
  }
  const lm = typeof listing === 'string' ? Number.NaN : listing.medianMs;
  const t5: TargetCheck = { name: 'S5 listing 10,000 entries', measured: lm, limit: 150, op: 'le', unit: ' ms' };
  targets.push(t5); primary.push(t5);
  lines.push(typeof listing === 'string'
    ? `S5 listing a slot folder of 10,000 entries: not run (${listing}) → NOT RUN`
    : `S5 listing a slot folder of ${listing.entries} entries (listSlotDirectory): median ${formatNumber(listing.medianMs)} ms, first call ${formatNumber(listing.firstMs)} ms → /150 ms ${formatNumber(ratio(listing.medianMs, 150))} ${verdict(t5)}`);
  return { lines, targets, primary };
}

function markdown(all: SizeResults[], listing: ListingResult | string, machine: Record<string, string>, rep: Report): string {
  const out: string[] = [];
  out.push(`Run: ${new Date().toISOString()}, ${quick ? 'quick' : 'full'}, ${rounds} rounds per scenario, seed ${seed}, contenders in alternating order; times are medians of the runs whose slot passed the content check.`, '');
  out.push('| | ' + wanted.join(' | ') + ' |', '|---|' + wanted.map(() => '---:').join('|') + '|');
  for (const r of all) {
    const L = sizeLabel(r.files);
    out.push(`| seed (full copy) ${L} | ${wanted.map((n) => (r.notRun[n] ? 'not run' : formatMs(r.seedMs[n] ?? Number.NaN))).join(' | ')} |`);
    for (const [key, label] of [['s1', 'S1 1 % changed, ring not full'], ['s2', 'S2 1 % changed, full ring (to slot 0)'], ['s3', 'S3 no change']] as const) {
      out.push(`| ${label} ${L} | ${wanted.map((n) => cell(r[key][n], r.notRun[n])).join(' | ')} |`);
    }
    for (const [key, label] of [['s1', 'S1'], ['s2', 'S2'], ['s3', 'S3']] as const) {
      out.push(`| ${label} CPU user+sys ${L} | ${wanted.map((n) => (r.notRun[n] ? 'not run' : formatMs(med(r[key][n], (m) => m.cpuMs)))).join(' | ')} |`);
    }
    if (wanted.some((n) => n.startsWith('shadow-slots') && !r.notRun[n])) {
      out.push(`| S2 process total incl. drop ${L} | ${wanted.map((n) => (r.notRun[n] ? 'not run' : formatMs(med(r.s2[n], (m) => m.totalMs)))).join(' | ')} |`);
    }
  }
  out.push('', ...all.map((r) => `${sizeLabel(r.files)} files (${(r.bytes / 1024 ** 2).toFixed(0)} MB): source ${r.sourceFs}; targets ${r.targetFs}; load average ${r.load[0].toFixed(1)} at start, ${r.load[1].toFixed(1)} at end.`));
  out.push('', '| target | measured | limit | verdict |', '|---|---:|---:|---|');
  for (const t of rep.targets) out.push(`| ${t.name} | ${formatNumber(t.measured)}${t.unit} | ${t.op === 'le' ? '≤' : '<'} ${formatNumber(t.limit)}${t.unit} | ${verdict(t)} |`);
  if (typeof listing !== 'string') out.push('', `S5: ${listing.entries} entries, median ${formatNumber(listing.medianMs)} ms over ${listing.samples} calls, first call ${formatNumber(listing.firstMs)} ms.`);
  const phases = all.flatMap((r) => (['shadow-slots', 'shadow-slots-btrfs'] as const).flatMap((n) => (['s1', 's2', 's3'] as const).map((k) => {
    const s = r[k][n];
    if (!s || s.valid.length === 0) return '';
    const keys = [...new Set(s.valid.flatMap((m) => Object.keys(m.phases ?? {})))];
    return `| ${n} ${k.toUpperCase()} ${sizeLabel(r.files)} | ${keys.map((p) => `${p} ${formatMs(median(s.valid.map((m) => m.phases?.[p] ?? 0)))}`).join(', ')} |`;
  }))).filter(Boolean);
  if (phases.length) out.push('', 'Engine time by phase (median, from the arrival of its progress events):', '', '| run | phases |', '|---|---|', ...phases);
  out.push('', 'Machine:', '', '```');
  for (const [k, v] of Object.entries(machine)) out.push(`${k}: ${v.includes('\n') ? `\n${v}` : v}`);
  out.push('```');
  return out.join('\n') + '\n';
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
  let listing: ListingResult | string = 'not measured';
  const machine = await describeMachine(benchWork);
  await mkdir(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const kind = quick ? 'quick' : 'full';
  // Written after every size, so a long run that is interrupted still leaves what it measured.
  const save = async (): Promise<Report> => {
    const rep = report(all, listing);
    await writeFile(join(resultsDir, `${kind}-${stamp}.json`), JSON.stringify({ sizes: all, listing, machine, targets: rep.targets.map((t) => ({ ...t, verdict: verdict(t) })) }, null, 2));
    await writeFile(join(resultsDir, `${kind}-latest.md`), markdown(all, listing, machine, rep));
    return rep;
  };
  try {
    for (const n of sizes) {
      all.push(await runSize(n, scratch, engineMissing, btrfsOk, loopOk));
      // Each size gets fresh file systems; release the previous ones first (disk and loop devices).
      await scratch.release({ keepImages: args.keep });
      if (!args.keep) await rm(join(workRoot, `n${n}`), { recursive: true, force: true });
      await save();
    }
    try {
      const dir = await makeListingFolder(join(workRoot, 'listing'), 10_000);
      listing = await measureListing(dir, 10_000);
    } catch (e) {
      if (signal.aborted) throw e;
      listing = String(e instanceof Error ? e.message : e);
    }
  } finally {
    await scratch.release({ keepImages: args.keep });
    if (!args.keep) await rm(workRoot, { recursive: true, force: true });
    else log(`bench: kept ${workRoot} (images can be loop-mounted: mount -o loop,ro IMAGE DIR)`);
  }
  const rep = await save();
  process.stdout.write(`\n${rep.lines.join('\n')}\n\nTargets:\n${rep.targets.map((t) => `  ${formatTarget(t)}`).join('\n')}\n`);
  process.stdout.write(`\nbench: finished in ${formatMs(performance.now() - started)}\n`);
  log(`bench: results in ${resultsDir}`);
  return rep.primary.some((t) => verdict(t) === 'MISS') ? 1 : 0;
}

main().then(
  (code) => { process.exitCode = signal.aborted ? 130 : code; },
  (e: unknown) => {
    process.stderr.write(`bench: ${signal.aborted ? 'interrupted' : `failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`}\n`);
    process.exitCode = signal.aborted ? 130 : 1;
  },
);
