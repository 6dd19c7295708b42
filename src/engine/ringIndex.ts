import { ShadowSlotsError } from '../core/errors';
import { looksRemote } from '../core/remoteTarget';
import { parseIndex, serializeIndex } from '../core/indexFile';
import { RingIndex, type IndexedSlot } from '../core/ringIndex';
import type { SlotRef } from '../core/slotHistory';
import type { SlotManifest } from '../core/manifest';
import { indexCacheDir, indexCacheFile, loadIndexText, saveIndexText } from '../platform/indexCache';
import type { RingStore } from '../platform/ringStore';
import { readSlotCatalog } from '../platform/slotCatalogSource';
import { withRing } from '../platform/target/select';
import { log } from '../platform/runner';
import { settledEntries } from './list';

/** A ring's index with what each position means now. */
export interface IndexView {
  index: RingIndex;
  /** By position (0 newest): the slot's number now, id and time. */
  refs: SlotRef[];
  /** The backed-up folder the newest slot was taken from (its manifest), or null. */
  source: string | null;
}

interface Held {
  view: IndexView;
  /** When the ring was last compared with the index (a burst of requests — keystrokes — reuses it). */
  checkedAt: number;
  idle: ReturnType<typeof setTimeout> | undefined;
}

/** Per target: the index in memory, and the one reconcile running for it. */
const held = new Map<string, Held>();
const running = new Map<string, Promise<IndexView>>();

/**
 * How long the index of a ring on a server answers without looking at the ring again: comparing
 * it with the ring is ~35 small reads, nothing here but round trips over SSH, and a find asks on
 * every keystroke. A ring on this computer is compared on every request.
 */
const FRESH_MS = 2_000;
/** An index unused this long leaves memory (its cache file stays). */
const IDLE_MS = 10 * 60_000;

export interface IndexOptions {
  /**
   * Stops waiting (with `cancelled`). The reading itself goes on for whoever asks next: the first
   * keystroke of a find, overtaken by the second, must not throw away a half-built index.
   */
  signal?: AbortSignal;
  /** Look at the ring even when the index was checked a moment ago (after a backup). */
  fresh?: boolean;
}

/**
 * The index of the ring at `target`, up to date with its slots: loaded from the cache file the
 * first time, then reconciled with the ring by slot id — slots that left the ring are forgotten
 * (rotation renumbers nothing; a dropped or deleted slot's differences are folded away), new
 * slots are read from their checksum lists (or walked once when they have none), and a slot whose
 * checksum list appeared or changed since it was read is read again. Only complete slots of a
 * settled ring are indexed: a rotation a crash interrupted is finished first (or, while a live
 * backup rotates, this waits for nothing and fails with `locked`), and unfinished runs are not
 * slots. Whenever the index changed, the cache file is replaced whole.
 */
