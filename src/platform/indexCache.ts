import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { tempPathBeside, TORN_WRITE } from './fsutil';

/**
 * Where ring indexes are cached: on the computer that reads the ring, never in the ring itself. A
 * reader must not write into a ring (its lock belongs to backups; a ring made by the elevated
 * helper or on a server may not be writable by the editor's user; a backup disk may be mounted
 * read-only), and the index is only a cache: deleting it costs one rebuild.
 *
 * `SHADOW_SLOTS_CACHE_DIR`, else `%LOCALAPPDATA%\shadow-slots\Cache` (Windows),
 * `~/Library/Caches/shadow-slots` (macOS), `$XDG_CACHE_HOME/shadow-slots` or
 * `~/.cache/shadow-slots` (elsewhere); indexes live in its `index/` folder.
 */
export function indexCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = os.homedir()): string {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const own = env['SHADOW_SLOTS_CACHE_DIR'];
  if (own && p.isAbsolute(own)) return p.join(own, 'index');
  if (platform === 'win32') return p.join(env['LOCALAPPDATA'] ?? p.join(home, 'AppData', 'Local'), 'shadow-slots', 'Cache', 'index');
  if (platform === 'darwin') return p.join(home, 'Library', 'Caches', 'shadow-slots', 'index');
  const xdg = env['XDG_CACHE_HOME'] && p.isAbsolute(env['XDG_CACHE_HOME']) ? env['XDG_CACHE_HOME'] : p.join(home, '.cache');
  return p.join(xdg, 'shadow-slots', 'index');
}

/** The cache file of one ring: named by a hash of where the ring is (host and folder). */
export function indexCacheFile(dir: string, ringKey: string): string {
  return path.join(dir, `${createHash('sha256').update(ringKey).digest('hex').slice(0, 32)}.idx.gz`);
}

/**
 * The cached text, or null when there is none or it cannot be read whole: gzip's checksum and
 * length catch a file cut short (the cache is written without fsync) or damaged.
 */
export async function loadIndexText(file: string): Promise<string | null> {
  const chunks: Buffer[] = [];
  try {
    await pipeline(createReadStream(file), createGunzip(), async function (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) chunks.push(chunk);
    });
  } catch {
    return null;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Lines per chunk handed to gzip: the whole index is never one string in memory. */
const LINES_PER_CHUNK = 4096;

/**
 * Replaces the cache file: written beside it and renamed over it, so a reader (another editor
 * window, the CLI) sees the old file or the new one, never half of one. No fsync: after a power
 * cut a torn file fails its gzip check and the index is rebuilt from the ring.
 */
export async function saveIndexText(file: string, lines: readonly string[]): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await removeLeftovers(path.dirname(file));
  const tmp = tempPathBeside(file);
  try {
    const chunks = function* (): Generator<string> {
      for (let i = 0; i < lines.length; i += LINES_PER_CHUNK) yield lines.slice(i, i + LINES_PER_CHUNK).join('\n') + '\n';
    };
    await pipeline(Readable.from(chunks()), createGzip({ level: 1 }), createWriteStream(tmp, { mode: 0o600 }));
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

const HOUR = 3_600_000;
/** Indexes of rings whose slots did not change for this long are removed: a ring that comes back costs one rebuild. */
const UNUSED_FOR = 60 * 24 * HOUR;

/** Temp files of writers that died (older than an hour: a live writer may be writing one now) and indexes not rewritten for 60 days. */
async function removeLeftovers(dir: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const full = path.join(dir, name);
    const s = await stat(full).catch(() => null);
    if (!s) continue;
    const age = now - s.mtimeMs;
    if ((TORN_WRITE.test(name) && age > HOUR) || (name.endsWith('.idx.gz') && age > UNUSED_FOR)) await rm(full, { force: true });
  }
}
