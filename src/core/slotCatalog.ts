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
  /** 0 when not known (a walk over SSH lists no inodes). */
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
  // ino 0: not known (a walk over SSH lists no inodes), so the inode cannot decide.
  if (sa.storage === 'links' && sb.storage === 'links' && a.ino !== 0 && b.ino !== 0) return 'inode';
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
    return new CatalogBuilder().build();
  }

  /** From entries already sorted by comparePathKeys, without duplicates. */
  static fromSorted(paths: string[], entries: CatalogEntry[]): SlotCatalog {
    const b = new CatalogBuilder();
    for (let i = 0; i < paths.length; i++) b.addEntry(paths[i]!, entries[i]!);
    return b.build();
  }

  /** From entries in any order; a path listed twice keeps its last entry. */
  static fromUnsorted(items: Array<[string, CatalogEntry]>): SlotCatalog {
    const b = new CatalogBuilder();
    for (const [p, e] of items) b.addEntry(p, e);
    return b.build();
  }

  /** @internal The columns as CatalogBuilder made them: sorted, without duplicates, of equal length. */
  static fromColumns(paths: string[], c: Columns): SlotCatalog {
    return new SlotCatalog(paths, c.flags, c.sizes, c.mtimes, c.inos, c.hashHi, c.hashLo);
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

  /**
   * Whether entry `i` records the same facts as entry `j` of `other` (sameRecord of both entries,
   * without making either: a build compares every entry of every slot with its newer neighbour's).
   */
  sameAt(i: number, other: SlotCatalog, j: number): boolean {
    // A catalog without a hash keeps 0 in both hash columns, so comparing them is exact.
    return this.flags[i] === other.flags[j] && this.sizes[i] === other.sizes[j] && this.mtimes[i] === other.mtimes[j]
      && this.inos[i] === other.inos[j] && this.hashHi[i] === other.hashHi[j] && this.hashLo[i] === other.hashLo[j];
  }

  /** Appends entry `i` to `b` column by column. */
  copyTo(i: number, b: CatalogBuilder): void {
    b.addColumns(this.paths[i]!, this.flags[i]!, this.sizes[i]!, this.mtimes[i]!, this.inos[i]!, this.hashHi[i]!, this.hashLo[i]!);
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

export interface Columns {
  flags: Uint8Array;
  sizes: Float64Array;
  mtimes: Float64Array;
  inos: Float64Array;
  hashHi: Uint32Array;
  hashLo: Uint32Array;
}

function columns(n: number): Columns {
  return { flags: new Uint8Array(n), sizes: new Float64Array(n), mtimes: new Float64Array(n), inos: new Float64Array(n), hashHi: new Uint32Array(n), hashLo: new Uint32Array(n) };
}

/** The value of hex digit `c` (a char code), or -1 for anything but 0-9 a-f. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Collects a slot's entries straight into columns (no object per entry: a cold build reads
 * 16 × 200,000 of them), then sorts them into a catalog.
 */
export class CatalogBuilder {
  private paths: string[] = [];
  private c: Columns = columns(1024);
  private n = 0;

  get size(): number { return this.n; }

  addEntry(path: string, e: CatalogEntry): void {
    let hi = 0;
    let lo = 0;
    if (e.hash !== null) {
      hi = parseInt(e.hash.slice(0, 8), 16);
      lo = parseInt(e.hash.slice(8, 16), 16);
    }
    this.addColumns(path, (e.kind === 'symlink' ? KIND_SYMLINK : KIND_FILE) | (e.hash !== null ? HAS_HASH : 0), e.size, e.mtimeMs, e.ino, hi, lo);
  }

  /**
   * Adds an entry whose hash is the 16 hex digits of `text` from `at` (shortHash, read in place),
   * or none when they are not 16 lowercase hex digits before `end`.
   */
  addWithHashText(path: string, kind: CatalogKind, size: number, mtimeMs: number, ino: number, text: string, at: number, end: number): void {
    let hi = 0;
    let lo = 0;
    let ok = at + 16 <= end;
    for (let k = 0; ok && k < 16; k++) {
      const d = hexDigit(text.charCodeAt(at + k));
      if (d < 0) ok = false;
      else if (k < 8) hi = hi * 16 + d;
      else lo = lo * 16 + d;
    }
    if (!ok) { hi = 0; lo = 0; }
    this.addColumns(path, (kind === 'symlink' ? KIND_SYMLINK : KIND_FILE) | (ok ? HAS_HASH : 0), size, mtimeMs, ino, hi, lo);
  }

  addColumns(path: string, flags: number, size: number, mtimeMs: number, ino: number, hashHi: number, hashLo: number): void {
    if (this.n === this.c.flags.length) this.grow();
    const i = this.n++;
    this.paths.push(path);
    this.c.flags[i] = flags;
    this.c.sizes[i] = size;
    this.c.mtimes[i] = mtimeMs;
    this.c.inos[i] = ino;
    this.c.hashHi[i] = hashHi;
    this.c.hashLo[i] = hashLo;
  }

  private grow(): void {
    const next = columns(this.c.flags.length * 2);
    for (const k of Object.keys(next) as Array<keyof Columns>) next[k].set(this.c[k] as never);
    this.c = next;
  }

  /** The catalog, sorted by comparePathKeys; a path added twice keeps its last entry. */
  build(): SlotCatalog {
    const { paths, n } = this;
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) sorted = paths[i - 1]! < paths[i]!;
    if (sorted) {
      const out = columns(n);
      for (const k of Object.keys(out) as Array<keyof Columns>) out[k].set(this.c[k].subarray(0, n) as never);
      return SlotCatalog.fromColumns(paths, out);
    }
    // A walk or a checksum list is in walk order ('/' first), close to this one: the sort is close to linear.
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((x, y) => comparePathKeys(paths[x]!, paths[y]!) || x - y);
    let m = 0;
    for (let k = 0; k < n; k++) if (k + 1 === n || paths[order[k]!] !== paths[order[k + 1]!]) order[m++] = order[k]!;
    const out = columns(m);
    const outPaths: string[] = new Array<string>(m);
    for (let k = 0; k < m; k++) {
      const i = order[k]!;
      outPaths[k] = paths[i]!;
      out.flags[k] = this.c.flags[i]!;
      out.sizes[k] = this.c.sizes[i]!;
      out.mtimes[k] = this.c.mtimes[i]!;
      out.inos[k] = this.c.inos[i]!;
      out.hashHi[k] = this.c.hashHi[i]!;
      out.hashLo[k] = this.c.hashLo[i]!;
    }
    return SlotCatalog.fromColumns(outPaths, out);
  }
}

/** Two hex digits per byte value: the cache file writes 16 digits for every entry of the newest slot. */
const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

function hex8(n: number): string {
  return HEX_BYTE[n >>> 24]! + HEX_BYTE[(n >>> 16) & 255]! + HEX_BYTE[(n >>> 8) & 255]! + HEX_BYTE[n & 255]!;
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
      if (!older.sameAt(i, newer, j)) out.set(a, older.entry(i));
      i++;
      j++;
    }
  }
  return out;
}

/** `base` with `overrides` applied (null removes a path): a new sorted catalog. */
export function applyOverrides(base: SlotCatalog, overrides: Map<string, CatalogEntry | null>): SlotCatalog {
  if (overrides.size === 0) return base;
  const keys = [...overrides.keys()].sort(comparePathKeys);
  const b = new CatalogBuilder();
  let i = 0;
  let k = 0;
  const bp = base.paths;
  while (i < bp.length || k < keys.length) {
    const a = bp[i];
    const key = keys[k];
    if (key === undefined || (a !== undefined && a < key)) {
      base.copyTo(i++, b);
      continue;
    }
    if (a === key) i++;
    const e = overrides.get(key)!;
    if (e !== null) b.addEntry(key, e);
    k++;
  }
  return b.build();
}
