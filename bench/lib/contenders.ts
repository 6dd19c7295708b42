import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../src/platform/runner';
import { purgeIdle } from '../../src/engine/purge';
import { RingStore } from '../../src/platform/ringStore';
import { LineSplitter, parseEngineLine, phaseDurations } from './jsonLines';
import { rsnapshotConf, rsnapshotSlotPath } from './rsnapshotConf';

/** One timed backup. */
export interface Measure {
  /** Wall time from start until slot 0 is complete (the engine: until its `complete` event). */
  toCompleteMs: number;
  /** Wall time of the whole run, including dropping the oldest slot. */
  totalMs: number;
  /**
   * CPU time (user + system) of the run's processes and the children they waited for, from GNU
   * time: less disturbed than wall time when other work shares the machine.
   */
  cpuMs?: number;
  /** Peak RSS (VmHWM) of the engine's own node process, kB; undefined for other contenders. */
  peakRssKb?: number;
  /** Engine only: time per phase from its progress events. */
  phases?: Record<string, number>;
  /** Engine only: the `result` object it printed. */
  result?: Record<string, unknown>;
  /**
   * Engine only: from its exit until its detached purge had deleted the dropped slot (the
   * benchmark waits for it, untimed, so the next run does not share the disk with it).
   */
  purgeMs?: number;
  /** Engine only: peak RSS of that purge process, kB. */
  purgePeakRssKb?: number;
}

export interface Contender {
  readonly name: string;
  /** Creates the contender's target (and config) on the shared target disk. */
  prepare(): Promise<void>;
  backup(signal: AbortSignal): Promise<Measure>;
  /** The newest complete slot's copy of the source. */
  newestSlot(): string;
  slotCount(): Promise<number>;
  /** The folder of slot `i` as the contender's own layout has it (what a hard-link copy copies). */
  slotFolder(i: number): string;
  /**
   * Builds a full ring of `n` slots in this contender's (empty) target without timing, for the
   * full-ring scenario: slot 0 a hard-link copy of `seed` (a slot folder of the same kind of
   * contender), hard-link copies at positions ≥ `realFrom`, empty folders elsewhere. Only the slots
   * the measured rounds will drop need to be real trees (deleting them is what is measured); a
   * rotation renames the others whatever they hold.
   */
  fillRing(n: number, seed: string, realFrom: number, signal: AbortSignal): Promise<void>;
}

const SLOTS = 16;

async function fillSlot(from: string, to: string, real: boolean, signal: AbortSignal): Promise<void> {
  if (await exists(to)) return;
  if (real) await run('cp', ['-al', from, to], { signal });
  else await mkdir(to, { recursive: true });
}

async function fillSlots(n: number, seed: string, realFrom: number, slotFolder: (i: number) => string, signal: AbortSignal): Promise<void> {
  for (let i = 0; i < n; i++) await fillSlot(seed, slotFolder(i), i === 0 || i >= realFrom, signal);
}
const now = (): number => performance.now();
const GNU_TIME = '/usr/bin/time';

/**
 * Runs a command under GNU time (`-o` keeps its report out of the command's own output) and
 * returns the CPU time it and its waited-for children used; undefined where GNU time is missing.
 */
