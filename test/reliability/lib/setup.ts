import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { killProcessesMentioning } from './cli';

const PREFIX = 'shadow-slots-rel-';
const cleanups = new Map<string, Array<() => void | Promise<void>>>();

/**
 * A work folder removed after the test, pass or fail. Cleanups registered with `atCleanup` run
 * first, newest first (unmount before deleting the mount point); any process still mentioning
 * the folder (an rsync a test orphaned on purpose) is killed before anything is removed.
 */
export async function workDir(t: TestContext, label: string): Promise<string> {
  sweepAbandoned();
  const dir = await mkdtemp(join(tmpdir(), `${PREFIX}${label}-`));
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  cleanups.set(dir, []);
  t.after(async () => {
    killProcessesMentioning(dir);
    for (const fn of (cleanups.get(dir) ?? []).reverse()) {
      try { await fn(); } catch (error) { console.log(`# cleanup of ${dir} failed: ${(error as Error).message}`); }
    }
    cleanups.delete(dir);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

export function atCleanup(dir: string, fn: () => void | Promise<void>): void {
  cleanups.get(dir)!.push(fn);
}

/**
 * A test process killed from outside (a CI timeout) cannot run its after-hooks; its loop mounts
 * would stay. Work folders whose owner process is gone are unmounted, detached and removed here.
 */
export function sweepAbandoned(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(tmpdir(), name);
    let pid = 0;
    try { pid = Number(readFileSync(join(dir, 'owner.pid'), 'utf8')); } catch { continue; }
    try { process.kill(pid, 0); continue; } catch { /* owner gone */ }
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')).filter((f) => f[1]?.startsWith(dir + '/'));
    for (const [device, mountPoint] of mounts) {
      try { execFileSync('umount', ['-l', mountPoint!]); } catch { /* already gone */ }
      if (device?.startsWith('/dev/loop')) { try { execFileSync('losetup', ['-d', device]); } catch { /* detached */ } }
    }
    const loops = execFileSync('losetup', ['-a'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(dir + '/'));
    for (const line of loops) { try { execFileSync('losetup', ['-d', line.split(':')[0]!]); } catch { /* detached */ } }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes a profile file for `backup --profile`; rsyncArgs such as --bwlimit slow the copy down on purpose. */
export async function writeProfile(file: string, profile: { source: string; target: string; slots?: number; snapshot?: string; excludes?: string[]; rsyncArgs?: string[]; name?: string }): Promise<string> {
  await writeFile(file, JSON.stringify({ snapshot: 'none', slots: 3, ...profile }));
  return file;
}

export function slotId(result: { events: Array<Record<string, unknown>> }): string {
  const r = result.events.find((e) => e.type === 'result') as { result: { slot: { id: string } } } | undefined;
  if (!r) throw new Error('no result event');
  return r.result.slot.id;
}
