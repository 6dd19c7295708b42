// `npm run bench:targets` (and the second half of `npm run bench`): what each kind of target costs (issues 13 and 14), measured against
// the recipe (rsync --link-dest, then its own `sync`) in the same run. Two scenarios:
//   T1 a 256 MiB disk image with 1 MiB rewritten per night (one run at a random offset, as issue 13
//      measures, or --scattered: 256 blocks of 4 KiB, as a VM's night looks): bytes each new
//      slot adds to its file system, and time, for hard-linked slots (the recipe, the engine's
//      links mode), btrfs copy-on-write slots and ZFS copy-on-write slots (zfs-fuse);
//   T2 a tree of --files files (default 200,000) with 1 % changed per night, btrfs to btrfs: the
//      recipe, the engine's copy-on-write slots filled by rsync, and btrfs send/receive.
// Every round runs all contenders as whole processes, in an order that rotates per round; each
// contender's figure is divided by the recipe's of the same round, and the report gives the median
// of those per-round ratios over at least 7 rounds, with every pair.
import { mkdtemp, open, rename, rm, writeFile, mkdir } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { run } from '../src/platform/runner';
import { btrfsDisk, zfsUsedBytes } from './lib/disks';
import { createRng, fillRandom, subSeed } from './lib/random';
import { median } from './lib/stats';
import { contentPool, planTree, writeTree, MEAN_FILE_BYTES, type TreePlan } from './lib/tree';
import { applyMutation, planMutation } from './lib/mutate';
import { makeZfsPool, startZfsDaemon, stopZfsDaemon, zfsUnavailable, type ZfsPool } from '../test/helpers/zfsPool';

const SLOTS = 16;
const SEED = 20261203;
const IMAGE_BLOCK = 4096;
/** 1 MiB per night, either contiguous or scattered. */
const BLOCKS_PER_NIGHT = 256;
const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');

interface Contender {
  name: string;
  /** Runs one backup as a whole process; returns its wall time in ms. */
  backup(): Promise<number>;
  /** Bytes the contender's file system holds now. */
  used(): Promise<number>;
}

interface Round { ms: Record<string, number>; bytes: Record<string, number> }

/** The recipe: rotate (delete the oldest, rename the rest), rsync --link-dest into 0, then sync. */
function recipe(name: string, source: string, ring: string, used: () => Promise<number>, signal: AbortSignal): Contender {
  return {
    name,
    used,
    async backup() {
      const t0 = performance.now();
      await mkdir(ring, { recursive: true });
      if (existsSync(join(ring, String(SLOTS - 1)))) await run('rm', ['-rf', join(ring, String(SLOTS - 1))], { signal });
      for (let i = SLOTS - 2; i >= 0; i--) if (existsSync(join(ring, String(i)))) await rename(join(ring, String(i)), join(ring, String(i + 1)));
      const linkDest = existsSync(join(ring, '1')) ? [`--link-dest=${join(ring, '1')}`] : [];
      await run('rsync', ['-rtDx', '--delete', ...linkDest, `${source}/`, `${join(ring, '0')}/`], { okExitCodes: [0, 24], signal });
      await run('sync', [], { signal });
      return performance.now() - t0;
    },
  };
}

/** Where one engine run's time went: ms from spawn to each phase's start, and to the exit. */
type PhaseTimes = Record<string, number>;

/**
 * The engine through its CLI; `expect` checks how the slot was made (a contender that silently fell back measures the wrong thing).
 * With `phases`, the run is verbose and each phase's start is timed as its progress line arrives (stdout is a pipe: written synchronously).
 */
function engine(name: string, source: string, ring: string, extra: string[], used: () => Promise<number>, expect: (out: string) => string | null, signal: AbortSignal, phases?: PhaseTimes[]): Contender {
  return {
    name,
    used,
    async backup() {
      const times: PhaseTimes = {};
      let out = '';
      let rest = '';
      const t0 = performance.now();
      const onStdout = (chunk: string): void => {
        const now = performance.now() - t0;
        out += chunk;
        const lines = (rest + chunk).split('\n');
        rest = lines.pop()!;
        for (const line of lines) {
          if (!phases || !line.startsWith('{"type":"progress"') && !line.startsWith('{"type":"log"')) continue;
          const event = JSON.parse(line) as { type: string; phase?: string; message?: string };
          if (event.type === 'progress' && event.phase && times[event.phase] === undefined) times[event.phase] = now;
          const command = /^> (.*) \[(\d+)ms\]/.exec(event.message ?? '');
          // A command's words without its paths: the same key in every run.
          if (command) { const key = `  ${command[1]!.split(' ').filter((w) => !w.includes('/') && !w.startsWith("'")).join(' ')}`; times[key] = (times[key] ?? 0) + Number(command[2]); }
          if (/^Checksums (by walking|from)/.test(event.message ?? '')) times[`finalize: ${/^Checksums (by walking the slot|from [^:]+)/.exec(event.message!)![1]} done`] = now;
        }
      };
      await run(process.execPath, [cli, 'backup', '--source', source, '--target', ring, '--slots', String(SLOTS), '--json', ...(phases ? ['--verbose'] : []), ...extra], { onStdout, signal });
      const ms = performance.now() - t0;
      times['exit'] = ms;
      phases?.push(times);
      const problem = expect(out);
      if (problem) throw new Error(`${name}: ${problem}`);
      return ms;
    },
  };
}

