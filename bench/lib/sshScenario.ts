/**
 * Scenario S7 (issue 15): a ring on a server over SSH. A real OpenSSH sshd on 127.0.0.1 with keys
 * made for the run (test/helpers/sshd.ts), 20,000 files, 1 % changed per pair, the ring not full.
 * Shadow Slots backs up to `ssh://…` through its CLI; the anchor is the recipe done by hand over
 * the same sshd: one `ssh` that rotates the numbered folders, then a plain
 * `rsync -a --delete --link-dest` over ssh. Both run once per pair on the same change, in
 * alternating order; the ratio is taken per pair (machine load drifts between pairs, much less
 * within one) and its median is the figure. The "server" is this machine, so each slot is checked
 * against the source as the local scenarios do.
 */
import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/platform/runner';
import { shQuote } from '../../src/core/posixQuote';
import { startSshd, sshdUnavailable, type TestSshd } from '../../test/helpers/sshd';
import { ShadowSlotsCli, type Measure } from './contenders';
import { applyMutation, planMutation } from './mutate';
import { median } from './stats';
import { contentPool, MEAN_FILE_BYTES, planTree, writeTree } from './tree';
import { checkSlot } from './verify';

const SLOTS = 16;

export interface SshPair { ours: Measure; raw: Measure; ratio: number; totalRatio: number; oursFirst: boolean }

export interface SshResult {
  files: number;
  pairs: SshPair[];
  /** Runs whose slot did not match the source (their pair is left out). */
  invalid: string[];
  /** Median of the per-pair ratios, time to slot 0 complete (the engine's `complete` event). */
  medianRatio: number;
  /** The same for the engine's whole process (its checksums after `complete` included). */
  medianTotalRatio: number;
  seedMs: { ours: number; raw: number };
  load: [number, number];
}

/** The raw recipe over SSH: rotation by one remote `sh` command, then rsync -a --link-dest. */
class RawOverSsh {
  constructor(private readonly source: string, private readonly ring: string, private readonly sshd: TestSshd) {}

  private get ssh(): string[] {
    return ['-F', this.sshd.configFile, '-o', 'BatchMode=yes', '-p', String(this.sshd.port)];
  }

  async backup(signal: AbortSignal): Promise<Measure> {
    const t0 = performance.now();
    // The ring's path is the only value in the script, quoted by the engine's own function.
    const rotate = `cd -- ${shQuote(this.ring)} || exit 2\nrm -rf ${SLOTS - 1}\ni=${SLOTS - 2}\nwhile [ "$i" -ge 0 ]; do [ ! -d "$i" ] || mv "$i" "$((i + 1))"; i=$((i - 1)); done`;
    await run('ssh', [...this.ssh, `${this.sshd.user}@127.0.0.1`, rotate], { signal });
    // rsync splits -e on spaces: the config path (a temp folder without spaces) and port are plain.
    await run('rsync', ['-a', '-s', '--delete', `--link-dest=${this.ring}/1`, '-e', ['ssh', ...this.ssh].join(' '),
      `${this.source}/`, `${this.sshd.user}@127.0.0.1:${this.ring}/0/`], { signal, okExitCodes: [0, 24] });
    const ms = performance.now() - t0;
    return { toCompleteMs: ms, totalMs: ms };
  }
}

export interface SshScenarioOptions {
  dir: string;
  files: number;
  pairs: number;
  seed: number;
  cli: string;
  probe: string;
  signal: AbortSignal;
  log: (s: string) => void;
}

/** Why S7 cannot run here, or null. */
export function sshScenarioUnavailable(): string | null {
  return sshdUnavailable();
}

export async function measureOverSsh(o: SshScenarioOptions): Promise<SshResult> {
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const sshd = await startSshd({ after: (fn) => cleanups.push(fn) });
    const source = join(o.dir, 'source');
    const oursRing = join(o.dir, 'shadow-slots');
    const rawRing = join(o.dir, 'raw');
    await mkdir(oursRing, { recursive: true });
    await mkdir(rawRing, { recursive: true });
    let plan = planTree({ files: o.files, totalBytes: o.files * MEAN_FILE_BYTES, seed: o.seed });
    const pool = contentPool(o.seed);
    await writeTree(source, plan, pool, o.signal);
    const ours = new ShadowSlotsCli(source, oursRing, { cli: o.cli, probe: o.probe, snapshot: 'none', targetArg: sshd.target(oursRing), env: sshd.env });
    const raw = new RawOverSsh(source, rawRing, sshd);
    const checked = async (name: string, ring: string, m: Promise<Measure>): Promise<{ m: Measure; problem: string }> => {
      const measure = await m;
      const check = await checkSlot(source, join(ring, '0'), plan.files.length, o.signal);
      return { m: measure, problem: check.ok ? '' : `${name}: slot differs from source (${check.files}/${check.expectedFiles} files; ${check.differences.join(' | ')})` };
    };
    const load0 = loadavg()[0]!;
    // Seed: the first full copy of each, untimed for the ratio (no --link-dest to use yet).
    await run('sync', [], { signal: o.signal });
    const seedOurs = await checked('shadow-slots', oursRing, ours.backup(o.signal));
    const seedRaw = await checked('raw over ssh', rawRing, raw.backup(o.signal));
    for (const s of [seedOurs, seedRaw]) if (s.problem) throw new Error(`first backup over SSH is not a correct copy: ${s.problem}`);
    o.log(`  S7 seed  shadow-slots ${Math.round(seedOurs.m.toCompleteMs)} ms, raw over ssh ${Math.round(seedRaw.m.toCompleteMs)} ms`);
    const pairs: SshPair[] = [];
    const invalid: string[] = [];
    for (let p = 0; p < o.pairs; p++) {
      plan = await applyMutation(source, plan, planMutation(plan.files, plan.dirs, p + 1, o.seed), pool, o.signal);
      const oursFirst = p % 2 === 0;
      const results: Record<'ours' | 'raw', { m: Measure; problem: string }> = {} as never;
      for (const who of oursFirst ? ['ours', 'raw'] as const : ['raw', 'ours'] as const) {
        await run('sync', [], { signal: o.signal });
        results[who] = who === 'ours' ? await checked('shadow-slots', oursRing, ours.backup(o.signal)) : await checked('raw over ssh', rawRing, raw.backup(o.signal));
      }
      const problems = [results.ours.problem, results.raw.problem].filter(Boolean);
      const pair: SshPair = {
        ours: results.ours.m, raw: results.raw.m, oursFirst,
        ratio: results.ours.m.toCompleteMs / results.raw.m.toCompleteMs,
        totalRatio: results.ours.m.totalMs / results.raw.m.toCompleteMs,
      };
      if (problems.length) invalid.push(...problems); else pairs.push(pair);
      o.log(`  S7 p${p + 1}   shadow-slots ${Math.round(pair.ours.toCompleteMs)} ms (process ${Math.round(pair.ours.totalMs)} ms), raw over ssh ${Math.round(pair.raw.toCompleteMs)} ms → ${pair.ratio.toFixed(2)}${oursFirst ? '' : ' (raw first)'}${problems.length ? ` INVALID: ${problems.join('; ')}` : ''}`);
    }
    return {
      files: o.files, pairs, invalid,
      medianRatio: median(pairs.map((p) => p.ratio)),
      medianTotalRatio: median(pairs.map((p) => p.totalRatio)),
      seedMs: { ours: seedOurs.m.toCompleteMs, raw: seedRaw.m.toCompleteMs },
      load: [load0, loadavg()[0]!],
    };
  } finally {
    for (const fn of cleanups.reverse()) await fn();
  }
}
