// A TypeScript MODEL of the elevated Windows helper's run to a ring on a server (review M6): it is
// not helper.ps1, which cannot run here. It follows helper.ps1's steps (Initialize-ServerRing,
// Lock-ServerRing, Invoke-ServerRotation, Copy-ToServer) with the very scripts and frames the
// helper sends (src/core/serverScripts.ts, whose PowerShell mirror is golden-tested),
// through a real ssh session to a real sshd, so what it shows is that those scripts, in this
// order, make and repair a ring the engine reads. That the order is helper.ps1's is pinned by
// test/unit/windows/helperRemote.test.ts ("the model runs helper.ps1's server steps in its
// order"); the PowerShell's own logic between the steps (its checks, messages, .NET streams) is
// only checked on Windows. The shadow copy is not here: the source is a link in a folder.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SLOT_ID_PATTERN } from '../../src/core/layout';
import { planRotation, type RingEntry } from '../../src/core/ring';
import { helperRsyncArgv, type HelperProfile } from '../../src/core/windows/helperProfile';
import { helperRemoteFrame, helperRemoteScript, parseHelperReply, parseLockReply, type HelperRemoteScript } from '../../src/core/serverScripts';
import { MIN_RSYNC_VERSION, parseRsyncVersion, versionAtLeast } from '../../src/core/rsyncVersion';
import { helperSshConfig } from '../../src/core/windows/sshConfig';
import { helperRsyncShell, helperSessionArgv } from '../../src/core/windows/sshConfig';
import { run } from '../../src/platform/runner';
import type { TestSshd } from './sshd';

/** A run that stopped as helper.ps1's Stop-Helper does: its exit code and message. */
export class HelperStop extends Error {
  constructor(readonly exit: number, message: string) { super(message); }
}

export interface Reply { status: number; output: string }

/** The session shell: one ssh with the helper's argv, scripts framed on its stdin. */
export class HelperSession {
  private buffer = '';
  private waiting: (() => void) | null = null;
  private exited = false;
  readonly marker = randomBytes(16).toString('hex');
  info = { pid: 0, host: '', start: null as string | null };

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => { this.buffer += c; this.waiting?.(); });
    child.stderr.resume();
    child.on('exit', () => { this.exited = true; this.waiting?.(); });
    child.stdin.on('error', () => undefined);
  }

  static async open(sshExe: string, argv: string[]): Promise<HelperSession> {
    const s = new HelperSession(spawn(sshExe, argv, { stdio: 'pipe' }));
    const hello = await s.exec('hello', [s.marker]);
    const greeting = `hello-${s.marker}\n`;
    const lines = hello.output.slice(hello.output.lastIndexOf(greeting) + greeting.length).split('\n');
    if (!/^[1-9][0-9]{0,9}$/.test(lines[0] ?? '')) throw new HelperStop(1, 'the server did not answer like a POSIX shell');
    s.info = { pid: Number(lines[0]), host: lines[1] ?? '', start: /^[0-9]{1,20}$/.test(lines[2] ?? '') ? lines[2]! : null };
    return s;
  }

  /** Invoke-Server: a status other than 0 or `allowed` stops the run. */
  async exec(name: HelperRemoteScript, values: readonly string[], allowed: number[] = []): Promise<Reply> {
    this.child.stdin.write(helperRemoteFrame(helperRemoteScript(name, values), this.marker));
    for (;;) {
      const reply = parseHelperReply(this.buffer, this.marker);
      if (reply) {
        this.buffer = reply.rest;
        if (reply.status !== 0 && !allowed.includes(reply.status)) throw new HelperStop(1, `${name} failed (exit ${reply.status}): ${reply.output.trim().split('\n').slice(-3).join(' ')}`);
        return { status: reply.status, output: reply.output };
      }
      if (this.exited) throw new HelperStop(1, 'the connection was lost');
      await new Promise<void>((resolve) => { this.waiting = resolve; });
      this.waiting = null;
    }
  }

  /** Close-ServerSession without the unlock: stdin closed, the shell ends. */
  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (!this.exited) this.child.kill('SIGKILL');
  }

  /** Whether the session's ssh has ended (Invoke-Rsync's `$Script:Session.HasExited`). */
  get ended(): boolean { return this.exited; }

  /** As the helper killed (or its connection cut): the ssh client dies, the server's shell follows. */
  async kill(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await gone;
  }
}

