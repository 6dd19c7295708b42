import { randomBytes } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ShadowSlotsError } from '../../core/errors';
import { remoteHostLabel, type RemoteTarget } from '../../core/remoteTarget';
import { rsyncShellWord } from '../../core/rsyncArgs';
import { log, run, type RunOptions, type RunResult } from '../runner';
import { classifySshFailure } from './sshErrors';
import { controlDir } from './sshTempFolders';

/** How to reach servers: which ssh, which config, whether ssh may ask anything. */
export interface SshOptions {
  /** The ssh program (the msys2/cygwin one beside rsync on Windows). Default: `ssh` from PATH. */
  sshPath?: string;
  /** `ssh -F FILE`: a config file instead of ~/.ssh/config (tests; env SHADOW_SLOTS_SSH_CONFIG). */
  configFile?: string;
  /**
   * BatchMode=yes: never ask for a passphrase, password or an unknown host key. Default: when
   * there is no terminal (scheduled runs, the editor's engine); a person at a terminal can type
   * their key's passphrase into ssh itself (never into a command line or a file of ours).
   */
  batchMode?: boolean;
}

/** Facts of the server learnt when the connection opens. */
export interface ServerInfo {
  /** `uname -n`: the name a lock written by this connection carries. */
  hostname: string;
  /** The remote shell that serves this connection: it holds the ring's lock while it lives. */
  shellPid: number;
  /** Its start time (Linux /proc), so a recycled pid is not taken for it. */
  shellStart: string | null;
}

/** A piece of a script: text, or a local file whose bytes are sent as they are (a here-document's body). */
export type ScriptPart = string | { file: string };

/** What one remote command printed and how it ended. */
export interface RemoteResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * ONE connection to a server per run: an OpenSSH ControlMaster whose own session is a POSIX `sh`
 * reading commands from us, so every ring operation (`exec`) is a few milliseconds and no new
 * login; rsync reaches the server through the same master (`rsyncShell`). Nothing of ours is on
 * the server's command line: the login shell only ever runs the constant `exec sh`, and every
 * value travels inside a script on the session's stdin, quoted by shQuote.
 *
 * The session's shell is also the lock holder: its pid is written into the ring's lock, so a
 * client killed with -9 or a dropped connection leaves a lock whose holder is gone, as the server
 * sees it.
 */
export class SshConnection {
  readonly label: string;
  private readonly input = new PassThrough();
  readonly marker = randomBytes(16).toString('hex');
  private stdoutBuffer = '';
  private stderrBuffer = '';
  private stdoutScanned = 0;
  private stderrScanned = 0;
  private current: { resolve: (r: RemoteResult) => void; reject: (e: Error) => void; onStdout: ((text: string) => void) | undefined } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private ended: Error | null = null;
  private readonly session: Promise<RunResult | null>;
  private readonly abort = new AbortController();
  /** Aborted when the connection ends: a script still being sent stops waiting for the pipe. */
  private readonly lost = new AbortController();
  info: ServerInfo = { hostname: '', shellPid: 0, shellStart: null };

  private constructor(readonly target: RemoteTarget, private readonly options: SshOptions, private readonly dir: string) {
    this.label = remoteHostLabel(target);
    const args = [...this.commonArgs(), '-M', '-S', this.controlPath, '-o', 'ControlPersist=no', '--', target.host, 'exec sh'];
    this.session = run(this.sshPath, args, {
      stdin: this.input,
      signal: this.abort.signal,
      maxBuffer: 0,
      onStdout: (chunk) => this.onStdout(chunk),
      onStderr: (chunk) => this.onStderr(chunk),
      errorCode: 'preflight',
    }).then(
      (r) => { this.fail(this.lostError(r.stderr)); return r; },
      (error: unknown) => { this.fail(this.lostError((error as { stderrTail?: string }).stderrTail ?? (error as Error).message)); return null; },
    );
  }

  get controlPath(): string { return join(this.dir, 'c'); }
  private get sshPath(): string { return this.options.sshPath ?? 'ssh'; }

  /**
   * Opens the connection: authenticates (keys, agent and ~/.ssh/config only; the host key must
   * be known) and learns the server's name and the session shell's pid.
   */
  static async open(target: RemoteTarget, options: SshOptions = {}): Promise<SshConnection> {
    const dir = await controlDir();
    const connection = new SshConnection(target, options, dir);
    try {
      // Anything a login script prints before our first marker is dropped with the greeting.
      const hello = await connection.exec(`printf '%s\\n' hello-${connection.marker} "$$" "$(uname -n)"; s=$(cat /proc/$$/stat 2>/dev/null) && { s=\${s##*) }; set -- $s; printf '%s\\n' "\${20}"; }`);
      const greeting = `hello-${connection.marker}\n`;
      const [pid, hostname, start] = hello.stdout.slice(hello.stdout.lastIndexOf(greeting) + greeting.length).split('\n');
      connection.info = { hostname: hostname ?? '', shellPid: Number(pid), shellStart: start ? start : null };
      if (!Number.isInteger(connection.info.shellPid) || connection.info.shellPid <= 0) throw new ShadowSlotsError('process', `${connection.label} did not answer like a POSIX shell (got ${JSON.stringify(hello.stdout.slice(0, 200))}).`, { hint: 'The account\'s login shell must run commands (not a menu or a restricted shell such as rrsync or git-shell).' });
    } catch (error) {
      await connection.close();
      throw error;
    }
    return connection;
  }

