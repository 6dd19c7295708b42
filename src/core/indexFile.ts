/**
 * The ring index as text, for its cache file (compressed by the platform layer):
 *
 * ```
 * #shadow-slots-index 1 <TAB> JSON(target)
 * slot <TAB> id <TAB> storage <TAB> JSON(stamp)          one per slot, newest first
 * base <TAB> N                                            the newest slot's N entries:
 * JSON(path) <TAB> f|l <TAB> size <TAB> mtimeMs <TAB> ino <TAB> hash|-
 * delta <TAB> id <TAB> N                                  each older slot's differences:
 * JSON(path) <TAB> -                                      (not in this slot) or an entry as above
 * end <TAB> total lines
 * ```
 *
 * Paths are JSON strings, so tabs, newlines and quotes in names never break a line. A file that
 * does not parse exactly (a different version, a count that does not match, no `end`) is refused
 * whole: the index is a cache, rebuilt from the ring when in doubt.
 */
import { RingIndex, type IndexedSlot, type SlotDelta } from './ringIndex';
import { SlotCatalog, type CatalogEntry } from './slotCatalog';
import type { TargetKind } from './target';

export const INDEX_HEADER = '#shadow-slots-index 1';

function entryText(path: string, e: CatalogEntry | null): string {
  const p = JSON.stringify(path);
  if (e === null) return `${p}\t-`;
  return `${p}\t${e.kind === 'symlink' ? 'l' : 'f'}\t${e.size}\t${e.mtimeMs}\t${e.ino}\t${e.hash ?? '-'}`;
}

/** The index as lines (joined by the caller; a 200,000-entry index is one 20 MB string otherwise twice). */
export function serializeIndex(target: string, index: RingIndex): string[] {
  const lines = [`${INDEX_HEADER}\t${JSON.stringify(target)}`];
  for (const s of index.slots) lines.push(`slot\t${s.id}\t${s.storage}\t${JSON.stringify(s.stamp)}`);
  const base = index.newest;
  lines.push(`base\t${base.size}`);
  for (let i = 0; i < base.size; i++) lines.push(entryText(base.paths[i]!, base.entry(i)));
  index.slots.forEach((s, position) => {
    if (position === 0) return;
    const d = index.deltaOf(position);
    lines.push(`delta\t${s.id}\t${d.size}`);
    for (const [p, e] of d) lines.push(entryText(p, e));
  });
  lines.push(`end\t${lines.length + 1}`);
  return lines;
}

class Malformed extends Error {}

function parsePath(field: string): string {
  if (field.length < 2 || field[0] !== '"' || field[field.length - 1] !== '"') throw new Malformed('path');
  // JSON escapes only quotes, backslashes and control characters: without a backslash the path is the text between the quotes.
  return field.indexOf('\\') < 0 ? field.slice(1, -1) : (JSON.parse(field) as string);
}

function parseEntry(line: string): [string, CatalogEntry | null] {
  const parts = line.split('\t');
  const path = parsePath(parts[0] ?? '');
  if (parts.length === 2 && parts[1] === '-') return [path, null];
  if (parts.length !== 6 || (parts[1] !== 'f' && parts[1] !== 'l')) throw new Malformed('entry');
  const [size, mtimeMs, ino] = [Number(parts[2]), Number(parts[3]), Number(parts[4])];
  if (!Number.isFinite(size) || !Number.isFinite(mtimeMs) || !Number.isFinite(ino)) throw new Malformed('number');
  const hash = parts[5] === '-' ? null : parts[5]!;
  if (hash !== null && !/^[0-9a-f]{16}$/.test(hash)) throw new Malformed('hash');
  return [path, { kind: parts[1] === 'l' ? 'symlink' : 'file', size, mtimeMs, ino, hash }];
}

const STORAGE: readonly TargetKind[] = ['links', 'btrfs', 'zfs'];

/** Parses a cache file's text; null when it is not exactly an index of this format for `target`. */
export function parseIndex(text: string, target: string): RingIndex | null {
  try {
    return parseStrict(text.split('\n'), target);
  } catch (error) {
    if (error instanceof Malformed || error instanceof SyntaxError) return null;
    throw error;
  }
}

function parseStrict(lines: string[], target: string): RingIndex {
  if (lines.at(-1) === '') lines.pop();
  let i = 0;
  const next = (): string => { if (i >= lines.length) throw new Malformed('short'); return lines[i++]!; };
  const head = next().split('\t');
  if (head[0] !== INDEX_HEADER || head.length !== 2 || JSON.parse(head[1]!) !== target) throw new Malformed('header');
  const slots: IndexedSlot[] = [];
  while (lines[i]?.startsWith('slot\t')) {
    const [, id, storage, stamp] = next().split('\t');
    if (!id || !STORAGE.includes(storage as TargetKind) || stamp === undefined) throw new Malformed('slot');
    slots.push({ id, storage: storage as TargetKind, stamp: JSON.parse(stamp) as string });
  }
  const [baseTag, baseCount] = next().split('\t');
  if (baseTag !== 'base') throw new Malformed('base');
  const paths: string[] = [];
  const entries: CatalogEntry[] = [];
  for (let k = Number(baseCount); k > 0; k--) {
    const [p, e] = parseEntry(next());
    if (e === null || (paths.length > 0 && !(paths[paths.length - 1]! < p))) throw new Malformed('base order');
    paths.push(p);
    entries.push(e);
  }
  const deltas: SlotDelta[] = [new Map()];
  for (let position = 1; position < slots.length; position++) {
    const [tag, id, count] = next().split('\t');
    if (tag !== 'delta' || id !== slots[position]!.id) throw new Malformed('delta');
    const d: SlotDelta = new Map();
    for (let k = Number(count); k > 0; k--) {
      const [p, e] = parseEntry(next());
      d.set(p, e);
    }
    deltas.push(d);
  }
  const [endTag, total] = next().split('\t');
  if (endTag !== 'end' || Number(total) !== lines.length || i !== lines.length) throw new Malformed('end');
  return RingIndex.fromParts(slots, SlotCatalog.fromSorted(paths, entries), deltas);
}
