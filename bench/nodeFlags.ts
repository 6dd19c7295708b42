/**
 * Peak RSS, CPU and wall time of the engine started with different node flags (issue 16's memory
 * target): one tree of small files, one full ring of 16, 1 % appended to before every run, the
 * variants alternated round by round. Each variant is a launcher: a node argv prefix before the
 * bundled CLI, or `exec` (the CLI run as an executable, through its shebang, as `bin` installs it).
 * Usage (after npm run build; bundled the way bench/run.mjs bundles its entries):
 *   npx esbuild bench/nodeFlags.ts --bundle --platform=node --format=esm --packages=external \
 *     --outfile=bench/.work/flags.mjs "--define:import.meta.dirname=\"$PWD/bench\""
 *   node bench/.work/flags.mjs [--files 200000] [--rounds 3] [--keep]
 *     [--variant name=flag,flag … | --variant name=exec] (default: none and the four flags of
 *     BENCHMARKS.md; `exec` runs dist/cli.js through its shebang)
 * Progress to stderr, one JSON line per run to stdout: peak RSS and CPU of the engine's own node
 * process (bench/hwm-probe.cjs), CPU of the whole tree with rsync (GNU time), wall time.
 */
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { run } from '../src/platform/runner';
import { purgeIdle } from '../src/engine/purge';
import { RingStore } from '../src/platform/ringStore';
import { ShadowSlotsCli } from './lib/contenders';
import { applyMutation, planMutation } from './lib/mutate';
import { contentPool, planTree, writeTree } from './lib/tree';

const repo = resolve(import.meta.dirname ?? '.', '..');
const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
    seed: { type: 'string', default: '20261204' },
    variant: { type: 'string', multiple: true },
    keep: { type: 'boolean', default: false },
  },
});
const files = Number(args.files);
const rounds = Number(args.rounds);
const seed = Number(args.seed);
const variants: { name: string; flags: string[] | 'exec' }[] = (args.variant ?? ['plain=', 'pool1=--v8-pool-size=1', 'nocr=--no-concurrent-recompilation', 'single=--single-threaded', 'maxopt1=--max-opt=1'])
  .map((v) => {
    const name = v.includes('=') ? v.slice(0, v.indexOf('=')) : v;
    const rest = v.slice(name.length + 1);
    return { name, flags: rest === 'exec' ? 'exec' : rest.split(',').filter(Boolean) };
  });
const log = (s: string): void => { process.stderr.write(`${s}\n`); };

const work = join(repo, 'bench', '.work', `flags-${process.pid}`);
const source = join(work, 'source');
const ringDir = join(work, 'ring');
const cli = join(work, 'engine', 'cli.js');
const probe = join(repo, 'bench', 'hwm-probe.cjs');
const signal = new AbortController().signal;

interface Rec { argv: string[]; execArgv?: string[]; hwmKb: number; cpuMs?: number }

async function records(dir: string): Promise<Rec[]> {
  return Promise.all((await readdir(dir)).map(async (f) => JSON.parse(await readFile(join(dir, f), 'utf8')) as Rec));
}

async function oneRun(v: (typeof variants)[number]): Promise<Record<string, unknown>> {
  const hwmDir = await mkdtemp(join(work, '.hwm-'));
  const timeFile = join(hwmDir, '..', `time-${process.pid}-${Date.now()}`);
  const [cmd, pre] = v.flags === 'exec' ? [cli, []] : [process.execPath, [...v.flags, cli]];
  const argv = [...pre, 'backup', '--source', source, '--target', ringDir, '--slots', '16', '--snapshot', 'none', '--json'];
  await run('sync', [], { signal });
  const load = loadavg()[0]!;
  const t0 = performance.now();
  await run('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, cmd, ...argv], {
    signal, env: { NODE_OPTIONS: `--require=${JSON.stringify(probe)}`, SHADOW_SLOTS_BENCH_HWM_DIR: hwmDir },
  });
  const wallMs = performance.now() - t0;
  const [u, s] = (await readFile(timeFile, 'utf8')).trim().split('\n').pop()!.split(' ').map(Number);
  await rm(timeFile, { force: true });
  // Untimed: the next run must not share the disk with this one's detached purge.
  const ring = new RingStore(ringDir);
  while (!(await purgeIdle(ring))) await sleep(50);
  await sleep(300);
  const recs = await records(hwmDir);
  await rm(hwmDir, { recursive: true, force: true });
  const engine = recs.filter((r) => r.argv.includes('backup'));
  if (engine.length !== 1) throw new Error(`expected one engine record, got ${JSON.stringify(recs)}`);
  const e = engine[0]!;
  return { variant: v.name, load: Number(load.toFixed(2)), peakMb: Number((e.hwmKb / 1024).toFixed(1)), engineCpuMs: e.cpuMs, treeCpuMs: Math.round((u! + s!) * 1000), wallMs: Math.round(wallMs), execArgv: e.execArgv?.filter((a) => !a.startsWith('--require')) };
}

await mkdir(join(work, 'engine'), { recursive: true });
await copyFile(join(repo, 'dist', 'cli.js'), cli);
await chmod(cli, 0o755);
try {
  let plan = planTree({ files, totalBytes: files * 256, seed });
  const pool = contentPool(seed);
  let t = performance.now();
  await writeTree(source, plan, pool, signal);
  log(`tree: ${files} files written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const runs = rounds * variants.length;
  const seedRing = new ShadowSlotsCli(source, join(work, 'seed'), { cli, probe, snapshot: 'none' });
  const full = new ShadowSlotsCli(source, ringDir, { cli, probe, snapshot: 'none' });
  t = performance.now();
  await seedRing.prepare();
  await seedRing.backup(signal);
  await full.prepare();
  await full.fillRing(16, seedRing.slotFolder(0), Math.max(0, 16 - runs - 1), signal);
  await rm(join(work, 'seed'), { recursive: true, force: true });
  log(`ring: filled in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  let round = 0;
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) {
      round++;
      plan = await applyMutation(source, plan, planMutation(plan.files, plan.dirs, round, seed), pool, signal);
      const m = await oneRun(v);
      process.stdout.write(`${JSON.stringify({ round: r + 1, ...m })}\n`);
      log(`r${r + 1} ${JSON.stringify(m)}`);
    }
  }
} finally {
  if (!args.keep) await rm(work, { recursive: true, force: true });
}
