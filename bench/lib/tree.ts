import { mkdir, open, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { createRng, fillRandom, subSeed, type Rng } from './random';

/**
 * The synthetic source tree: deterministic for a seed, shaped like a developer's drive (a random
 * recursive folder tree a dozen levels deep at most, log-normal file sizes from empty to megabytes,
 * a few names with spaces and non-ASCII letters). No symlinks: the raw recipe's `-rtDx` skips them
 * while rsnapshot's `-a` copies them, and the contenders must produce the same slot.
 */
export interface TreeSpec {
  files: number;
  /** Total payload; the sizes are scaled to hit it within a rounding error. */
  totalBytes: number;
  seed: number;
}

export interface FileEntry {
  path: string;
  size: number;
  /** Where the content starts in the seeded byte pool (content = pool bytes from here). */
  offset: number;
}

export interface TreePlan {
  /** Relative folder paths, parents before children; '' (the root) is not listed. */
  dirs: string[];
  files: FileEntry[];
}

export const MAX_DEPTH = 12;
/** 20,000 files ≈ 150 MB, as the issue asks; larger trees keep the same mean size. */
export const MEAN_FILE_BYTES = Math.round((150 * 1024 * 1024) / 20_000);
const POOL_BYTES = 4 * 1024 * 1024;
const MAX_FILE_BYTES = 24 * 1024 * 1024;

const STEMS = ['src', 'lib', 'docs', 'assets', 'test', 'build', 'data', 'images', 'notes', 'reports',
  'scripts', 'config', 'vendor', 'Projects', 'archive', 'photos', 'mail', 'invoices', 'design', 'tmp'];
const SPECIAL_STEMS = ['My Documents', 'Résumé', 'Übersicht', 'データ', 'naïve café', 'Q1 & Q2'];
const EXTS = ['.ts', '.js', '.json', '.md', '.png', '.jpg', '.txt', '.log', '.pdf', '.docx', '.xlsx',
  '.c', '.h', '.py', '.bin', '.zip', '.css', '.html', '.svg', ''];

function pickName(rng: Rng, index: number, ext: string): string {
  const stem = rng.next() < 0.03 ? SPECIAL_STEMS[rng.int(SPECIAL_STEMS.length)]! : STEMS[rng.int(STEMS.length)]!;
  return `${stem}-${index.toString(36)}${ext}`;
}

/** Log-normal around ~1.9 KB with a heavy tail; 3 % empty files. Unscaled. */
function drawSize(rng: Rng): number {
  if (rng.next() < 0.03) return 0;
  return Math.min(MAX_FILE_BYTES, Math.max(1, Math.round(Math.exp(Math.log(1900) + 1.7 * rng.normal()))));
}

/** Pure: the folder and file list of a tree, without touching the disk. */
export function planTree(spec: TreeSpec): TreePlan {
  if (!Number.isInteger(spec.files) || spec.files < 1) throw new Error(`files must be a positive integer, got ${spec.files}`);
  const rng = createRng(subSeed(spec.seed, 1));
  const dirCount = Math.max(1, Math.round(spec.files / 12));
  // dirs[0] is the root; depth[i] is the number of path components of dirs[i].
  const paths = [''];
  const depth = [0];
  for (let i = 1; i < dirCount; i++) {
    let parent = rng.int(i);
    if (depth[parent]! >= MAX_DEPTH) parent = 0;
    const name = pickName(rng, i, '');
    paths.push(parent === 0 ? name : `${paths[parent]}/${name}`);
    depth.push(depth[parent]! + 1);
  }
  const raw: number[] = [];
  let sum = 0;
  for (let i = 0; i < spec.files; i++) { const s = drawSize(rng); raw.push(s); sum += s; }
  const scale = sum > 0 ? spec.totalBytes / sum : 0;
  const files: FileEntry[] = [];
  for (let i = 0; i < spec.files; i++) {
    // Earlier folders are shallower in a random recursive tree; skewing towards them gives the
    // mix of a few crowded folders and many small ones that real trees have.
    const d = Math.min(dirCount - 1, Math.floor(dirCount * Math.pow(rng.next(), 1.3)));
    const name = pickName(rng, i, EXTS[rng.int(EXTS.length)]!);
    files.push({ path: d === 0 ? name : `${paths[d]}/${name}`, size: Math.round(raw[i]! * scale), offset: rng.int(POOL_BYTES) });
  }
  return { dirs: paths.slice(1), files };
}

/** The content pool every file is cut from; doubled so a slice never wraps. */
export function contentPool(seed: number): Buffer {
  const pool = fillRandom(Buffer.allocUnsafe(POOL_BYTES), subSeed(seed, 2));
  return Buffer.concat([pool, pool]);
}

/** Writes `size` bytes starting at `offset` of the pool (repeating the pool for huge files). */
export async function writeFileFromPool(file: string, entry: Pick<FileEntry, 'size' | 'offset'>, pool: Buffer, header?: Buffer): Promise<void> {
  const fh = await open(file, 'w');
  try {
    let remaining = entry.size;
    if (header && remaining > 0) {
      const h = header.subarray(0, remaining);
      await fh.write(h);
      remaining -= h.length;
    }
    let start = entry.offset % POOL_BYTES;
    while (remaining > 0) {
      const n = Math.min(remaining, POOL_BYTES);
      await fh.write(pool, start, n);
      remaining -= n;
      start = 0;
    }
  } finally {
    await fh.close();
  }
}

/** Runs `task` over `items` with at most `limit` in flight (file creation is latency-bound). */
export async function forEachLimit<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      signal?.throwIfAborted();
      const item = items[next++]!;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Fixed mtime for generated files, so that every run starts from the same tree. */
export const BASE_MTIME = new Date('2026-01-05T09:00:00Z');

/** Creates the planned tree under `root` (which must not exist or be empty). */
export async function writeTree(root: string, plan: TreePlan, pool: Buffer, signal?: AbortSignal): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const d of plan.dirs) await mkdir(join(root, d));
  await forEachLimit(plan.files, 32, async (f) => {
    const p = join(root, f.path);
    await writeFileFromPool(p, f, pool);
    await utimes(p, BASE_MTIME, BASE_MTIME);
  }, signal);
}

export async function removeTree(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
}
