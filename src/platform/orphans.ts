import { readFile, readdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** The environment variable every process of one copy carries; its value is journaled first. */
export const COPY_MARKER_VARIABLE = 'SHADOW_SLOTS_COPY';
const MARKER_SHAPE = /^[0-9a-f]{32}$/;

export function newCopyMarker(): string {
  return randomBytes(16).toString('hex');
}

export interface OrphanCopy {
  pid: number | null;
  destination: string;
  marker?: string | undefined;
}

/**
 * Stops a copy left running by an engine that was killed (kill -9, crash): it would otherwise keep
 * writing into the in-progress folder the next run is about to reuse, after that run's own copy
 * (a torn file in a slot called complete). The copy is found by the marker in its environment,
 * which exists before the copy does, so a kill between spawning rsync and journaling its pid
 * leaves nothing behind; every process of it is found, rsync's forked receiver and generator and
 * both sides of a send | receive pipe. A pid journaled by an older version is stopped only when
 * its command line names the destination, so a recycled pid is never killed.
 */
export async function stopOrphanCopy(copy: OrphanCopy): Promise<boolean> {
  if (process.platform !== 'linux') return false;
  const pids = new Set<number>();
  if (copy.marker !== undefined && MARKER_SHAPE.test(copy.marker)) {
    for (const pid of await processesCarrying(`${COPY_MARKER_VARIABLE}=${copy.marker}`)) pids.add(pid);
  }
  if (copy.pid !== null && Number.isInteger(copy.pid) && copy.pid > 0) {
    const cmdline = await readFile(`/proc/${copy.pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').join(' ').includes(copy.destination)) pids.add(copy.pid);
  }
  pids.delete(process.pid);
  if (pids.size === 0) return false;
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ }
  }
  for (let i = 0; i < 250 && (await anyAlive(pids)); i++) await sleep(20);
  return true;
}

async function processesCarrying(entry: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    // Another user's processes are unreadable, and could not be ours.
    const environ = await readFile(`/proc/${name}/environ`, 'latin1').catch(() => '');
    if (environ.split('\0').includes(entry)) found.push(Number(name));
  }
  return found;
}

/** A killed process stays a zombie until its parent reaps it; it no longer writes anything. */
async function anyAlive(pids: Set<number>): Promise<boolean> {
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (stat !== '' && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}
