/**
 * Find across slots: which paths of a ring match what the user typed. Every word of the pattern
 * must occur in the path, in any order, ignoring case (`app ts` finds `src/app.ts`; `/` matches
 * folder separators). Names are ranked as Quick Open ranks them, roughly: a word that starts the
 * file name first, then a word anywhere in the file name, then anywhere in the path; shorter
 * paths first, then by path.
 */
import type { RingIndex } from './ringIndex';

export interface PathMatches {
  /** Matching paths, best first, at most `limit`. */
  paths: string[];
  /** How many paths match in all. */
  total: number;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The words of a pattern (empty: nothing to search for). */
export function patternWords(pattern: string): string[] {
  return pattern.trim().split(/\s+/).filter((w) => w !== '');
}

/** Index bits left for the position of a path among the candidates (2,097,152 paths). */
const INDEX_BITS = 2 ** 21;

/** Searches every path any slot of the ring holds. */
export function findPaths(index: RingIndex, pattern: string, limit: number): PathMatches {
  const words = patternWords(pattern);
  if (words.length === 0) return { paths: [], total: 0 };
  const res = words.map((w) => new RegExp(escapeRegExp(w), 'i'));
  const first = words[0]!.toLowerCase();
  const lists = [index.newest.paths, index.pathsOnlyInOlderSlots()];
  const keys: number[] = [];
  let offset = 0;
  for (const list of lists) {
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      let ok = true;
      for (const re of res) if (!re.test(p)) { ok = false; break; }
      if (!ok) continue;
      keys.push((rank(p, first, res) * 10_000 + Math.min(p.length, 9_999)) * INDEX_BITS + offset + i);
    }
    offset += list.length;
  }
  const total = keys.length;
  // Numeric keys in a typed array sort in a few milliseconds even when a one-letter word matches all.
  const best = Array.from(Float64Array.from(keys).sort().subarray(0, limit));
  const all = (k: number) => {
    const i = k % INDEX_BITS;
    return i < lists[0]!.length ? lists[0]![i]! : lists[1]![i - lists[0]!.length]!;
  };
  return { paths: best.map(all), total };
}

function rank(path: string, first: string, res: RegExp[]): number {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (name.toLowerCase().startsWith(first)) return 0;
  if (res.every((re) => re.test(name))) return 1;
  return res[0]!.test(name) ? 2 : 3;
}
