import type { Readable } from 'node:stream';
import { execa, type ResultPromise } from 'execa';
import { ShadowSlotsError, type ErrorCode } from '../core/errors';

/**
 * The one way this project starts a process (as VS Code's git extension has one exec()): argv
 * arrays only, never a shell; cancellation kills the whole process tree; every command line is
 * logged with its duration and exit code; a failure becomes a ProcessError with a classified code.
 */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string;
  /** A stream fed to the child's stdin for as long as the caller keeps writing (a long-lived remote shell). */
  stdin?: Readable;
  signal?: AbortSignal;
  /** Called for every chunk of stdout as it arrives (large outputs are never buffered). */
  onStdout?: (chunk: string) => void;
  /** Instead of onStdout: stdout as raw bytes (file contents streamed from a server). */
  onStdoutBytes?: (chunk: Buffer) => void;
  onStderr?: (chunk: string) => void;
  /** Exit codes that are not failures (e.g. rsync's 24). Default: only 0. */
  okExitCodes?: number[];
  /** Keep at most this many characters of stdout in the result (default 1 MiB; 0 with onStdout). */
  maxBuffer?: number;
  timeoutMs?: number;
  /** Error code used when the command fails. */
  errorCode?: ErrorCode;
  /** Called with the child's pid once it runs (e.g. to journal it, so an orphan can be stopped). */
  onSpawn?: (pid: number) => void | Promise<void>;
}

