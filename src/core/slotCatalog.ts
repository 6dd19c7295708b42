/**
 * What the ring index (src/core/ringIndex.ts) knows of one slot: every file and symlink, with what
 * tells its versions apart, sorted by path. Folders are not listed (a folder is there when
 * something below it is), and neither are sockets or devices: neither the checksum list nor a
 * backup's change log records them.
 */
import type { TargetKind } from './target';

export type CatalogKind = 'file' | 'symlink';

/** One file or symlink of a slot. */
export interface CatalogEntry {
  kind: CatalogKind;
  size: number;
  /** Whole milliseconds, as the checksum list and the walk record them. */
  mtimeMs: number;
  ino: number;
  /**
   * The first 16 hex digits of the content checksum the slot's checksum list recorded (of the
   * link text for a symlink), or null when the slot has no list (adopted, interrupted before it).
   * 64 bits are compared only between versions of one path, so a collision is not a concern.
   */
  hash: string | null;
}

/** How a slot is stored, which decides how two of its entries are told apart. */
export interface SlotIdentity {
  storage: TargetKind;
}

/** How two versions were told apart (or found to be the same). */
export type IdentityMethod = 'inode' | 'checksum' | 'size-and-time';

/**
 * Which evidence decides whether the entries of two slots are one version:
 * - two hard-linked folders (`links`) share an inode exactly when rsync linked the file because
 *   it had not changed: the inode decides, and no content is ever read;
 * - elsewhere (copy-on-write slots rewrite changed files in place, under the same inode) the
 *   recorded checksums decide;
 * - without a checksum on either side (an adopted slot, a slot whose run was interrupted before it
 *   recorded them) the size and the modification time in whole seconds decide, which is rsync's
 *   own quick check, the rule that decided whether the file was copied at all.
 */
export function identityMethod(a: CatalogEntry, sa: SlotIdentity, b: CatalogEntry, sb: SlotIdentity): IdentityMethod {
  if (sa.storage === 'links' && sb.storage === 'links') return 'inode';
  if (a.hash !== null && b.hash !== null) return 'checksum';
  return 'size-and-time';
}

/** Whether two entries of (possibly different) slots are the same version of a path. */
export function sameVersion(a: CatalogEntry, sa: SlotIdentity, b: CatalogEntry, sb: SlotIdentity): boolean {
  if (a.kind !== b.kind) return false;
  switch (identityMethod(a, sa, b, sb)) {
    case 'inode': return a.ino === b.ino;
    case 'checksum': return a.hash === b.hash;
    default: return a.size === b.size && Math.floor(a.mtimeMs / 1000) === Math.floor(b.mtimeMs / 1000);
  }
}

/** Whether two entries record exactly the same facts (what the index's differences store). */
export function sameRecord(a: CatalogEntry | null, b: CatalogEntry | null): boolean {
  if (a === null || b === null) return a === b;
  return a.kind === b.kind && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino && a.hash === b.hash;
}

/** Code-unit order: every path below a folder `F/` sorts into one run, found by binary search. */
export function comparePathKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The 16 hex digits kept of a recorded checksum (`link:` + hex for a symlink), or null. */
export function shortHash(recorded: string | null | undefined): string | null {
  if (!recorded) return null;
  const hex = recorded.startsWith('link:') ? recorded.slice(5) : recorded;
  return /^[0-9a-f]{16}/.test(hex) ? hex.slice(0, 16) : null;
}

const KIND_FILE = 1;
const KIND_SYMLINK = 2;
const HAS_HASH = 0x80;

/**
 * A slot's entries, sorted by path, in columns (typed arrays): 200,000 entries take about 40 bytes
 * each besides their paths, where one object per entry would take three times that.
 */
export class SlotCatalog {
  private constructor(
    readonly paths: string[],
    private readonly flags: Uint8Array,
    private readonly sizes: Float64Array,
    private readonly mtimes: Float64Array,
    private readonly inos: Float64Array,
    private readonly hashHi: Uint32Array,
    private readonly hashLo: Uint32Array,
  ) {}

  static empty(): SlotCatalog {
    return SlotCatalog.fromSorted([], []);
  }

