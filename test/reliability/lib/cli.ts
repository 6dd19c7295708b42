import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './figures';

export const cliPath = join(repoRoot, 'dist', 'cli.js');
export const enginePath = join(repoRoot, 'dist', 'engine.js');

export type CliEvent = Record<string, unknown> & { type?: string; phase?: string };

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  events: CliEvent[];
}

export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Run as this unprivileged user (root drops privileges with setpriv; permission checks then apply). */
  asUser?: { user: string; group: string };
  /** Kill the whole tree after this long (a hung run must fail the test, not hang the suite). Default 120 s. */
  timeoutMs?: number;
}

/**
 * A running CLI process whose JSON lines are watched as they arrive, so a test can act (kill it,
 * start a rival, delete source files) at a chosen phase. Always argv, never a shell.
 */
export class CliProcess {
  readonly child: ChildProcess;
  readonly events: CliEvent[] = [];
  readonly done: Promise<CliResult>;
  private stdout = '';
  private stderr = '';
  private waiters: Array<{ test: (e: CliEvent) => boolean; resolve: (e: CliEvent | null) => void }> = [];
  private exited = false;
  /** Set when the harness killed the run for taking too long. */
  timedOut = false;

  constructor(args: string[], options: CliOptions = {}) {
    const nodeArgv = [cliPath, ...args];
    const [command, argv] = options.asUser
      ? ['setpriv', [`--reuid=${options.asUser.user}`, `--regid=${options.asUser.group}`, '--clear-groups', '--', process.execPath, ...nodeArgv]]
      : [process.execPath, nodeArgv];
    this.child = spawn(command, argv, {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      this.stdout += chunk;
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) this.onLine(line);
    });
    this.child.stderr!.on('data', (chunk: string) => { this.stderr += chunk; });
    const timer = setTimeout(() => {
      this.timedOut = true;
      this.stderr += `\n[test harness: killed after ${options.timeoutMs ?? 120000} ms]`;
      this.kill(true);
    }, options.timeoutMs ?? 120_000);
    this.done = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (partial) this.onLine(partial);
        this.exited = true;
        for (const w of this.waiters) w.resolve(null);
        this.waiters = [];
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr, events: this.events });
      });
    });
  }

  get pid(): number { return this.child.pid!; }
  get running(): boolean { return !this.exited; }

  private onLine(line: string): void {
    if (!line.startsWith('{')) return;
    let event: CliEvent;
    try { event = JSON.parse(line) as CliEvent; } catch { return; }
    this.events.push(event);
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(event)) return true;
      w.resolve(event);
      return false;
    });
  }

  /** Resolves with the first event (already seen or future) matching `test`, or null if the process ends first. */
  waitFor(test: (e: CliEvent) => boolean): Promise<CliEvent | null> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    if (this.exited) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  waitForPhase(phase: string): Promise<CliEvent | null> {
    return this.waitFor((e) => e.type === 'progress' && e.phase === phase);
  }

  lastPhase(): string | null {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]!;
      if (e.type === 'progress' && typeof e.phase === 'string') return e.phase;
      if (e.type === 'complete') return 'complete';
    }
    return null;
  }

  /**
   * SIGKILL, like a power cut: with `tree`, every descendant (rsync runs in its own process group)
   * dies in the same instant; without it only the engine dies and its rsync is orphaned.
   * Returns whether the process was still alive when the signal was sent.
   */
  kill(tree: boolean): boolean {
    if (this.exited) return false;
    const pids = tree ? [this.pid, ...descendants(this.pid)] : [this.pid];
    let hit = false;
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); hit = true; } catch { /* already gone */ }
    }
    return hit;
  }
}

export function startCli(args: string[], options: CliOptions = {}): CliProcess {
  return new CliProcess(args, options);
}

export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

/** A failed run described for an assertion message: exit, stderr tail and the error event. */
export function explain(result: CliResult): string {
  const e = errorEvent(result);
  return `exit ${result.code ?? result.signal}; ${result.stderr.slice(-600)}${e ? ` ${JSON.stringify(e)}` : ''}`;
}

/** The error event of a --json run (or undefined). */
export function errorEvent(result: CliResult): CliEvent | undefined {
  return result.events.find((e) => e.type === 'error');
}

export function resultEvent(result: CliResult): (CliEvent & { result: Record<string, unknown> }) | undefined {
  return result.events.find((e) => e.type === 'result') as (CliEvent & { result: Record<string, unknown> }) | undefined;
}

/** Parent → children map from /proc, read once. */
function childrenMap(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try { stat = readFileSync(`/proc/${name}/stat`, 'utf8'); } catch { continue; }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = map.get(ppid) ?? [];
    list.push(Number(name));
    map.set(ppid, list);
  }
  return map;
}

export function descendants(pid: number): number[] {
  const map = childrenMap();
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const c of map.get(queue.shift()!) ?? []) { out.push(c); queue.push(c); }
  }
  return out;
}

/** Processes whose command line mentions `needle` (e.g. a stray rsync still writing into a target). */
export function processesMentioning(needle: string, exceptPids: number[] = []): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || exceptPids.includes(Number(name)) || Number(name) === process.pid) continue;
    let cmdline: string;
    try { cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim(); } catch { continue; }
    if (cmdline.includes(needle)) found.push({ pid: Number(name), cmdline });
  }
  return found;
}

/** Kills every process mentioning `needle` (test cleanup: nothing we started may outlive the test). */
export function killProcessesMentioning(needle: string): number {
  let n = 0;
  for (const p of processesMentioning(needle)) {
    try { process.kill(p.pid, 'SIGKILL'); n++; } catch { /* gone */ }
  }
  return n;
}
