import { ShadowSlotsError } from '../core/errors';
import { withRing } from '../platform/target/select';
import type { RingStore } from '../platform/ringStore';
import { SshHost } from '../platform/target/sshHost';
import { verifyRemoteSlot } from '../platform/target/remoteSums';
import { settledEntries } from './list';
import { hashEntry, readSums, sumsOrderOf, type SumLine } from '../platform/treeSums';
import { comparePaths, walkTree } from '../platform/treeWalk';
import { compareRsyncOrder } from '../core/rsyncOrder';
import type { VerifyResult } from '../rpc/protocol';

const MAX_LISTED = 100;

/**
 * Re-reads every file of a slot and compares it with the checksums recorded when the slot was
 * made. Streams both sides in the order the list was written in (rsync's, or the walk order of
 * lists from before format 2), so memory does not grow with the slot.
 */
export async function verifySlot(target: string, slot: number, signal?: AbortSignal): Promise<VerifyResult> {
  return withRing(target, 'auto', (ring) => verifyInRing(ring, target, slot, signal));
}

async function verifyInRing(ring: RingStore, target: string, slot: number, signal?: AbortSignal): Promise<VerifyResult> {
  const entries = await settledEntries(ring);
  const entry = entries.find((e) => e.number === slot);
  if (!entry) throw new ShadowSlotsError('not-found', `Slot ${slot} does not exist in ${target}.`);
  const manifest = await ring.readManifest(entry.id);
  const result: VerifyResult = { slot, checked: 0, missing: [], changed: [], extra: [], ok: true, verified: true, note: null };
  if (!manifest?.checksums) {
    // Nothing was compared: a health check must not read this as "verified".
    result.ok = false;
    result.verified = false;
    result.note = manifest?.adopted
      ? 'This slot was adopted from a ring made without Shadow Slots; no checksums were recorded for it.'
      : 'No checksums were recorded for this slot (the run that made it did not finish recording them).';
    return result;
  }
  const root = ring.slotPath(slot);
  if (ring.host instanceof SshHost) {
    // Hashed on the server: file contents never cross the network to be verified.
    const counts = await verifyRemoteSlot(ring.host, root, ring.sumsPath(entry.id), signal, MAX_LISTED);
    return { ...result, ...counts, ok: counts.missing.length + counts.changed.length + counts.extra.length === 0 };
  }
  const order = await sumsOrderOf(ring.sumsPath(entry.id));
  const compare = order === 'rsync' ? compareRsyncOrder : comparePaths;
  const recorded = readSums(ring.sumsPath(entry.id));
  let want = (await recorded.next()).value as SumLine | undefined;
  const push = (list: string[], p: string) => { if (list.length < MAX_LISTED) list.push(p); result.ok = false; };
  for await (const actual of walkTree(root, signal, order)) {
    if (actual.kind === 'other') continue;
    while (want && compare(want.path, actual.path) < 0) {
      push(result.missing, want.path);
      want = (await recorded.next()).value as SumLine | undefined;
    }
    if (want && want.path === actual.path) {
      result.checked++;
      const hash = await hashEntry(root, actual, signal);
      if (hash !== want.hash) push(result.changed, actual.path);
      want = (await recorded.next()).value as SumLine | undefined;
    } else {
      push(result.extra, actual.path);
    }
  }
  while (want) {
    push(result.missing, want.path);
    want = (await recorded.next()).value as SumLine | undefined;
  }
  return result;
}