  /** From entries already sorted by comparePathKeys, without duplicates. */
  static fromSorted(paths: string[], entries: CatalogEntry[]): SlotCatalog {
    const n = paths.length;
    const c = new SlotCatalog(paths, new Uint8Array(n), new Float64Array(n), new Float64Array(n), new Float64Array(n), new Uint32Array(n), new Uint32Array(n));
    for (let i = 0; i < n; i++) c.set(i, entries[i]!);
    return c;
  }

  /** From entries in any order; a path listed twice keeps its last entry. */
  static fromUnsorted(items: Array<[string, CatalogEntry]>): SlotCatalog {
    // Mostly sorted already (a walk or a checksum list): the sort is close to linear on it.
    items.sort((x, y) => comparePathKeys(x[0], y[0]));
    const paths: string[] = [];
    const entries: CatalogEntry[] = [];
    for (const [p, e] of items) {
      if (paths.length > 0 && paths[paths.length - 1] === p) entries[entries.length - 1] = e;
      else { paths.push(p); entries.push(e); }
    }
    return SlotCatalog.fromSorted(paths, entries);
  }

  private set(i: number, e: CatalogEntry): void {
    this.flags[i] = (e.kind === 'symlink' ? KIND_SYMLINK : KIND_FILE) | (e.hash !== null ? HAS_HASH : 0);
    this.sizes[i] = e.size;
    this.mtimes[i] = e.mtimeMs;
    this.inos[i] = e.ino;
    if (e.hash !== null) {
      this.hashHi[i] = parseInt(e.hash.slice(0, 8), 16);
      this.hashLo[i] = parseInt(e.hash.slice(8, 16), 16);
    }
  }

  get size(): number { return this.paths.length; }

  entry(i: number): CatalogEntry {
    const f = this.flags[i]!;
    return {
      kind: (f & 0x7f) === KIND_SYMLINK ? 'symlink' : 'file',
      size: this.sizes[i]!,
      mtimeMs: this.mtimes[i]!,
      ino: this.inos[i]!,
      hash: f & HAS_HASH ? hex8(this.hashHi[i]!) + hex8(this.hashLo[i]!) : null,
    };
  }

  /** Index of `path`, or -1. */
  indexOf(path: string): number {
    const i = this.lowerBound(path);
    return i < this.paths.length && this.paths[i] === path ? i : -1;
  }

  get(path: string): CatalogEntry | null {
    const i = this.indexOf(path);
    return i < 0 ? null : this.entry(i);
  }

  /** First index whose path is not below `path` in the order. */
  lowerBound(path: string): number {
    let lo = 0;
    let hi = this.paths.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.paths[mid]! < path) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/**
 * What differs between an older and a newer catalog, as the entries of the older one: a path the
 * older slot has with other facts (or only it has) maps to its entry there; a path only the newer
 * slot has maps to null. Both are walked once, in order.
 */
export function catalogDifference(older: SlotCatalog, newer: SlotCatalog): Map<string, CatalogEntry | null> {
  const out = new Map<string, CatalogEntry | null>();
  let i = 0;
  let j = 0;
  const po = older.paths;
  const pn = newer.paths;
  while (i < po.length || j < pn.length) {
    const a = po[i];
    const b = pn[j];
    if (b === undefined || (a !== undefined && a < b)) {
      out.set(a!, older.entry(i++));
    } else if (a === undefined || b < a) {
      out.set(b, null);
      j++;
    } else {
      const ea = older.entry(i++);
      if (!sameRecord(ea, newer.entry(j++))) out.set(a, ea);
    }
  }
  return out;
}

/** `base` with `overrides` applied (null removes a path): a new sorted catalog. */
export function applyOverrides(base: SlotCatalog, overrides: Map<string, CatalogEntry | null>): SlotCatalog {
  if (overrides.size === 0) return base;
  const keys = [...overrides.keys()].sort(comparePathKeys);
  const paths: string[] = [];
  const entries: CatalogEntry[] = [];
  let i = 0;
  let k = 0;
  const bp = base.paths;
  while (i < bp.length || k < keys.length) {
    const a = bp[i];
    const key = keys[k];
    if (key === undefined || (a !== undefined && a < key)) {
      paths.push(a!);
      entries.push(base.entry(i++));
      continue;
    }
    if (a === key) i++;
    const e = overrides.get(key)!;
    if (e !== null) { paths.push(key); entries.push(e); }
    k++;
  }
  return SlotCatalog.fromSorted(paths, entries);
}
