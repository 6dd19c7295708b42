// Seeded generators of source trees and rule sets for the filter tests: the same seed gives the same
// tree and rules, so a failure against real rsync can be replayed with FILTER_SEED=<seed>.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type Rng = () => number;

/** mulberry32: tiny, fast and good enough to make varied trees reproducibly. */
export function rngFrom(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** Names that exercise the matcher: dotfiles, spaces, brackets, wildcard characters, Unicode. */
export const NAME_PARTS = [
  'a', 'b', 'ab', 'abc', 'src', 'build', 'node_modules', 'cache', 'x', 'lib', 'tmp', 'logs', 'keep',
  '.git', '.env', '.hidden', 'my file', 'a b', '[x]', 'x[1]', 'a*b', 'q?', 'ü', 'naïve', '日本', 'café.txt',
  'foo.log', 'debug.log', 'core', 'notes.md', 'main.c', 'main.o', 'data.bak', 'A', 'B1', '#tmp', 'x~',
  '-dash', '_under', ',comma', 'semi;colon', 'back', 'z',
];

export interface TreeEntry { rel: string; isDir: boolean; size: number }

/** A random tree of about `count` entries (directories included), at most `maxDepth` deep. */
export function randomTree(r: Rng, count: number, maxDepth = 4): TreeEntry[] {
  const dirs: string[] = [''];
  const seen = new Set<string>();
  const out: TreeEntry[] = [];
  while (out.length < count) {
    const parent = pick(r, dirs);
    const depth = parent === '' ? 0 : parent.split('/').length;
    let name = pick(r, NAME_PARTS);
    if (r() < 0.35) name += pick(r, ['', '.txt', '.log', '2', '.d', ' copy', '.o']);
    const rel = parent === '' ? name : `${parent}/${name}`;
    if (seen.has(rel)) continue;
    seen.add(rel);
    const isDir = depth < maxDepth && r() < 0.35;
    if (isDir) dirs.push(rel);
    out.push({ rel, isDir, size: isDir ? 0 : Math.floor(r() * 3000) });
  }
  return out;
}

export async function writeTree(root: string, tree: readonly TreeEntry[]): Promise<void> {
  for (const e of tree) {
    if (e.isDir) await mkdir(join(root, e.rel), { recursive: true });
  }
  for (const e of tree) {
    if (!e.isDir) {
      await mkdir(join(root, e.rel, '..'), { recursive: true });
      await writeFile(join(root, e.rel), Buffer.alloc(e.size, 0x61));
    }
  }
}

const PATTERN_ATOMS = ['*', '**', '***', '?', '[a-c]', '[!a]', '[^x]', '[[:alpha:]]', '[[:digit:]]', '\\*', '\\[x]', '*.log', '*.o', '.*', '[.]*', '?*'];

/** A random pattern built from tree names, wildcards, anchors, slashes and trailing slashes. */
export function randomPattern(r: Rng, tree: readonly TreeEntry[]): string {
  const parts: string[] = [];
  const n = 1 + Math.floor(r() * (r() < 0.5 ? 1 : 3));
  const sample = pick(r, tree).rel.split('/');
  for (let i = 0; i < n; i++) {
    const roll = r();
    if (roll < 0.45) parts.push(sample[i] ?? pick(r, NAME_PARTS));
    else if (roll < 0.75) parts.push(pick(r, PATTERN_ATOMS));
    else {
      const name = sample[i] ?? pick(r, NAME_PARTS);
      const cut = Math.floor(r() * name.length);
      parts.push(r() < 0.5 ? `${name.slice(0, cut)}*` : `*${name.slice(cut)}`);
    }
  }
  let p = parts.join('/');
  if (r() < 0.25) p = `/${p}`;
  if (r() < 0.2) p = `${p}/`;
  if (r() < 0.05) p = `**/${p.replace(/^\//, '')}`;
  return p;
}

const PREFIXES = ['-', '-', '-', '+', '+', 'H', 'S', 'P', 'R', 'exclude', 'include', 'hide', 'show', '-!', '+!', '-s', '+s', '-r', '+r', '-p', '-,p', '+/', '-x', 'exclude,s', 'include,!'];

/** A random rule line (a small share are clears and CVS rules). */
export function randomRule(r: Rng, tree: readonly TreeEntry[], root: string): string {
  const roll = r();
  if (roll < 0.01) return '!';
  if (roll < 0.02) return '-C';
  const prefix = pick(r, PREFIXES);
  let pattern = randomPattern(r, tree);
  // The `/` modifier matches the absolute path: give it patterns that can match there.
  if (prefix.includes('/') && r() < 0.7) pattern = `${root}/${pattern.replace(/^\//, '')}`;
  return `${prefix}${prefix.length > 1 && r() < 0.3 ? '_' : ' '}${pattern}`;
}