export interface RunResult {
  command: string;
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export type LogSink = (level: 'trace' | 'info' | 'warn' | 'error', message: string) => void;

let logSink: LogSink = () => undefined;
export function setLogSink(sink: LogSink): void { logSink = sink; }
export function log(level: 'trace' | 'info' | 'warn' | 'error', message: string): void { logSink(level, message); }

export class ProcessError extends ShadowSlotsError {
  readonly exitCode: number | null;
  readonly stderrTail: string;
  readonly commandLine: string;
  constructor(code: ErrorCode, message: string, commandLine: string, exitCode: number | null, stderrTail: string) {
    super(code, message, { details: { exitCode, stderrTail, commandLine } });
    this.exitCode = exitCode;
    this.stderrTail = stderrTail;
    this.commandLine = commandLine;
  }
}

/** A printable form of a command line for logs; quoting is for humans, never executed. */
export function formatCommandLine(command: string, argv: readonly string[]): string {
  return [command, ...argv].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

const STDERR_KEEP = 64 * 1024;

export async function run(command: string, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const commandLine = formatCommandLine(command, argv);
  const started = performance.now();
  let stderr = '';
  let stdout = '';
  const maxBuffer = options.maxBuffer ?? (options.onStdout ? 0 : 1024 * 1024);
  const child: ResultPromise = execa(command, argv, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: true,
    input: options.input,
    // execa takes a stream without a file descriptor as an async iterable of chunks.
    stdin: options.stdin ? { [Symbol.asyncIterator]: () => options.stdin![Symbol.asyncIterator]() } : options.input === undefined ? 'ignore' : undefined,
    buffer: false,
    reject: false,
    cancelSignal: options.signal,
    // Kill the whole tree: rsync forks a receiver and a generator.
    cleanup: true,
    detached: process.platform !== 'win32',
    forceKillAfterDelay: 3000,
    timeout: options.timeoutMs,
    windowsHide: true,
    encoding: 'utf8',
  });
  if (!options.onStdoutBytes) child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string | Buffer) => {
    if (typeof chunk !== 'string') { options.onStdoutBytes?.(chunk); return; }
    options.onStdout?.(chunk);
    if (stdout.length < maxBuffer) stdout += chunk.slice(0, maxBuffer - stdout.length);
  });
  child.stderr?.on('data', (chunk: string) => {
    options.onStderr?.(chunk);
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  // A caller-fed stdin must not keep the result waiting once the child is gone (ssh that failed to log in).
  if (options.stdin) child.once('exit', () => { options.stdin!.destroy(); });
  // Listeners are attached first: execa drops output nobody is reading once the child exits.
  if (child.pid !== undefined && options.onSpawn) await options.onSpawn(child.pid);
  const killTree = () => {
    if (child.pid !== undefined && process.platform !== 'win32') {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
    }
  };
  options.signal?.addEventListener('abort', killTree, { once: true });
  let result;
  try {
    result = await child;
  } finally {
    options.signal?.removeEventListener('abort', killTree);
  }
  const durationMs = Math.round(performance.now() - started);
  const exitCode = result.exitCode ?? null;
  log(exitCode === 0 ? 'info' : 'warn', `> ${commandLine} [${durationMs}ms] exit ${exitCode ?? result.signal ?? '?'}`);
  if (result.isCanceled || options.signal?.aborted) {
    throw new ProcessError('cancelled', `Cancelled: ${command}`, commandLine, exitCode, stderr.slice(-2000));
  }
  if (result.failed && exitCode === null) {
    const reason = result.timedOut ? `timed out after ${options.timeoutMs} ms` : result.signal ? `was killed by ${result.signal}` : (result.originalMessage ?? 'could not be started');
    throw new ProcessError(options.errorCode ?? 'process', `${command} ${reason}`, commandLine, null, stderr.slice(-2000));
  }
  const ok = options.okExitCodes ?? [0];
  if (exitCode === null || !ok.includes(exitCode)) {
    const tail = stderr.trim().split('\n').slice(-5).join('\n');
    throw new ProcessError(options.errorCode ?? 'process', `${command} failed with exit code ${exitCode}${tail ? `: ${tail}` : ''}`, commandLine, exitCode, stderr.slice(-2000));
  }
  return { command, argv: [...argv], exitCode, stdout, stderr, durationMs };
}

export interface PipeResult {
  /** Exit codes of the writer and the reader (null when killed). */
  exitCodes: [number | null, number | null];
  stderr: [string, string];
  durationMs: number;
  /** Bytes that went through the pipe. */
  bytes: number;
}

/**
 * Runs `writer | reader` (e.g. `btrfs send | btrfs receive`) through the same guarantees as `run`:
 * argv only, both process groups killed on cancel, both command lines logged with their exit
 * codes. Fails with a ProcessError naming whichever side failed first.
 */
export async function runPipe(writer: { command: string; argv: readonly string[] }, reader: { command: string; argv: readonly string[] }, options: Pick<RunOptions, 'signal' | 'errorCode' | 'onSpawn' | 'onStdout' | 'env'> = {}): Promise<PipeResult> {
  const commandLine = `${formatCommandLine(writer.command, writer.argv)} | ${formatCommandLine(reader.command, reader.argv)}`;
  const started = performance.now();
  const common = { reject: false, cleanup: true, detached: process.platform !== 'win32', forceKillAfterDelay: 3000, windowsHide: true, cancelSignal: options.signal, env: options.env, extendEnv: true } as const;
  const first = execa(writer.command, writer.argv, { ...common, stdin: 'ignore', buffer: false });
  const second = execa(reader.command, reader.argv, { ...common, buffer: false });
  const piped = first.pipe(second);
  const stderr: [string, string] = ['', ''];
  let bytes = 0;
  first.stdout?.on('data', (chunk: Buffer) => { bytes += chunk.length; });
  first.stderr?.setEncoding('utf8');
  first.stderr?.on('data', (chunk: string) => { stderr[0] = (stderr[0] + chunk).slice(-STDERR_KEEP); });
  second.stderr?.setEncoding('utf8');
  second.stderr?.on('data', (chunk: string) => { stderr[1] = (stderr[1] + chunk).slice(-STDERR_KEEP); });
  second.stdout?.setEncoding('utf8');
  second.stdout?.on('data', (chunk: string) => options.onStdout?.(chunk));
  if (options.onSpawn && second.pid !== undefined) await options.onSpawn(second.pid);
  const killTrees = () => {
    for (const pid of [first.pid, second.pid]) {
      if (pid !== undefined && process.platform !== 'win32') { try { process.kill(-pid, 'SIGTERM'); } catch { /* already gone */ } }
    }
  };
  options.signal?.addEventListener('abort', killTrees, { once: true });
  let readerResult;
  let writerResult;
  try {
    [writerResult, readerResult] = await Promise.all([first, second, piped.catch(() => undefined)]);
  } finally {
    options.signal?.removeEventListener('abort', killTrees);
  }
  const durationMs = Math.round(performance.now() - started);
  const exitCodes: [number | null, number | null] = [writerResult.exitCode ?? null, readerResult.exitCode ?? null];
  log(exitCodes[0] === 0 && exitCodes[1] === 0 ? 'info' : 'warn', `> ${commandLine} [${durationMs}ms] exit ${exitCodes.map((c) => c ?? '?').join('|')}`);
  if (options.signal?.aborted) throw new ProcessError('cancelled', `Cancelled: ${writer.command} | ${reader.command}`, commandLine, null, stderr.join('\n').slice(-2000));
  for (const [i, side] of [writer, reader].entries()) {
    if (exitCodes[i] !== 0) {
      const tail = stderr[i]!.trim().split('\n').slice(-5).join('\n');
      const result = i === 0 ? writerResult : readerResult;
      const how = exitCodes[i] === null ? (result.signal ? `was killed by ${result.signal}` : 'could not be started') : `failed with exit code ${exitCodes[i]}`;
      throw new ProcessError(options.errorCode ?? 'process', `${side.command} ${how}${tail ? `: ${tail}` : ''}`, commandLine, exitCodes[i] ?? null, stderr[i]!.slice(-2000));
    }
  }
  return { exitCodes, stderr, durationMs, bytes };
}

/**
 * Starts a process that outlives this one (background work such as deleting dropped slots): its
 * own process group (so neither a Ctrl-C in the terminal nor the cancellation of this process's
 * tree reaches it), no stdio (a reader of this process's output must not wait for it), not waited
 * for. Returns its pid, or undefined when it could not be started (logged).
 */
export function startDetached(command: string, argv: readonly string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): number | undefined {
  const commandLine = formatCommandLine(command, argv);
  try {
    const child = execa(command, argv, {
      cwd: options.cwd,
      env: options.env,
      extendEnv: true,
      detached: true,
      stdio: 'ignore',
      cleanup: false,
      reject: false,
      windowsHide: true,
    });
    // Its outcome is not this process's business; a failure to start is only logged.
    child.then((result) => { if (result.failed && result.exitCode === undefined) log('warn', `> ${commandLine} [detached] could not start: ${result.originalMessage ?? result.shortMessage}`); }, () => undefined);
    child.unref();
    log('info', `> ${commandLine} [detached, pid ${child.pid ?? '?'}]`);
    return child.pid;
  } catch (error) {
    log('warn', `> ${commandLine} [detached] could not start: ${(error as Error).message}`);
    return undefined;
  }
}