/** Markdown lines: the median time from spawn to each phase's start, over the timed rounds (the untimed first backup left out). */
function phaseTable(title: string, runs: PhaseTimes[]): string[] {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r)))].filter((n) => !n.startsWith('  ')).sort((a, b) => median(runs.map((r) => r[a] ?? Number.NaN).filter(Number.isFinite)) - median(runs.map((r) => r[b] ?? Number.NaN).filter(Number.isFinite)));
  const lines = [`### ${title}`, '', '| from spawn to | median s | per round |', '|---|---|---|'];
  const row = (n: string) => `| ${n.trim().replace(/\|/g, '\\|')} | ${(median(runs.map((r) => r[n] ?? Number.NaN).filter(Number.isFinite)) / 1000).toFixed(2)} | ${runs.map((r) => (r[n] === undefined ? '-' : (r[n] / 1000).toFixed(2))).join(', ')} |`;
  for (const n of names) lines.push(row(n));
  lines.push('', '| command (summed per run) | median s | per round |', '|---|---|---|');
  for (const n of [...new Set(runs.flatMap((r) => Object.keys(r)))].filter((k) => k.startsWith('  ')).sort()) lines.push(row(n));
  return [...lines, ''];
}

const sentBySend = (out: string) => (out.includes('"method":"btrfs-send"') ? null : 'the slot was not made by btrfs send/receive');
const notSent = (out: string) => (out.includes('"method":"btrfs-send"') ? 'the slot was made by btrfs send, not rsync' : null);
const storedAs = (kind: string) => (out: string) => (out.includes(`"storage":{"kind":"${kind}"`) ? null : `the slot is not stored as ${kind}`);

/** Rewrites 1 MiB of the image in place: one run at a random 4 KiB-aligned offset, or BLOCKS_PER_NIGHT scattered blocks. */
async function touchImage(image: string, round: number, sizeBytes: number, scattered: boolean): Promise<void> {
  const rng = createRng(subSeed(SEED, 7, round));
  const fh = await open(image, 'r+');
  try {
    const block = Buffer.alloc(IMAGE_BLOCK);
    const blocks = sizeBytes / IMAGE_BLOCK;
    const start = rng.int(blocks - BLOCKS_PER_NIGHT);
    for (let i = 0; i < BLOCKS_PER_NIGHT; i++) {
      fillRandom(block, subSeed(SEED, 8, round, i));
      await fh.write(block, 0, IMAGE_BLOCK, (scattered ? rng.int(blocks) : start + i) * IMAGE_BLOCK);
    }
  } finally {
    await fh.close();
  }
}

async function writeImage(image: string, sizeBytes: number): Promise<void> {
  const fh = await open(image, 'w');
  try {
    const chunk = Buffer.alloc(4 * 1024 * 1024);
    for (let off = 0, i = 0; off < sizeBytes; off += chunk.length, i++) await fh.write(fillRandom(chunk, subSeed(SEED, 9, i)), 0, Math.min(chunk.length, sizeBytes - off));
  } finally {
    await fh.close();
  }
}

/**
 * One untimed first backup per contender, then `rounds` rounds: change the source, run every
 * contender (order rotated per round), record its time and the bytes its file system gained.
 */
async function measure(contenders: Contender[], rounds: number, change: (round: number) => Promise<void>, log: (s: string) => void): Promise<Round[]> {
  for (const c of contenders) { log(`  first backup: ${c.name}`); await c.backup(); }
  const out: Round[] = [];
  for (let round = 1; round <= rounds; round++) {
    await change(round);
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!);
    const r: Round = { ms: {}, bytes: {} };
    for (const c of order) {
      const before = await c.used();
      r.ms[c.name] = await c.backup();
      r.bytes[c.name] = (await c.used()) - before;
    }
    log(`  round ${round}: ${contenders.map((c) => `${c.name} ${(r.ms[c.name]! / 1000).toFixed(2)} s, ${mib(r.bytes[c.name]!)}`).join(' · ')}`);
    out.push(r);
  }
  return out;
}