  /** Options every ssh of this connection shares (the master, rsync's, file transfers). */
  commonArgs(): string[] {
    const o = this.options;
    const batch = o.batchMode ?? !process.stdin.isTTY;
    return [
      ...(o.configFile ? ['-F', o.configFile] : []),
      // No pty (binary-safe output), no forwarding of anything; a dead connection is noticed.
      '-T', '-o', 'ForwardAgent=no', '-o', 'ForwardX11=no', '-o', 'ClearAllForwardings=yes', '-o', 'PermitLocalCommand=no',
      '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=4',
      ...(batch ? ['-o', 'BatchMode=yes'] : []),
      ...(this.target.port !== null ? ['-p', String(this.target.port)] : []),
      ...(this.target.user !== null ? ['-l', this.target.user] : []),
    ];
  }

  /**
   * rsync's `-e`: ssh through this connection's master only. `ControlMaster=no` makes it a client
   * of the master; every word survives rsync's whitespace split (the socket folder has no space).
   */
  rsyncShell(): string {
    return [this.sshPath, ...this.commonArgs(), '-S', this.controlPath, '-o', 'ControlMaster=no'].map(rsyncShellWord).join(' ');
  }

  /** rsync's name for a path on this server: `host:path` (the user is in `-e`). */
  rsyncPath(path: string): string {
    const host = this.target.host.includes(':') ? `[${this.target.host}]` : this.target.host;
    return `${host}:${path}`;
  }

