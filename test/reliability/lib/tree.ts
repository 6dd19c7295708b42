import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** path (relative, '/'-separated) → what a backup must reproduce there. */
export type TreeModel = Map<string, string>;

/**
 * Slots share inodes through hard links, so a hash is cached per inode and invalidated by its
 * ctime: every write to a file, and every metadata change, moves ctime forward.
 */
const hashCache = new Map<string, string>();
async function hashFile(path: string, s: { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint }): Promise<string> {
  const key = `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  const cached = hashCache.get(key);
  if (cached !== undefined) return cached;
  const hash = createHash('sha256').update(await readFile(path)).digest('hex');
  if (hashCache.size > 200_000) hashCache.clear();
  hashCache.set(key, hash);
  return hash;
}

/**
 * An independent description of a tree (not the engine's own checksums): type, size, SHA-256 and
 * modification time in nanoseconds for files, the target for symlinks. A slot is byte-identical
 * to the source state it was made from exactly when the two models are equal.
 */
export async function describeTree(root: string, options: { skipTopLevel?: string[]; withMtime?: boolean } = {}): Promise<TreeModel> {
  const model: TreeModel = new Map();
  const skip = new Set(options.skipTopLevel ?? []);
  const withMtime = options.withMtime ?? true;
  async function walk(dir: string, rel: string): Promise<void> {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      if (rel === '' && skip.has(name)) continue;
      const path = join(dir, name);
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const s = await lstat(path, { bigint: true });
      if (s.isDirectory()) {
        model.set(relPath, 'd');
        await walk(path, relPath);
      } else if (s.isSymbolicLink()) {
        model.set(relPath, `l ${await readlink(path)}`);
      } else if (s.isFile()) {
        model.set(relPath, `f ${s.size} ${await hashFile(path, s)}${withMtime ? ` ${s.mtimeNs}` : ''}`);
      } else {
        model.set(relPath, 'o');
      }
    }
  }
  await walk(root, '');
  return model;
}

/** Differences between an expected and an actual model, at most `limit` of them, readable in an assertion message. */
export function diffTrees(expected: TreeModel, actual: TreeModel, limit = 10): string[] {
  const out: string[] = [];
  for (const [path, want] of expected) {
    if (out.length >= limit) break;
    const got = actual.get(path);
    if (got === undefined) out.push(`missing ${path}`);
    else if (got !== want) out.push(`changed ${path}: want ${want.slice(0, 90)} got ${got.slice(0, 90)}`);
  }
  for (const path of actual.keys()) {
    if (out.length >= limit) break;
    if (!expected.has(path)) out.push(`unexpected ${path}`);
  }
  return out;
}

/**
 * A byte-for-byte fingerprint of a folder including metadata files, mtimes and modes, for
 * "bad input writes nothing": any created, deleted or touched entry changes it.
 */
export async function fingerprint(root: string): Promise<TreeModel> {
  const model: TreeModel = new Map();
  async function walk(dir: string, rel: string): Promise<void> {
    let names: string[];
    try { names = (await readdir(dir)).sort(); } catch { return; }
    for (const name of names) {
      const path = join(dir, name);
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const s = await lstat(path, { bigint: true });
      const meta = `${s.mode} ${s.uid} ${s.nlink} ${s.mtimeNs}`;
      if (s.isDirectory()) {
        model.set(relPath, `d ${meta}`);
        await walk(path, relPath);
      } else if (s.isFile()) {
        model.set(relPath, `f ${meta} ${createHash('sha256').update(await readFile(path)).digest('hex')}`);
      } else if (s.isSymbolicLink()) {
        model.set(relPath, `l ${meta} ${await readlink(path)}`);
      } else {
        model.set(relPath, `o ${meta}`);
      }
    }
  }
  const top = await lstat(root, { bigint: true }).catch(() => null);
  model.set('.', top ? `${top.mode} ${top.mtimeNs}` : 'absent');
  if (top) await walk(root, '');
  return model;
}
