import { readFile, readdir, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShadowSlotsError } from '../core/errors';
import type { Journal } from '../core/journal';

/** The environment variable every process of one copy carries; its value is journaled first. */
export const COPY_MARKER_VARIABLE = 'SHADOW_SLOTS_COPY';
const MARKER_SHAPE = /^[0-9a-f]{32}$/;
const STOP_WAIT_MS = 5000;

export function newCopyMarker(): string {
  return randomBytes(16).toString('hex');
}

export type CopyRecord = NonNullable<Journal['copy']>;

interface ProcessInfo { pid: number; argv: string[]; pgrp: number }

/**
 * Stops a copy left running by an engine that was killed (kill -9, crash): it would otherwise keep
 * writing into the in-progress folder the next run is about to reuse, after that run's own copy
 * (a torn file in a slot called complete). Returns whether something was stopped; throws when it
 * would not stop, so that nothing reuses the folder it writes.
 *
 * The journal lives in the target, which someone with less rights than the engine may be able to
 * write: a record is trusted only as far as the processes confirm it. `destination` must be one
 * the engine itself would write (`destinations`); a process must belong to the engine's own user;
 * and the copy is found by its marker only when one of the processes carrying it names that very
 * destination as an argument (rsync's receiving side, `btrfs receive`), so a marker copied from
 * another ring's journal finds nothing. Then every process carrying the marker goes, the forked
 * receiver and generator and both sides of a send | receive pipe, until none is left. A record of
 * an older version (a pid, no marker) stops that pid's process group, under the same checks.
 */
export async function stopOrphanCopy(copy: CopyRecord, destinations: readonly string[]): Promise<boolean> {
  if (process.platform !== 'linux' || copy.destination === '' || !destinations.includes(copy.destination)) return false;
  const names = new Set([copy.destination, copy.destination.endsWith('/') ? copy.destination : `${copy.destination}/`]);
  const marker = typeof copy.marker === 'string' && MARKER_SHAPE.test(copy.marker) ? `${COPY_MARKER_VARIABLE}=${copy.marker}` : null;
  const legacyPid = marker === null && Number.isInteger(copy.pid) && copy.pid! > 0 ? copy.pid : null;
  if (marker === null && legacyPid === null) return false;
  const find = async (): Promise<ProcessInfo[]> => {
    if (marker !== null) {
      const carrying = await ownProcesses((environ) => environ.includes(marker));
      return carrying.some((p) => p.argv.some((a) => names.has(a))) ? carrying : [];
    }
    const leader = (await ownProcesses(() => true, legacyPid!)).find((p) => p.argv.some((a) => names.has(a)));
    return leader ? [leader] : [];
  };
  let found = await find();
  if (found.length === 0) return false;
  const deadline = Date.now() + STOP_WAIT_MS;
  while (found.length > 0) {
    if (Date.now() > deadline) {
      throw new ShadowSlotsError('locked', `A copy left running by an interrupted backup does not stop (process ${found.map((p) => p.pid).join(', ')}); its folder is not reused while it may still write into it.`, {
        hint: 'Stop that process (it may be stuck on a slow or unreachable disk) and run the backup again. Complete slots are untouched.',
      });
    }
    for (const p of found) {
      // A group leader takes the members with it, also one forked after the scan.
      try { process.kill(p.pgrp === p.pid ? -p.pid : p.pid, 'SIGKILL'); } catch { /* gone already */ }
    }
    await sleep(20);
    // The marker stays in the environment of every fork: scanning again finds what the kill missed.
    found = marker !== null ? await ownProcesses((environ) => environ.includes(marker)) : (await ownProcesses(() => true, legacyPid!));
  }
  return true;
}

/**
 * Live processes of the engine's own user (another user's are not read: root could, and a
 * process stuck in the kernel can stall a read of its environment), other than the engine
 * itself, whose environment entries pass `wanted`; only `onlyPid` when given.
 */
async function ownProcesses(wanted: (environ: string[]) => boolean, onlyPid?: number): Promise<ProcessInfo[]> {
  const uid = process.geteuid?.() ?? -1;
  const found: ProcessInfo[] = [];
  const names = onlyPid !== undefined ? [String(onlyPid)] : await readdir('/proc').catch(() => [] as string[]);
  for (const name of names) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const owner = await stat(`/proc/${name}`).catch(() => null);
    if (owner?.uid !== uid) continue;
    const statText = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    // Fields after the command name, which may itself hold ") ": state, ppid, pgrp.
    const fields = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
    // A killed process stays a zombie until its parent reaps it; it no longer writes anything.
    if (fields.length < 3 || fields[0] === 'Z' || fields[0] === 'X') continue;
    const environ = (await readFile(`/proc/${name}/environ`, 'latin1').catch(() => '')).split('\0');
    if (!wanted(environ)) continue;
    // Each argument ends with a NUL: the empty piece after the last one is no argument.
    const argv = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).split('\0').slice(0, -1);
    found.push({ pid: Number(name), argv, pgrp: Number(fields[2]) });
  }
  return found;
}

/** Live processes of this user whose environment carries the copy marker `marker` (tests, diagnostics). */
export async function processesCarryingMarker(marker: string): Promise<number[]> {
  return (await ownProcesses((environ) => environ.includes(`${COPY_MARKER_VARIABLE}=${marker}`))).map((p) => p.pid);
}