  /**
   * Runs a script in the session's shell, one at a time. The script runs in a subshell with
   * stdin from /dev/null (it can neither read our next command nor `exit` the session); its exit
   * status and both streams come back framed by a marker nobody else can know. With `onStdout`,
   * its output is handed over as it arrives (a whole checksum list is tens of megabytes) and the
   * result's stdout is empty.
   */
  exec(script: string | readonly ScriptPart[], options: { signal?: AbortSignal; onStdout?: (text: string) => void } = {}): Promise<RemoteResult> {
    const result = this.queue.then(() => this.execNow(script, options.signal, options.onStdout));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async execNow(script: string | readonly ScriptPart[], signal?: AbortSignal, onStdout?: (text: string) => void): Promise<RemoteResult> {
    if (this.ended) throw this.ended;
    if (signal?.aborted) throw new ShadowSlotsError('cancelled', `Cancelled before running on ${this.label}.`);
    // A script's files are opened before its first byte goes: one that cannot be read fails this
    // command alone, with the session as it was.
    const parts = typeof script === 'string' ? null : await openParts(script);
    if (this.ended) { await closeParts(parts); throw this.ended; }
    const started = performance.now();
    const title = firstLine(typeof script === 'string' ? script : script.find((p) => typeof p === 'string') ?? '');
    return new Promise<RemoteResult>((resolve, reject) => {
      this.current = {
        resolve: (r) => { log(r.status === 0 ? 'trace' : 'info', `> ssh ${this.label}: ${title} [${Math.round(performance.now() - started)}ms] exit ${r.status}`); resolve(r); },
        reject,
        onStdout,
      };
      const end = `\n) </dev/null\nprintf '\\n%s %s\\n' ${this.marker} $?\nprintf '%s\\n' ${this.marker} >&2\n`;
      if (parts === null) {
        this.input.write(`(\nexport LC_ALL=C\n${script as string}${end}`);
      } else {
        // A script cut short (a read error mid-file) would leave the shell inside a here-document:
        // the session ends instead.
        this.writeParts(['(\nexport LC_ALL=C\n', ...parts, end]).catch((error: unknown) => {
          this.fail(new ShadowSlotsError('process', `Sending a script to ${this.label} failed: ${(error as Error).message}`));
          this.abort.abort();
        }).finally(() => closeParts(parts));
      }
    });
  }

  /** Writes the parts in order, files read as they go (never whole in memory), minding backpressure. */
  private async writeParts(parts: ReadonlyArray<string | FileHandle>): Promise<void> {
    const put = async (chunk: string | Buffer) => {
      if (this.ended) throw this.ended;
      if (!this.input.write(chunk)) await once(this.input, 'drain', { signal: this.lost.signal });
    };
    for (const part of parts) {
      if (typeof part === 'string') await put(part);
      else for await (const chunk of part.createReadStream({ autoClose: false, start: 0 })) await put(chunk as Buffer);
    }
  }

  private onStdout(chunk: string): void {
    this.stdoutBuffer += chunk;
    this.settle();
  }

  private onStderr(chunk: string): void {
    this.stderrBuffer += chunk;
    this.settle();
  }

  /**
   * A reply is complete when both the stdout frame (with the status) and the stderr frame arrived.
   * The search resumes where the last chunk's ended: a walk of a big slot is megabytes of output.
   */
  private settle(): void {
    if (!this.current) return;
    const frame = `\n${this.marker} `;
    const outAt = this.stdoutBuffer.indexOf(frame, Math.max(0, this.stdoutScanned - frame.length));
    const statusEnd = outAt < 0 ? -1 : this.stdoutBuffer.indexOf('\n', outAt + frame.length);
    const errFrame = `${this.marker}\n`;
    const errAt = this.stderrBuffer.indexOf(errFrame, Math.max(0, this.stderrScanned - errFrame.length));
    this.stdoutScanned = outAt < 0 ? this.stdoutBuffer.length : outAt;
    this.stderrScanned = errAt < 0 ? this.stderrBuffer.length : errAt;
    const streaming = this.current.onStdout;
    if (streaming && outAt < 0 && this.stdoutBuffer.length > frame.length) {
      // All but what could be the start of the frame goes on now, never half of a surrogate pair
      // (an emoji in a name): a lone half would be written out as U+FFFD.
      let cut = this.stdoutBuffer.length - frame.length;
      if (isHighSurrogate(this.stdoutBuffer.charCodeAt(cut - 1))) cut--;
      streaming(this.stdoutBuffer.slice(0, cut));
      this.stdoutBuffer = this.stdoutBuffer.slice(cut);
      this.stdoutScanned = 0;
    }
    if (outAt < 0 || statusEnd < 0 || errAt < 0) return;
    const stdout = this.stdoutBuffer.slice(0, outAt);
    if (streaming && stdout !== '') streaming(stdout);
    const reply = { status: Number(this.stdoutBuffer.slice(outAt + frame.length, statusEnd)), stdout: streaming ? '' : stdout, stderr: this.stderrBuffer.slice(0, errAt) };
    this.stdoutBuffer = this.stdoutBuffer.slice(statusEnd + 1);
    this.stderrBuffer = this.stderrBuffer.slice(errAt + errFrame.length);
    this.stdoutScanned = 0;
    this.stderrScanned = 0;
    const { resolve } = this.current;
    this.current = null;
    resolve(reply);
  }

  private lostError(stderr: string): ShadowSlotsError {
    return classifySshFailure(this.label, stderr, this.target);
  }

  private fail(error: Error): void {
    this.ended ??= error;
    this.lost.abort();
    const current = this.current;
    this.current = null;
    current?.reject(this.ended);
  }

  /** True until the connection ended (closed, dropped, or the server went away). */
  get alive(): boolean { return this.ended === null; }

  /** Runs a program on this machine that reaches the server through the master (rsync). */
  runThrough(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    if (this.ended) return Promise.reject(this.ended);
    return run(command, args, options);
  }

  /**
   * Streams what `script` prints as raw bytes, on a channel of its own through the master (the
   * session's stdout is text). The login shell runs only `exec sh`; the script travels on stdin.
   * Resolves with the script's exit status.
   */
  async streamThrough(script: string, onBytes: (chunk: Buffer) => void, signal?: AbortSignal): Promise<{ status: number; stderr: string }> {
    if (this.ended) throw this.ended;
    const statuses = Array.from({ length: 255 }, (_, i) => i);
    try {
      const r = await run(this.sshPath, [...this.commonArgs(), '-S', this.controlPath, '-o', 'ControlMaster=no', '--', this.target.host, 'exec sh'], {
        input: `export LC_ALL=C\n${script}\n`, onStdoutBytes: onBytes, okExitCodes: statuses, errorCode: 'process', ...(signal ? { signal } : {}),
      });
      return { status: r.exitCode, stderr: r.stderr };
    } catch (error) {
      // 255: ssh itself failed (the connection is gone).
      if ((error as { exitCode?: number }).exitCode === 255) throw this.lostError((error as { stderrTail?: string }).stderrTail ?? '');
      throw error;
    }
  }

  /** Ends the session (the server's shell exits, releasing nothing it should keep) and the master. */
  async close(): Promise<void> {
    if (!this.ended) this.fail(new ShadowSlotsError('process', `The connection to ${this.label} was closed.`));
    this.input.end();
    const timer = setTimeout(() => this.abort.abort(), 5000);
    timer.unref();
    await this.session.catch(() => undefined);
    clearTimeout(timer);
    // The master removes its socket when it ends; one killed by the timeout above leaves it.
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The script's file parts opened for reading, in place; every one opened is closed again when one fails. */
async function openParts(script: readonly ScriptPart[]): Promise<Array<string | FileHandle>> {
  const opened: Array<string | FileHandle> = [];
  try {
    for (const part of script) opened.push(typeof part === 'string' ? part : await open(part.file, 'r'));
  } catch (error) {
    await closeParts(opened);
    throw error;
  }
  return opened;
}

async function closeParts(parts: ReadonlyArray<string | FileHandle> | null): Promise<void> {
  for (const part of parts ?? []) if (typeof part !== 'string') await part.close().catch(() => undefined);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function firstLine(script: string): string {
  const line = script.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > 120 ? `${line.slice(0, 117)}…` : line;
}
