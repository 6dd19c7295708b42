import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { purgeIdle } from '../../src/engine/purge';
import { RingStore } from '../../src/platform/ringStore';

/**
 * Waits until the detached purge a backup started has deleted the dropped slots (it runs after
 * the backup's own process ended); false when it has not finished within `timeoutMs`.
 */
export async function purgeFinished(target: string, timeoutMs = 30_000): Promise<boolean> {
  const ring = new RingStore(target);
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await purgeIdle(ring)) return true;
    if (Date.now() > until) return false;
    await sleep(50);
  }
}

/**
 * Before a test's folder is deleted: the purges still running in rings below it (a test that
 * dropped slots ends while its last purge runs) must finish first, or the two deletions race.
 */
export async function purgesBelowFinished(dir: string, depth = 3): Promise<void> {
  for (const meta of await ringMetaFolders(dir, depth)) await purgeFinished(dirname(meta));
}

async function ringMetaFolders(dir: string, depth: number): Promise<string[]> {
  if (depth < 0) return [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    if (e.name === '.shadow-slots') found.push(join(dir, e.name));
    else if (!/^\d+$/.test(e.name)) found.push(...(await ringMetaFolders(join(dir, e.name), depth - 1)));
  }
  return found;
}
