/**
 * The index of a ring's slots (file history, change marks, find): the newest slot's catalog in
 * full, and each older slot as what differs from the slot just newer than it (a reverse delta, as
 * rdiff-backup and Subversion store history). A ring of 16 slots × 200,000 files where 1 % changes
 * per run holds one catalog plus ~2,000 entries per older slot. Slots are keyed by id, never by
 * number, so a rotation renumbers nothing; dropping the oldest slot forgets its differences;
 * removing any other slot folds its differences into its older neighbour's. Pure: the engine
 * (src/engine/ringIndex.ts) fills it from checksum lists and walks, and caches it on disk.
 */
import { applyOverrides, catalogDifference, comparePathKeys, sameRecord, SlotCatalog, type CatalogEntry } from './slotCatalog';
import type { TargetKind } from './target';

/** What the index records of a slot besides its entries. */
export interface IndexedSlot {
  id: string;
  /**
   * Where its catalog came from, so a catalog made before the slot had its checksum list (a walk)
   * is rebuilt once the list exists: `sums:<size>:<mtime>` or `walk`.
   */
  stamp: string;
  storage: TargetKind;
}

/** Entries of a slot that differ from the next newer slot (null: the path is not in this slot). */
export type SlotDelta = Map<string, CatalogEntry | null>;

export class RingIndex {
  /** Newest first. */
  private slotList: IndexedSlot[] = [];
  private base: SlotCatalog = SlotCatalog.empty();
  /** deltas[i] for i ≥ 1: slot i against slot i - 1. deltas[0] is unused (empty). */
  private deltas: SlotDelta[] = [];
  /** Paths only older slots have (sorted), computed when first asked for. */
  private olderOnly: string[] | undefined;
  private changes = 0;

  /** Moves on with every change, so answers computed from the index can be cached against it. */
  get generation(): number { return this.changes; }

  private touched(): void {
    this.olderOnly = undefined;
    this.changes++;
  }

  get slots(): readonly IndexedSlot[] { return this.slotList; }
  get newest(): SlotCatalog { return this.base; }

  /** Whatever the slot's position: its differences from the slot just newer (empty for the newest). */
  deltaOf(position: number): ReadonlyMap<string, CatalogEntry | null> { return this.deltas[position] ?? new Map(); }

  /** Built from a serialized index (see indexFile.ts): the newest catalog and each older slot's differences. */
  static fromParts(slots: IndexedSlot[], base: SlotCatalog, deltas: SlotDelta[]): RingIndex {
    const index = new RingIndex();
    index.slotList = [...slots];
    index.base = slots.length > 0 ? base : SlotCatalog.empty();
    index.deltas = slots.map((_, i) => (i === 0 ? new Map() : deltas[i] ?? new Map()));
    return index;
  }

  position(id: string): number {
    return this.slotList.findIndex((s) => s.id === id);
  }

  /** The entry of `path` in the slot at `position` (0 newest), or null. */
  entryAt(position: number, path: string): CatalogEntry | null {
    let e = this.base.get(path);
    for (let j = 1; j <= position; j++) {
      const d = this.deltas[j]!;
      if (d.has(path)) e = d.get(path)!;
    }
    return e;
  }

  /** Every slot's entry of `path`, newest first. */
  entriesOf(path: string): Array<CatalogEntry | null> {
    const out: Array<CatalogEntry | null> = [];
    let e = this.base.get(path);
    for (let j = 0; j < this.slotList.length; j++) {
      if (j > 0 && this.deltas[j]!.has(path)) e = this.deltas[j]!.get(path)!;
      out.push(e);
    }
    return out;
  }

  /** The full catalog of the slot at `position`. */
  catalogAt(position: number): SlotCatalog {
    if (position === 0) return this.base;
    const overrides = new Map<string, CatalogEntry | null>();
    for (let j = 1; j <= position; j++) for (const [p, e] of this.deltas[j]!) overrides.set(p, e);
    return applyOverrides(this.base, overrides);
  }

  /** Adds a slot newer than every indexed one (the usual case: a backup completed). */
  addNewest(slot: IndexedSlot, catalog: SlotCatalog): void {
    const previous = this.slotList.length > 0 ? catalogDifference(this.base, catalog) : null;
    this.deltas.unshift(new Map());
    if (previous) this.deltas[1] = previous;
    this.slotList.unshift(slot);
    this.base = catalog;
    this.touched();
  }

  /** Adds a slot at `position` (older slots move down by one), e.g. a slot whose catalog is rebuilt. */
  insertAt(position: number, slot: IndexedSlot, catalog: SlotCatalog): void {
    if (position <= 0) { this.addNewest(slot, catalog); return; }
    const newer = this.catalogAt(position - 1);
    const older = position < this.slotList.length ? this.catalogAt(position) : null;
    this.slotList.splice(position, 0, slot);
    this.deltas.splice(position, 0, catalogDifference(catalog, newer));
    if (older) this.deltas[position + 1] = catalogDifference(older, catalog);
    this.touched();
  }

  /** Forgets the slot at `position`; its older neighbour's differences are re-based on its newer one. */
  removeAt(position: number): void {
    const n = this.slotList.length;
    if (position < 0 || position >= n) return;
    if (position === 0) {
      if (n > 1) this.base = applyOverrides(this.base, this.deltas[1]!);
      else this.base = SlotCatalog.empty();
    } else if (position < n - 1) {
      this.deltas[position + 1] = this.folded(position);
    }
    this.slotList.splice(position, 1);
    this.deltas.splice(position, 1);
    if (this.deltas.length > 0) this.deltas[0] = new Map();
    this.touched();
  }

  /** The differences of slot `p + 1` against slot `p - 1`, as if slot `p` were not there. */
  private folded(p: number): SlotDelta {
    const own = this.deltas[p]!;
    const next = this.deltas[p + 1]!;
    const out: SlotDelta = new Map();
    for (const path of new Set([...own.keys(), ...next.keys()])) {
      const before = this.entryAt(p - 1, path);
      const value = next.has(path) ? next.get(path)! : own.has(path) ? own.get(path)! : before;
      if (!sameRecord(value, before)) out.set(path, value);
    }
    return out;
  }

  /** Replaces the catalog of the slot at `position` (its stamp changed). */
  replaceAt(position: number, slot: IndexedSlot, catalog: SlotCatalog): void {
    this.removeAt(position);
    this.insertAt(position, slot, catalog);
  }

  /** Updates what is recorded of a slot without touching its entries (storage read from a manifest). */
  updateSlot(position: number, slot: IndexedSlot): void {
    this.slotList[position] = slot;
    this.touched();
  }

  /** Paths some older slot has and the newest does not (sorted). */
  pathsOnlyInOlderSlots(): readonly string[] {
    if (!this.olderOnly) {
      const set = new Set<string>();
      for (let j = 1; j < this.deltas.length; j++) {
        for (const [p, e] of this.deltas[j]!) if (e !== null && this.base.indexOf(p) < 0) set.add(p);
      }
      this.olderOnly = [...set].sort(comparePathKeys);
    }
    return this.olderOnly;
  }

  /** How many distinct paths the ring holds in any slot. */
  get pathCount(): number {
    return this.base.size + this.pathsOnlyInOlderSlots().length;
  }
}