export async function ringIndex(target: string, options: IndexOptions = {}): Promise<IndexView> {
  const h = held.get(target);
  if (h && !options.fresh && looksRemote(target) && Date.now() - h.checkedAt < FRESH_MS) {
    keepWarm(target, h);
    return h.view;
  }
  let p = running.get(target);
  if (!p) {
    p = reconcile(target)
      .catch((error: unknown) => {
        // A reconcile cut short (cancelled, a slot unreadable) may have changed the held index half-way.
        held.delete(target);
        throw error;
      })
      .finally(() => running.delete(target));
    running.set(target, p);
  }
  return options.signal ? abortable(p, options.signal) : p;
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new ShadowSlotsError('cancelled', 'Reading the ring index was cancelled.'));
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(new ShadowSlotsError('cancelled', 'Reading the ring index was cancelled.'));
    signal.addEventListener('abort', stop, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

function keepWarm(target: string, h: Held): void {
  if (h.idle) clearTimeout(h.idle);
  h.idle = setTimeout(() => { if (held.get(target) === h) held.delete(target); }, IDLE_MS);
  h.idle.unref?.();
}

/** After this process changed the ring (a backup): the next request compares the index with it again. */
export function ringChanged(target: string): void {
  const h = held.get(target);
  if (h) h.checkedAt = 0;
}

/** Forgets every index held in memory (tests; a process that is about to read a changed ring). */
export function forgetIndexes(): void {
  for (const h of held.values()) if (h.idle) clearTimeout(h.idle);
  held.clear();
}

async function reconcile(target: string): Promise<IndexView> {
  return withRing(target, 'auto', async (ring, opened) => {
    const key = `${opened.host.name ?? ''}\0${opened.path}`;
    const file = indexCacheFile(indexCacheDir(), key);
    const entries = await settledEntries(ring);
    const manifests = await Promise.all(entries.map((e) => ring.readManifest(e.id)));
    const wanted: Array<{ slot: IndexedSlot; number: number; manifest: SlotManifest | null; sums: string | null }> = [];
    for (const [i, e] of entries.entries()) {
      const manifest = manifests[i]!;
      const sums = manifest?.checksums ? ring.sumsPath(e.id) : null;
      const s = sums === null ? null : await ring.host.stat(sums);
      const stamp = s && s.kind === 'file' ? `sums:${s.size}:${Math.trunc(s.mtimeMs)}` : 'walk';
      wanted.push({ slot: { id: e.id, stamp, storage: manifest?.adopted ? 'links' : manifest?.storage?.kind ?? 'links' }, number: e.number, manifest, sums: stamp === 'walk' ? null : sums });
    }
    let index = held.get(target)?.view.index;
    if (!index) {
      const text = await loadIndexText(file);
      index = (text !== null ? parseIndex(text, key) : null) ?? new RingIndex();
    }
    const changed = await bringUpToDate(ring, index, wanted);
    if (changed > 0) {
      await saveIndexText(file, serializeIndex(key, index)).catch((error: unknown) => log('warn', `Could not write the index cache ${file}: ${(error as Error).message}`));
    }
    const refs = wanted.map((w) => ({ number: w.number, id: w.slot.id, takenAt: w.manifest ? w.manifest.endedAt ?? w.manifest.startedAt : null }));
    const view: IndexView = { index, refs, source: wanted[0]?.manifest?.source || null };
    const h: Held = { view, checkedAt: Date.now(), idle: undefined };
    const old = held.get(target);
    if (old?.idle) clearTimeout(old.idle);
    held.set(target, h);
    keepWarm(target, h);
    return view;
  });
}

/** Makes `index` hold exactly the `wanted` slots (newest first); returns how many slots it changed. */
async function bringUpToDate(ring: RingStore, index: RingIndex, wanted: Array<{ slot: IndexedSlot; number: number; sums: string | null }>): Promise<number> {
  let changed = 0;
  const ids = wanted.map((w) => w.slot.id);
  for (let p = index.slots.length - 1; p >= 0; p--) {
    if (!ids.includes(index.slots[p]!.id)) { index.removeAt(p); changed++; }
  }
  // Slots keep their order in a ring; an index whose order disagrees (hand-edited ring.json) starts over.
  const order = index.slots.map((s) => ids.indexOf(s.id));
  if (order.some((v, i) => i > 0 && v < order[i - 1]!)) {
    changed += index.slots.length;
    while (index.slots.length > 0) index.removeAt(0);
  }
  // Oldest first, so that slots made since the index was last written are each added as the newest.
  for (let k = wanted.length - 1; k >= 0; k--) {
    const w = wanted[k]!;
    const at = index.position(w.slot.id);
    if (at >= 0 && index.slots[at]!.stamp === w.slot.stamp) {
      if (index.slots[at]!.storage !== w.slot.storage) index.updateSlot(at, w.slot);
      continue;
    }
    const started = Date.now();
    const { catalog, from } = await readSlotCatalog(ring.host, ring.slotPath(w.number), w.sums);
    log('info', `Indexed slot ${w.number} (${w.slot.id}) of ${ring.target}: ${catalog.size} entries from its ${from === 'sums' ? 'checksum list' : 'folder (no checksum list)'} in ${Date.now() - started} ms`);
    if (at >= 0) {
      index.replaceAt(at, w.slot, catalog);
    } else {
      const position = wanted.slice(0, k).filter((x) => index.position(x.slot.id) >= 0).length;
      index.insertAt(position, w.slot, catalog);
    }
    changed++;
  }
  return changed;
}