const mib = (b: number) => `${(b / 1048576).toFixed(2)} MiB`;
const fixed = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** Markdown lines: per contender its median time and bytes, and the median per-round ratio to the anchor with every pair. */
function table(title: string, rounds: Round[], names: string[], anchor: string): string[] {
  const lines = [`### ${title}`, '', `| contender | median time | median bytes per slot | time ÷ ${anchor} (median of per-round ratios) | bytes ÷ ${anchor} | per-round time pairs (contender s / ${anchor} s) |`, '|---|---|---|---|---|---|'];
  for (const n of names) {
    const times = rounds.map((r) => r.ms[n]!);
    const bytes = rounds.map((r) => r.bytes[n]!);
    const tRatios = rounds.map((r) => r.ms[n]! / r.ms[anchor]!);
    const bRatios = rounds.map((r) => (r.bytes[anchor]! > 0 ? r.bytes[n]! / r.bytes[anchor]! : Number.NaN));
    const pairs = rounds.map((r) => `${(r.ms[n]! / 1000).toFixed(2)}/${(r.ms[anchor]! / 1000).toFixed(2)}`).join(', ');
    lines.push(`| ${n} | ${(median(times) / 1000).toFixed(2)} s | ${mib(median(bytes))} | ${n === anchor ? '1' : fixed(median(tRatios))} | ${n === anchor ? '1' : fixed(median(bRatios))} | ${n === anchor ? '' : pairs} |`);
  }
  return [...lines, ''];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    files: { type: 'string' }, rounds: { type: 'string', default: '7' },
    'image-mib': { type: 'string' }, only: { type: 'string' }, quick: { type: 'boolean' }, scattered: { type: 'boolean' }, phases: { type: 'boolean' }, help: { type: 'boolean' },
  } });
  if (values.help) { console.log('npm run bench:targets -- [--quick (20,000 files, a 64 MiB image)] [--files N] [--rounds N ≥ 7] [--image-mib N] [--scattered] [--only T1|T2] [--phases (T2: where send/receive\'s time goes, from its verbose log)]'); return; }
  const files = Number(values.files ?? (values.quick ? 20_000 : 200_000));
  const rounds = Number(values.rounds);
  const imageBytes = Number(values['image-mib'] ?? (values.quick ? 64 : 256)) * 1048576;
  if (!Number.isInteger(files) || files < 100) throw new Error(`--files must be a whole number ≥ 100, got ${values.files}`);
  if (!Number.isInteger(rounds) || rounds < 7) throw new Error(`--rounds must be a whole number ≥ 7 (the median of fewer pairs says little on a noisy machine), got ${values.rounds}`);
  if (!Number.isInteger(imageBytes / IMAGE_BLOCK) || imageBytes < 16 * 1048576) throw new Error(`--image-mib must be a whole number ≥ 16, got ${values['image-mib']}`);
  if (process.getuid?.() !== 0) throw new Error('the target benchmark mounts btrfs loop file systems: run it as root');
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: npm run bench:targets builds it first');
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const work = await mkdtemp(join(tmpdir(), 'shadow-slots-bench-targets-'));
  const cleanups: Array<() => Promise<void> | void> = [];
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const report: string[] = ['# Target kinds benchmark', '', `${new Date().toISOString()} · ${rounds} rounds · per-round ratios against the recipe (rsync --link-dest + sync), whole processes, order rotated per round`, ''];
  try {
    if (values.only !== 'T2') {
      const scattered = values.scattered === true;
      const changed = scattered ? `${BLOCKS_PER_NIGHT} scattered blocks of 4 KiB` : '1 MiB at a random offset';
      log(`T1: a ${mib(imageBytes)} disk image, ${changed} rewritten per night`);
      const src = await btrfsDisk(work, 't1-src', 2); cleanups.push(() => src.release());
      const dst = await btrfsDisk(work, 't1-dst', Math.ceil((imageBytes * (2 * (rounds + 2)) + imageBytes * 4) / 2 ** 30) + 2); cleanups.push(() => dst.release());
      await mkdir(join(src.mount, 'vm'));
      await writeImage(join(src.mount, 'vm', 'disk.img'), imageBytes);
      await writeFile(join(src.mount, 'vm', 'notes.txt'), 'a VM whose disk image changes a little every night\n');
      const source = join(src.mount, 'vm');
      const contenders: Contender[] = [
        recipe('recipe', source, join(dst.mount, 'recipe'), () => dst.usedBytes(), stop.signal),
        engine('engine-links', source, join(dst.mount, 'links'), ['--snapshot', 'none', '--target-mode', 'links', '--create-target'], () => dst.usedBytes(), storedAs('links'), stop.signal),
        engine('engine-btrfs-cow', source, join(dst.mount, 'cow'), ['--snapshot', 'none', '--target-mode', 'cow', '--create-target'], () => dst.usedBytes(), storedAs('btrfs'), stop.signal),
      ];
      const zfsWhy = zfsUnavailable();
      let pool: ZfsPool | undefined;
      if (zfsWhy === null) {
        startZfsDaemon();
        cleanups.push(() => stopZfsDaemon());
        pool = makeZfsPool(work, Math.ceil((imageBytes * 3) / 1048576) + 256, 't1-zfs');
        cleanups.push(() => pool!.cleanup());
        const p = pool;
        contenders.push(engine('engine-zfs-cow', source, join(p.mountPoint, 'ring'), ['--snapshot', 'none', '--target-mode', 'cow', '--create-target'], () => zfsUsedBytes(p.name), storedAs('zfs'), stop.signal));
      } else {
        log(`  ZFS contender not run: ${zfsWhy}`);
      }
      const t1 = await measure(contenders, rounds, (round) => touchImage(join(source, 'disk.img'), round, imageBytes, scattered), log);
      report.push(...table(`T1 · ${mib(imageBytes)} disk image, ${changed} rewritten per night (bytes: what the target file system gained per slot)`, t1, contenders.map((c) => c.name), 'recipe'));
      if (zfsWhy !== null) report.push(`ZFS contender not run: ${zfsWhy}`, '');
    }
    if (values.only !== 'T1') {
      stop.signal.throwIfAborted();
      log(`T2: ${files.toLocaleString('en-US')} files, 1 % changed per night, btrfs → btrfs`);
      const treeBytes = files * MEAN_FILE_BYTES;
      const gib = Math.ceil((treeBytes * 2) / 2 ** 30) + 2;
      const src = await btrfsDisk(work, 't2-src', gib); cleanups.push(() => src.release());
      // Three full copies, then each slot's changed files and, for the recipe, a whole new set of hard links (metadata, twice: btrfs keeps metadata DUP).
      const dst = await btrfsDisk(work, 't2-dst', Math.ceil((treeBytes * 8) / 2 ** 30) + 8); cleanups.push(() => dst.release());
      const source = join(src.mount, 'home');
      await run('btrfs', ['subvolume', 'create', source]);
      let plan: TreePlan = planTree({ files, totalBytes: treeBytes, seed: SEED });
      const pool = contentPool(SEED);
      log('  writing the tree');
      await writeTree(source, plan, pool, stop.signal);
      const phases: PhaseTimes[] | undefined = values.phases ? [] : undefined;
      const contenders: Contender[] = [
        recipe('recipe', source, join(dst.mount, 'recipe'), () => dst.usedBytes(), stop.signal),
        // An exclude that matches nothing: btrfs send cannot apply one, so the engine copies with rsync.
        engine('engine-cow-rsync', source, join(dst.mount, 'cow-rsync'), ['--snapshot', 'btrfs', '--target-mode', 'cow', '--create-target', '--exclude', '/.bench-matches-nothing'], () => dst.usedBytes(), notSent, stop.signal),
        engine('engine-send-receive', source, join(dst.mount, 'send'), ['--snapshot', 'btrfs', '--target-mode', 'cow', '--create-target'], () => dst.usedBytes(), sentBySend, stop.signal, phases),
      ];
      const t2 = await measure(contenders, rounds, async (round) => {
        plan = await applyMutation(source, plan, planMutation(plan.files, plan.dirs, round, SEED), pool, stop.signal);
      }, log);
      report.push(...table(`T2 · ${files.toLocaleString('en-US')} files (${mib(treeBytes)}), 1 % changed per night, btrfs → btrfs (goal: send/receive ≤ 0.2 × the recipe's time)`, t2, contenders.map((c) => c.name), 'recipe'));
      const sendRatio = median(t2.map((r) => r.ms['engine-send-receive']! / r.ms['recipe']!));
      report.push(`send/receive ÷ recipe, median per-round time ratio: ${fixed(sendRatio)} → ${sendRatio <= 0.2 ? 'PASS' : 'MISS'} (goal ≤ 0.2)`, '');
      if (phases) report.push(...phaseTable('Where engine-send-receive\'s time goes (verbose run; the untimed first backup left out)', phases.slice(1)));
      if (!(sendRatio <= 0.2)) process.exitCode = 1;
    }
    const text = report.join('\n');
    console.log(text);
    const out = join(import.meta.dirname, '.work', 'results');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'targets-latest.md'), `${text}\n`);
  } finally {
    for (const c of cleanups.reverse()) { try { await c(); } catch (error) { log(`cleanup: ${(error as Error).message}`); } }
    // rm would delete through a mount that could not be released: leave the folder then, and say so.
    if (readFileSync('/proc/mounts', 'utf8').includes(work)) log(`${work} still has a mount; not deleted`);
    else await rm(work, { recursive: true, force: true }).catch(() => undefined);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

await main();
