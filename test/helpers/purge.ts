import { setTimeout as sleep } from 'node:timers/promises';
import { droppedSlotsOf, purgeIdle } from '../../src/engine/purge';
import { RingStore } from '../../src/platform/ringStore';

/**
 * Waits until the detached purge a backup started has deleted the dropped slots (it runs after
 * the backup's own process ended); false when it has not finished within `timeoutMs`.
 */
export async function purgeFinished(target: string, timeoutMs = 30_000): Promise<boolean> {
  const slots = droppedSlotsOf(new RingStore(target));
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await purgeIdle(slots)) return true;
    if (Date.now() > until) return false;
    await sleep(50);
  }
}