/** Get-ServerPaths. */
export function serverPaths(ring: string) {
  const meta = `${ring}/.shadow-slots`;
  return { root: ring, meta, ringFile: `${meta}/ring.json`, journal: `${meta}/journal.json`, lock: `${meta}/lock`, manifests: `${meta}/manifests`, changes: `${meta}/changes`, incoming: `${meta}/incoming`, trash: `${meta}/trash` };
}
type Paths = ReturnType<typeof serverPaths>;

const assertId = (id: unknown) => { if (typeof id !== 'string' || !SLOT_ID_PATTERN.test(id)) throw new HelperStop(1, 'invalid slot id'); };
const assertNumber = (n: unknown) => { if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 999999) throw new HelperStop(1, 'invalid slot number'); };
const hex = (n: number) => randomBytes(n).toString('hex').slice(0, n);

/** The shapes read back from the server: untrusted, checked field by field before use. */
interface Step { kind: string; from?: unknown; to?: unknown; id: unknown }
interface Rotation { newId: unknown; kind?: unknown; steps: Step[]; final: { entries: RingEntry[] } }
interface Journal { format: unknown; rotation: Rotation | null; snapshots?: unknown }

async function readJson<T>(s: HelperSession, path: string): Promise<T | null> {
  const r = await s.exec('read', [path], [3]);
  if (r.status === 3) return null;
  try { return JSON.parse(r.output) as T; } catch { throw new HelperStop(1, `${path} is not valid JSON`); }
}
async function writeJson(s: HelperSession, path: string, value: unknown): Promise<void> {
  await s.exec('write', [path, `${JSON.stringify(value, null, 2)}\n`, hex(8)]);
}
function owner(text: string): { pid: unknown; host: string; pidStart?: unknown; startedAt?: unknown } | null {
  try {
    const o = JSON.parse(text);
    return o && typeof o === 'object' && typeof o.pid === 'number' && typeof o.host === 'string' ? o : null;
  } catch { return null; }
}

/** Test-ServerLockLive. */
async function lockLive(s: HelperSession, o: ReturnType<typeof owner>, age: number): Promise<boolean> {
  if (o === null) return age < 30;
  if (o.host !== s.info.host) return true;
  if (!Number.isInteger(o.pid) || (o.pid as number) <= 0) return false;
  const state = (await s.exec('processAlive', [String(o.pid)])).output.trim().split(' ');
  if (state[0] !== 'alive') return false;
  const start = o.pidStart ?? null;
  return !(start !== null && state.length > 1 && String(state[1]) !== String(start));
}

/** Lock-ServerRing: returns the lock text this run wrote. */
export async function lockServerRing(s: HelperSession, p: Paths): Promise<string> {
  const text = JSON.stringify({ pid: s.info.pid, host: s.info.host, pidStart: s.info.start, command: 'windows-helper from test', startedAt: new Date().toISOString() });
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = await s.exec('lockPublish', [p.lock, text, hex(6)], [17]);
    if (r.status === 0) return text;
    const read = await s.exec('lockRead', [p.lock], [3]);
    if (read.status === 3) continue;
    const reply = parseLockReply(read.output);
    const current = owner(reply.text);
    if (await lockLive(s, current, reply.age ?? Number.MAX_SAFE_INTEGER)) throw new HelperStop(4, `Another backup of this ring is running: ${current ? `process ${String(current.pid)} on ${current.host}` : 'a lock being written'}`);
    const aside = `${p.lock}.stale-${s.info.pid}-${hex(6)}`;
    const moved = await s.exec('lockAside', [p.lock, aside], [3]);
    if (moved.status === 3) continue;
    const was = owner(moved.output);
    if (was !== null && (current === null || String(was.pid) !== String(current.pid) || String(was.startedAt) !== String(current.startedAt))) {
      await s.exec('lockRestore', [aside, p.lock], [1]);
      continue;
    }
    await s.exec('remove', [aside]);
  }
  throw new HelperStop(4, 'Could not take the lock');
}