export async function runCounted(cmd: string, argv: string[], options: Parameters<typeof run>[2], cpu: { ms: number | undefined }): Promise<void> {
  if (!(await exists(GNU_TIME))) { cpu.ms = undefined; await run(cmd, argv, options); return; }
  const dir = await mkdtemp(join(tmpdir(), 'bench-time-'));
  try {
    const report = join(dir, 'time');
    await run(GNU_TIME, ['-f', '%U %S', '-o', report, cmd, ...argv], options);
    const [user, sys] = (await readFile(report, 'utf8')).trim().split('\n').pop()!.split(' ').map(Number);
    if (cpu.ms !== undefined && Number.isFinite(user) && Number.isFinite(sys)) cpu.ms += (user! + sys!) * 1000;
    else cpu.ms = undefined;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function exists(p: string): Promise<boolean> {
  try { await stat(p); return true; } catch { return false; }
}

async function numberedDirs(dir: string, pattern: RegExp): Promise<number> {
  let names: string[];
  try { names = await readdir(dir); } catch { return 0; }
  return names.filter((n) => pattern.test(n)).length;
}

/**
 * The original recipe: `sync` (it flushes all buffers before it starts), rotate `15 … 0` (delete
 * 15, rename 14→15 … 0→1), then `rsync -rtDx --delete --link-dest=<target>/1 src/ <target>/0/`.
 * Its own sync and deleting 15 are on its critical path, as they are in real life.
 */
export class RawRecipe implements Contender {
  readonly name = 'raw';
  constructor(private readonly source: string, private readonly target: string) {}
  async prepare(): Promise<void> { await mkdir(this.target, { recursive: true }); }
  newestSlot(): string { return join(this.target, '0'); }
  slotCount(): Promise<number> { return numberedDirs(this.target, /^(0|[1-9]\d*)$/); }

  async backup(signal: AbortSignal): Promise<Measure> {
    const cpu = { ms: 0 as number | undefined };
    const t0 = now();
    await runCounted('sync', [], { signal }, cpu);
    const oldest = join(this.target, String(SLOTS - 1));
    if (await exists(oldest)) await runCounted('rm', ['-rf', oldest], { signal }, cpu);
    for (let i = SLOTS - 2; i >= 0; i--) {
      const from = join(this.target, String(i));
      if (await exists(from)) await rename(from, join(this.target, String(i + 1)));
    }
    await runCounted('rsync', ['-rtDx', '--delete', `--link-dest=${join(this.target, '1')}`, `${this.source}/`, `${join(this.target, '0')}/`], { signal, okExitCodes: [0, 24] }, cpu);
    const ms = now() - t0;
    return { toCompleteMs: ms, totalMs: ms, ...(cpu.ms !== undefined ? { cpuMs: cpu.ms } : {}) };
  }

  slotFolder(i: number): string { return join(this.target, String(i)); }

  async fillRing(n: number, seed: string, realFrom: number, signal: AbortSignal): Promise<void> {
    // Hard-link copies: as costly to delete later as a real slot, cheap to make.
    await fillSlots(n, seed, realFrom, (i) => this.slotFolder(i), signal);
  }
}

/** rsnapshot from Debian, `retain daily 16`, `link_dest 1`, defaults otherwise. */
export class Rsnapshot implements Contender {
  readonly name = 'rsnapshot';
  private readonly conf: string;
  private readonly root: string;
  constructor(private readonly source: string, dir: string) {
    this.root = join(dir, 'snapshots');
    this.conf = join(dir, 'rsnapshot.conf');
  }
  async prepare(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await writeFile(this.conf, rsnapshotConf({ snapshotRoot: this.root, source: this.source, lockfile: join(this.root, '..', 'rsnapshot.pid') }));
    await run('rsnapshot', ['-c', this.conf, 'configtest']);
  }
  newestSlot(): string { return rsnapshotSlotPath(this.root, 0, this.source); }
  slotCount(): Promise<number> { return numberedDirs(this.root, /^daily\.\d+$/); }

  async backup(signal: AbortSignal): Promise<Measure> {
    const cpu = { ms: 0 as number | undefined };
    const t0 = now();
    await runCounted('rsnapshot', ['-c', this.conf, 'daily'], { signal }, cpu);
    const ms = now() - t0;
    return { toCompleteMs: ms, totalMs: ms, ...(cpu.ms !== undefined ? { cpuMs: cpu.ms } : {}) };
  }

  slotFolder(i: number): string { return join(this.root, `daily.${i}`); }

  async fillRing(n: number, seed: string, realFrom: number, signal: AbortSignal): Promise<void> {
    await fillSlots(n, seed, realFrom, (i) => this.slotFolder(i), signal);
  }
}

export interface EngineOptions {
  /** dist/cli.js */
  cli: string;
  /** bench/hwm-probe.cjs: preloaded into the engine's node processes to record their peak RSS. */
  probe: string;
  snapshot: 'none' | 'btrfs';
  /** When set, every engine run writes a V8 CPU profile here. */
  cpuProfDir?: string;
  /** What `--target` says, when not the folder itself (the SSH scenario: `ssh://…` naming it on a local sshd). */
  targetArg?: string;
  /** More environment for the engine (the SSH scenario's client config). */
  env?: Record<string, string>;
}

/**
 * How the benchmark starts the engine: the CLI itself, through its shebang, as npm's `bin` installs
 * it and a user types it, so the engine runs with the node flags its launchers give
 * (ENGINE_NODE_FLAGS, in the shebang) and none of the benchmark's own. A CPU profile needs node's
 * `--cpu-prof`, which NODE_OPTIONS refuses: node is then named, with the shebang's flags before it.
 */
export async function engineLaunch(cli: string, cpuProfDir?: string): Promise<{ command: string; args: string[] }> {
  if (cpuProfDir === undefined) return { command: cli, args: [] };
  return { command: process.execPath, args: [...(await shebangNodeFlags(cli)), '--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, cli] };
}

/** The node flags of a script's `#!/usr/bin/env [-S] node …` line; refuses any other first line. */
export async function shebangNodeFlags(script: string): Promise<string[]> {
  const first = (await readFile(script, 'utf8')).slice(0, 1000).split('\n', 1)[0]!;
  const m = /^#!\/usr\/bin\/env (?:-S )?node((?: [^ ]+)*)$/.exec(first);
  if (!m) throw new Error(`${script} does not start with a "#!/usr/bin/env -S node …" line: ${JSON.stringify(first)}`);
  return m[1]!.split(' ').filter(Boolean);
}

/** Shadow Slots through its CLI: `backup --slots 16 --snapshot … --json`. */
export class ShadowSlotsCli implements Contender {
  readonly name: string;
  constructor(private readonly source: string, private readonly target: string, private readonly opts: EngineOptions) {
    this.name = opts.snapshot === 'none' ? 'shadow-slots' : 'shadow-slots-btrfs';
  }
  /** The ring's folder (the `--target`). */
  get targetFolder(): string { return this.target; }
  async prepare(): Promise<void> { await mkdir(this.target, { recursive: true }); }
  newestSlot(): string { return join(this.target, '0'); }
  slotCount(): Promise<number> { return numberedDirs(this.target, /^(0|[1-9]\d*)$/); }

  async backup(signal: AbortSignal): Promise<Measure> {
    const hwmDir = await mkdtemp(join(this.target, '..', `.hwm-${this.name}-`));
    const ring = new RingStore(this.target);
    const launch = await engineLaunch(this.opts.cli, this.opts.cpuProfDir);
    const argv = [...launch.args, 'backup', '--source', this.source, '--target', this.opts.targetArg ?? this.target,
      '--slots', String(SLOTS), '--snapshot', this.opts.snapshot, '--json'];
    const events: { atMs: number; phase: string }[] = [];
    let completeAt = Number.NaN;
    let result: Record<string, unknown> | undefined;
    const stray: string[] = [];
    const cpu = { ms: 0 as number | undefined };
    const t0 = now();
    const splitter = new LineSplitter((line) => {
      const at = now() - t0;
      const e = parseEngineLine(line);
      if (e === null) { if (line.trim() && stray.length < 5) stray.push(line); return; }
      if (e.type === 'progress') events.push({ atMs: at, phase: e.phase });
      else if (e.type === 'complete' && Number.isNaN(completeAt)) completeAt = at;
      else if (e.type === 'result') result = e.result;
    });
    try {
      await runCounted(launch.command, argv, {
        signal,
        onStdout: (c) => splitter.push(c),
        env: {
          ...this.opts.env,
          // Quoted: NODE_OPTIONS is split on spaces.
          NODE_OPTIONS: `--require=${JSON.stringify(this.opts.probe)}`,
          SHADOW_SLOTS_BENCH_HWM_DIR: hwmDir,
        },
      }, cpu);
      splitter.end();
      const totalMs = now() - t0;
      if (Number.isNaN(completeAt)) throw new Error(`${this.name}: the engine exited 0 without a {"type":"complete"} line${stray.length ? ` (stdout: ${stray.join(' | ')})` : ''}`);
      const purge = await waitForPurge(ring, hwmDir, signal);
      const peak = await peakRss(hwmDir, this.opts.cli);
      return {
        toCompleteMs: completeAt, totalMs, ...(peak.engineKb !== undefined ? { peakRssKb: peak.engineKb } : {}), ...(cpu.ms !== undefined ? { cpuMs: cpu.ms } : {}),
        phases: phaseDurations(events, totalMs), ...(result ? { result } : {}),
        ...(purge.ran ? { purgeMs: purge.ms } : {}), ...(peak.purgeKb !== undefined ? { purgePeakRssKb: peak.purgeKb } : {}),
      };
    } finally {
      await rm(hwmDir, { recursive: true, force: true });
    }
  }

  slotFolder(i: number): string { return join(this.target, String(i)); }

  /**
   * The engine refuses numbered folders its ring.json does not know (they could be someone
   * else's), but adopts a whole seed ring made by the original scripts. So its full ring is built
   * the way a user migrating from the raw recipe has one: the seed slots, then one untimed engine
   * run that adopts them, adds a slot and drops the oldest; the measured runs then rotate a full,
   * recorded ring. (Filling by running the engine twelve times took most of the quick run's minute.)
   */
  async fillRing(n: number, seed: string, realFrom: number, signal: AbortSignal): Promise<void> {
    // The adopting run drops the seed's slot n-1, so the measured rounds drop the ones below it.
    await fillSlots(n, seed, realFrom - 1, (i) => this.slotFolder(i), signal);
    await this.backup(signal);
  }
}

/**
 * Waits (untimed) until the engine's detached purge has deleted the slot the run dropped, and for
 * the purge process's memory record; how long after the engine's exit the purge was done.
 */
async function waitForPurge(ring: RingStore, hwmDir: string, signal: AbortSignal): Promise<{ ran: boolean; ms: number }> {
  const t0 = now();
  let ran = false;
  while (!(await purgeIdle(ring))) {
    ran = true;
    if (signal.aborted) throw new Error('interrupted');
    if (now() - t0 > 600_000) throw new Error(`the purge of ${ring.paths.trash} did not finish within 10 minutes`);
    await sleep(20);
  }
  const ms = now() - t0;
  // Its memory record is written as it exits, just after it released its lock.
  for (let waited = 0; ran && waited < 3000 && !(await hasPurgeRecord(hwmDir)); waited += 20) await sleep(20);
  return { ran: ran || (await hasPurgeRecord(hwmDir)), ms };
}

async function hasPurgeRecord(dir: string): Promise<boolean> {
  for (const f of await readdir(dir)) {
    const rec = JSON.parse(await readFile(join(dir, f), 'utf8')) as { argv: string[] };
    if (rec.argv.includes('purge')) return true;
  }
  return false;
}

/** The peak RSS of the engine's node process(es) (the CLI, any node child) and of its purge. */
async function peakRss(dir: string, cli: string): Promise<{ engineKb?: number; purgeKb?: number }> {
  const out: { engineKb?: number; purgeKb?: number } = {};
  for (const f of await readdir(dir)) {
    const rec = JSON.parse(await readFile(join(dir, f), 'utf8')) as { argv: string[]; hwmKb: number };
    if (!rec.argv.some((a) => a === cli || a.endsWith('.js'))) continue;
    if (rec.argv.includes('purge')) out.purgeKb = Math.max(out.purgeKb ?? 0, rec.hwmKb);
    else out.engineKb = Math.max(out.engineKb ?? 0, rec.hwmKb);
  }
  return out;
}
