import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { run } from '../../src/platform/runner';

const SSHD = '/usr/sbin/sshd';
/** sshd refuses to start as root without its privilege separation folder (the service makes it at boot). */
const PRIVSEP_DIR = '/run/sshd';

/** Why a test sshd cannot run here, or null. */
export function sshdUnavailable(): string | null {
  if (process.platform !== 'linux') return 'the test sshd needs Linux';
  if (!existsSync(SSHD)) return 'openssh-server is not installed (sshd missing; .ci/run installs it)';
  if (!existsSync('/usr/bin/ssh')) return 'openssh-client is not installed';
  if (!existsSync('/usr/bin/rsync')) return 'rsync is not installed';
  return null;
}

export interface TestSshd {
  port: number;
  /** The login name the authorized key is for (the user running the tests). */
  user: string;
  /** A client ssh config: the test's key and known_hosts, never the user's own files. */
  configFile: string;
  /** The known_hosts file the client config uses (holds this server's key). */
  knownHosts: string;
  /** Environment for the engine or CLI: ssh uses `configFile`, never asks. */
  env: Record<string, string>;
  /** `ssh://user@127.0.0.1:port<path>` */
  target(path: string): string;
  /** The sshd process serving connections (its children are the per-connection processes). */
  pid: number;
  /** Kills every connection's sshd process (as a network drop would); the listener stays. */
  dropConnections(): Promise<number>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

let privsepMadeBy = 0;

/**
 * A real OpenSSH server on 127.0.0.1 on a free high port, with a host key and an authorized key
 * made for this test in a private temp folder (its own sshd_config; no PAM, keys only). The
 * login shell runs `exec sh`, which is dash on Debian. Stopped after the test (only this
 * process and its children), even when the test fails.
 */
export async function startSshd(t: TestContext, options: { extraConfig?: string[] } = {}): Promise<TestSshd> {
  const dir = await mkdtemp(join(tmpdir(), 'shadow-slots-sshd-'));
  await chmod(dir, 0o700);
  const user = userInfo().username;
  let child: ChildProcess | null = null;
  let madePrivsep = false;
  const stop = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    child = null;
    if (madePrivsep && --privsepMadeBy === 0) await rmdir(PRIVSEP_DIR).catch(() => undefined);
    madePrivsep = false;
    await rm(dir, { recursive: true, force: true });
  };
  t.after(stop);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'shadow-slots-test-host', '-f', join(dir, 'host_key')]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'shadow-slots-test-client', '-f', join(dir, 'client_key')]);
  await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client_key.pub')), { mode: 0o600 });
  const port = await freePort();
  await writeFile(join(dir, 'sshd_config'), [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_key')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin prohibit-password',
    'UsePAM no',
    'StrictModes no',
    'PrintMotd no',
    // A run multiplexes its rsync, file transfers and the shell over one connection.
    'MaxSessions 50',
    'MaxStartups 50',
    'LogLevel ERROR',
    ...(options.extraConfig ?? []),
    '',
  ].join('\n'));
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, `[127.0.0.1]:${port} ${(await readFile(join(dir, 'host_key.pub'), 'utf8')).trim()}\n`);
  const configFile = join(dir, 'ssh_config');
  await writeFile(configFile, [
    'Host *',
    `  IdentityFile ${join(dir, 'client_key')}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${knownHosts}`,
    '  GlobalKnownHostsFile /dev/null',
    '  IdentityAgent none',
    '',
  ].join('\n'));
  if (process.getuid?.() === 0 && !existsSync(PRIVSEP_DIR)) {
    await mkdir(PRIVSEP_DIR, { mode: 0o755 });
    madePrivsep = true;
    privsepMadeBy++;
  }
  const proc = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  child = proc;
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  // Ready when it accepts a real login.
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`sshd exited: ${stderr}`);
    const probe = await run('ssh', ['-F', configFile, '-o', 'BatchMode=yes', '-p', String(port), `${user}@127.0.0.1`, 'true'], { timeoutMs: 10_000 }).then(() => true, () => false);
    if (probe) break;
    if (Date.now() > deadline) throw new Error(`sshd on port ${port} did not accept a login: ${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const env = { SHADOW_SLOTS_SSH_CONFIG: configFile, SHADOW_SLOTS_SSH_BATCH: '1' };
  return {
    port,
    user,
    configFile,
    knownHosts,
    env,
    pid: proc.pid!,
    target: (path) => `ssh://${user}@127.0.0.1:${port}${path}`,
    async dropConnections() {
      // Per-connection sshd processes are children of the listener.
      const r = await run('pgrep', ['-P', String(proc.pid)], { okExitCodes: [0, 1] });
      const pids = r.stdout.split('\n').filter((l) => /^\d+$/.test(l.trim())).map(Number);
      for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      return pids.length;
    },
    stop,
  };
}

/** Sets the test sshd's client environment for code running in this process; restored after the test. */
export function useSshdEnv(t: TestContext, sshd: TestSshd): void {
  const saved = Object.fromEntries(Object.keys(sshd.env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, sshd.env);
  t.after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}