/** Invoke-ServerRotation. */
export async function serverRotation(s: HelperSession, p: Paths, rotation: Rotation, journal: Journal): Promise<void> {
  assertId(rotation.newId);
  for (const step of rotation.steps) {
    if (!['drop', 'move', 'promote'].includes(step.kind)) throw new HelperStop(1, 'unknown rotation step');
    assertId(step.id);
    if (step.kind !== 'promote') assertNumber(step.from);
    if (step.kind === 'move') assertNumber(step.to);
  }
  const final = { format: 1, entries: rotation.final.entries.map((e: RingEntry) => { assertNumber(e.number); assertId(e.id); return { number: e.number, id: e.id }; }) };
  if (rotation.kind !== 'delete') {
    const file = `${p.manifests}/${String(rotation.newId)}.json`;
    const m = await readJson<{ state?: unknown }>(s, file);
    if (m !== null && typeof m.state === 'string' && m.state !== 'complete') await writeJson(s, file, { ...m, state: 'complete' });
  }
  const pairs: string[] = [];
  for (const step of rotation.steps) {
    const [from, to, id] = [String(step.from), String(step.to), String(step.id)];
    if (step.kind === 'drop') pairs.push(`${p.root}/${from}`, `${p.trash}/${id}`);
    if (step.kind === 'move') pairs.push(`${p.root}/${from}`, `${p.root}/${to}`);
    if (step.kind === 'promote') pairs.push(`${p.incoming}/${id}`, `${p.root}/0`);
  }
  await s.exec('rotate', pairs);
  await writeJson(s, p.ringFile, final);
  journal.rotation = null;
  await writeJson(s, p.journal, journal);
}

export interface HelperRunSetup {
  sshd: TestSshd;
  /** The ring's folder on the server (absolute). */
  ring: string;
  /** A local folder for the helper's own files (config, links, tmp). */
  work: string;
  /** The source folder to back up. */
  source: string;
  slots: number;
  /** More planned rsync options (a --bwlimit that makes the copy last). */
  options?: string[];
}

/** Invoke-Rsync's message when the session holding the lock ended during the copy (review 15b, finding 2). */
export const SESSION_LOST_DURING_COPY = 'The connection holding the ring\'s lock was lost; rsync was stopped and nothing was rotated.';

/** The helper's ssh_config (helperSshConfig, as planned) for the test server, with the test's key and known_hosts. */
export async function helperConfig(sshd: TestSshd, work: string): Promise<string> {
  const config = join(work, 'ssh_config');
  const identity = join(dirname(sshd.configFile), 'client_key');
  await writeFile(config, helperSshConfig({ knownHosts: sshd.knownHosts, identity, target: { user: sshd.user, host: '127.0.0.1', port: sshd.port, path: '/' } }));
  return config;
}

/** A stored profile as the planner writes one for this server ring (Linux paths stand for the /c/… ones). */
export function helperProfileFor(setup: HelperRunSetup, config: string): HelperProfile {
  const ring = setup.ring;
  return {
    format: 3, kind: 'shadow-slots-helper', name: 'helper-test', requester: 'S-1-5-21-1-2-3-1001', source: 'C:\\Users\\t\\src', target: `ssh://${setup.sshd.user}@127.0.0.1:${setup.sshd.port}${ring}`,
    slots: setup.slots, volume: 'C:\\', installDir: 'C:\\x', linkDir: 'C:\\x\\links', stateDir: 'C:\\x\\state', cancelDir: 'C:\\x\\cancel', tmpDir: 'C:\\x\\tmp', slotSddl: '',
    rsync: {
      exe: '/usr/bin/rsync', origin: 'C:\\msys64\\usr\\bin\\rsync.exe', flavor: 'msys2', files: [],
      options: ['-rtDx', '--delete', '--chmod=ugo=rwX', '--out-format=%i %n', '--stats', '--info=progress2', ...(setup.options ?? [])], linkDestAt: 3, linkDest: `--link-dest=${ring}/0`,
      snapshotPrefix: `${setup.work}/links/`, snapshotSuffix: '/src/', incomingPrefix: `127.0.0.1:${ring}/.shadow-slots/incoming/`, excludeFromPrefix: `${setup.work}/tmp/`,
    },
    warnings: [],
    ssh: {
      exe: '/usr/bin/ssh', config, user: setup.sshd.user, host: '127.0.0.1', port: setup.sshd.port, path: ring,
      session: helperSessionArgv(config, '127.0.0.1'), rsyncTransport: ['-e', helperRsyncShell('/usr/bin/ssh', config), '-s'], fingerprint: '', files: [],
    },
  };
}

