import { parseRemoteTarget, remoteHostLabel, type RemoteTarget } from '../../core/remoteTarget';
import type { RingHost } from './host';
import { localHost } from './localHost';
import { SshHost } from './sshHost';
import type { SshOptions } from './sshConnection';

/** A target opened on its host: where the ring lives and its folder there. Release when done. */
export interface OpenedTarget {
  host: RingHost;
  /** The ring's folder as the host names it (the path part of a remote target). */
  path: string;
  /** A remote target's parts; null for a folder on this machine. */
  remote: RemoteTarget | null;
  release(): Promise<void>;
}

interface Pooled {
  host: Promise<SshHost>;
  users: number;
  timer: NodeJS.Timeout | null;
}

const pool = new Map<string, Pooled>();
let idleMs = 0;

/**
 * How long an unused connection stays open for the next request. 0 (the CLI, a scheduled run):
 * closed as soon as the command is done. The editor's engine keeps it a while, so browsing a
 * remote slot is not one login per click.
 */
export function keepConnectionsFor(ms: number): void {
  idleMs = ms;
}

/** ssh and rsync as the environment names them (tests, and the Windows helper's own ssh). */
export function sshOptionsFromEnv(extra: { sshPath?: string | undefined; rsyncPath?: string | undefined } = {}): SshOptions & { rsyncPath?: string } {
  const env = process.env;
  const sshPath = extra.sshPath ?? env.SHADOW_SLOTS_SSH;
  return {
    ...(sshPath ? { sshPath } : {}),
    ...(env.SHADOW_SLOTS_SSH_CONFIG ? { configFile: env.SHADOW_SLOTS_SSH_CONFIG } : {}),
    ...(env.SHADOW_SLOTS_SSH_BATCH === '1' ? { batchMode: true } : {}),
    ...(extra.rsyncPath ? { rsyncPath: extra.rsyncPath } : {}),
  };
}

/**
 * Opens the host of `target`: this machine for a folder, one SSH connection for
 * `ssh://…`/`host:/path` (shared by everything this process does with that server at the same
 * time, and closed when the last user releases it).
 */
export async function openTarget(target: string, extra: { sshPath?: string | undefined; rsyncPath?: string | undefined } = {}): Promise<OpenedTarget> {
  const remote = parseRemoteTarget(target);
  if (!remote) return { host: localHost, path: target, remote: null, release: async () => undefined };
  const options = sshOptionsFromEnv(extra);
  const key = JSON.stringify([remoteHostLabel(remote), options]);
  let entry = pool.get(key);
  if (entry) {
    const host = await entry.host.catch(() => null);
    if (!host || !host.connection.alive) {
      if (pool.get(key) === entry) pool.delete(key);
      entry = undefined;
    }
  }
  if (!entry) {
    entry = { host: SshHost.open(remote, options), users: 0, timer: null };
    pool.set(key, entry);
    const created = entry;
    created.host.catch(() => { if (pool.get(key) === created) pool.delete(key); });
  }
  const used = entry;
  used.users++;
  if (used.timer) { clearTimeout(used.timer); used.timer = null; }
  let host: SshHost;
  try {
    host = await used.host;
  } catch (error) {
    used.users--;
    throw error;
  }
  let released = false;
  return {
    host,
    path: remote.path,
    remote,
    release: async () => {
      if (released) return;
      released = true;
      used.users--;
      if (used.users > 0) return;
      const close = async () => {
        if (used.users > 0) return;
        if (pool.get(key) === used) pool.delete(key);
        await host.close();
      };
      if (idleMs <= 0 || !host.connection.alive) { await close(); return; }
      used.timer = setTimeout(() => { void close(); }, idleMs);
      used.timer.unref();
    },
  };
}

/** Closes every pooled connection (the engine shutting down). */
export async function closeAllConnections(): Promise<void> {
  const entries = [...pool.values()];
  pool.clear();
  await Promise.all(entries.map(async (e) => { if (e.timer) clearTimeout(e.timer); await (await e.host.catch(() => null))?.close(); }));
}