export interface HelperRunResult { id: string; linkDest: string | null; resumed: string | null }

/**
 * One backup as helper.ps1 runs it for a server ring: connect, prepare, lock, repair, incoming,
 * ring.json, manifest, rsync through the planned -e, change log in pieces, rotation journaled and
 * applied, purge, unlock. `hooks.afterCopy` runs with the session open and the lock held.
 */
export async function helperServerBackup(setup: HelperRunSetup, hooks: { duringCopy?: (s: HelperSession) => Promise<void>; afterCopy?: () => Promise<void>; beforeRotation?: (s: HelperSession) => Promise<'stop' | void> } = {}): Promise<HelperRunResult> {
  await mkdir(join(setup.work, 'links'), { recursive: true });
  await mkdir(join(setup.work, 'tmp'), { recursive: true });
  const config = await helperConfig(setup.sshd, setup.work);
  const profile = helperProfileFor(setup, config);
  const p = serverPaths(setup.ring);
  const id = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${hex(6)}`;
  const s = await HelperSession.open('/usr/bin/ssh', profile.ssh!.session);
  let lock: string | null = null;
  try {
    const prep = await s.exec('prepare', [p.root], [3, 4, 5, 6, 7]);
    if (prep.status === 3) throw new HelperStop(1, 'The target folder does not exist');
    if (prep.status === 7) throw new HelperStop(1, 'A folder in .shadow-slots is a symbolic link');
    if (prep.status !== 0) throw new HelperStop(1, 'cannot write to the target');
    const serverRsync = parseRsyncVersion(prep.output);
    if (serverRsync === null) throw new HelperStop(1, 'rsync is not installed on the server');
    if (!versionAtLeast(serverRsync, MIN_RSYNC_VERSION)) throw new HelperStop(1, `the server has rsync ${serverRsync.join('.')}; it needs 3.1 or later`);
    const slotsOf = (out: string) => out.split('\n').map((l) => /^slot (0|[1-9][0-9]{0,5})$/.exec(l)?.[1]).filter((n) => n !== undefined).map(Number);
    let present = slotsOf(prep.output);
    lock = await lockServerRing(s, p);
    const journal = (await readJson<Journal>(s, p.journal)) ?? { format: 1, rotation: null, snapshots: [] };
    if (journal.format !== 1 || !('rotation' in journal)) throw new HelperStop(1, 'journal.json has an unknown format');
    if (journal.rotation !== null) {
      await serverRotation(s, p, journal.rotation, journal);
      present = slotsOf((await s.exec('prepare', [p.root])).output);
    }
    const left = (await s.exec('incoming', [p.incoming])).output.split('\n').filter((n) => /^[0-9A-Za-z][0-9A-Za-z_-]{0,80}$/.test(n)).sort().reverse();
    let resumed: string | null = null;
    for (const [i, old] of left.entries()) {
      if (i === 0) {
        resumed = old;
        await s.exec('move', [`${p.incoming}/${old}`, `${p.incoming}/${id}`]);
        await s.exec('remove', [`${p.manifests}/${old}.json`, `${p.changes}/${old}.log`]);
      } else {
        await s.exec('move', [`${p.incoming}/${old}`, `${p.trash}/${old}`]);
      }
    }
    const ring = await readJson<{ format: unknown; entries: RingEntry[] }>(s, p.ringFile);
    let entries: RingEntry[] = [];
    if (ring === null) {
      if (present.length > 0) throw new HelperStop(1, 'numbered slot folders but no ring.json');
    } else {
      if (ring.format !== 1) throw new HelperStop(1, 'ring.json has an unknown format');
      entries = ring.entries.map((e: RingEntry) => { assertNumber(e.number); assertId(e.id); return { number: e.number, id: e.id }; });
      if (new Set(entries.map((e) => e.number)).size !== entries.length || new Set(entries.map((e) => e.id)).size !== entries.length) throw new HelperStop(1, 'ring.json lists a slot twice');
      const foreign = present.filter((n) => !entries.some((e) => e.number === n));
      if (foreign.length > 0) throw new HelperStop(1, `folders ${foreign.join(', ')} are not slots of this ring`);
      entries = entries.filter((e) => present.includes(e.number));
    }
    const slot0 = entries.find((e) => e.number === 0) ?? null;

    // The "shadow": the source's parent linked under the run's id, as the helper links the shadow.
    await symlink(dirname(setup.source), join(setup.work, 'links', id));
    await writeFile(join(setup.work, 'tmp', `${id}.exclude`), '');
    const argv = helperRsyncArgv(profile, id, slot0 !== null);
    const manifestFile = `${p.manifests}/${id}.json`;
    const manifest: Record<string, unknown> = {
      format: 1, id, state: 'in-progress', profile: profile.name, source: profile.source, startedAt: new Date().toISOString(), endedAt: null,
      snapshot: { method: 'vss', id: '{00000000-0000-0000-0000-000000000000}', warning: null }, rsync: { argv: [profile.rsync.exe, ...argv], exitCode: null, version: null },
      counts: null, warnings: [], changeLog: `changes/${id}.log`, checksums: null, adopted: false, linkDest: slot0?.id ?? null,
    };
    await writeJson(s, manifestFile, manifest);
    // Invoke-Rsync + Assert-RsyncMayGo: rsync has its own connection, so the session (the lock's
    // holder) ending stops it at once, before anything is rotated.
    const lost = new AbortController();
    const onLost = () => lost.abort();
    s.child.once('exit', onLost);
    if (s.ended) lost.abort();
    const copy = run('rsync', argv, { okExitCodes: [0, 24], signal: lost.signal });
    const during = hooks.duringCopy?.(s);
    let result: Awaited<typeof copy>;
    try {
      result = await copy;
    } catch (error) {
      if (lost.signal.aborted) throw new HelperStop(1, SESSION_LOST_DURING_COPY);
      throw error;
    } finally {
      s.child.off('exit', onLost);
      await during;
    }
    if (lost.signal.aborted) throw new HelperStop(1, SESSION_LOST_DURING_COPY);
    await rm(join(setup.work, 'links', id));
    await hooks.afterCopy?.();
    const log = result.stdout.split(/[\r\n]/).filter((l) => /^([<>ch.*][fdLDS][.+?cstpoguax ]{9,10} |\*deleting )/.test(l)).map((l) => `${l}\n`).join('');
    for (let at = 0; at < log.length;) {
      const end = log.length - at <= 4096 ? log.length : log.lastIndexOf('\n', at + 4095) + 1 || Math.min(log.length, at + 4096);
      await s.exec('append', [`${p.changes}/${id}.log`, log.slice(at, end)]);
      at = end;
    }
    Object.assign(manifest, { state: 'complete', endedAt: new Date().toISOString(), rsync: { ...(manifest['rsync'] as object), exitCode: result.exitCode } });
    await writeJson(s, manifestFile, manifest);
    const plan = planRotation({ format: 1, entries }, setup.slots, id);
    const rotation = { newId: id, steps: plan.steps, final: plan.final, startedAt: new Date().toISOString() } as Rotation;
    journal.rotation = rotation;
    await writeJson(s, p.journal, journal);
    if ((await hooks.beforeRotation?.(s)) === 'stop') throw new HelperStop(1, 'stopped before the rotation (test)');
    await serverRotation(s, p, rotation, journal);
    await s.exec('purge', [p.meta]);
    return { id, linkDest: slot0?.id ?? null, resumed };
  } finally {
    if (lock !== null) await s.exec('unlock', [p.lock, lock]).catch(() => undefined);
    await s.close();
  }
}
