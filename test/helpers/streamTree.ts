// Randomized source trees with hostile names, the changes a working day makes to them, and the
// reference (a plain walk sharing no code with the engine) a slot's checksum list and change log
// are checked against: shared by the hard-linked (integration) and copy-on-write (btrfs) tests.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { appendFile, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tempDir } from './tmp';
import { runCli } from './cli';
import { compareRsyncOrder } from '../../src/core/rsyncOrder';
import { readSums, sumsOrderOf } from '../../src/platform/treeSums';
import { walkTree } from '../../src/platform/treeWalk';
import { createRng } from '../../bench/lib/random';

/** Names that break shell splicing, rsync's escaping, and naive orderings. */
export const NAMES = ['plain', 'sp ace', ' lead', `quo'te`, 'dq"uote', 'amp&', '100%', '$(touch PWNED)', 'semi;colon', 'new\nline', 'tab\there',
  'back\\slash', 'back\\#134slash', 'ünïcødé', '文件', '\u{1F600}smile', '\uff61half', 'a', 'a.b', 'a-c', 'a0', 'B', '-dash'];

/** Seeded, so a failure can be replayed (the seed is in the test name). */
export function rng(seed: number): { int(n: number): number; pick<T>(items: readonly T[]): T } {
  const r = createRng(seed);
  return { int: r.int, pick: (items) => items[r.int(items.length)]! };
}

/** A source folder with a seeded tree, and an empty ring folder. */
export async function fixture(t: import('node:test').TestContext, seed: number): Promise<{ dir: string; source: string; target: string }> {
  const dir = await tempDir(t);
  const source = join(dir, 'source');
  const target = join(dir, 'ring');
  await mkdir(source);
  await mkdir(target);
  await seedTree(source, rng(seed));
  return { dir, source, target };
}

export type Kind = 'file' | 'symlink' | 'dir';
export interface Entry { kind: Kind; ino: number; hash: string | null }

/** A plain recursive walk with lstat: the reference, sharing no code with the engine's walk. */
export function snapshotOf(root: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const visit = (rel: string): void => {
    for (const name of readdirSync(rel === '' ? root : join(root, rel))) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const full = join(root, path);
      const st = lstatSync(full);
      if (st.isDirectory()) {
        out.set(path, { kind: 'dir', ino: st.ino, hash: null });
        visit(path);
      } else if (st.isSymbolicLink()) {
        out.set(path, { kind: 'symlink', ino: st.ino, hash: 'link:' + createHash('sha256').update(readlinkSync(full)).digest('hex') });
      } else if (st.isFile()) {
        out.set(path, { kind: 'file', ino: st.ino, hash: createHash('sha256').update(readFileSync(full)).digest('hex') });
      }
    }
  };
  visit('');
  return out;
}

/**
 * The change log a walk of both slots implies: a file or symlink is new, a new version, or gone.
 * A new version is another inode in a hard-linked ring; in a copy-on-write ring, where rsync
 * rewrites files in place under their inode, other content or another kind.
 */
function expectedChanges(newer: Map<string, Entry>, older: Map<string, Entry>, inPlace: boolean): string[] {
  const lines: string[] = [];
  for (const [path, e] of newer) {
    if (e.kind === 'dir') {
      if (older.get(path)?.kind !== 'dir') lines.push(`+ ${JSON.stringify(`${path}/`)}`);
      continue;
    }
    const o = older.get(path);
    if (!o || o.kind === 'dir') lines.push(`+ ${JSON.stringify(path)}`);
    else if (inPlace ? o.kind !== e.kind || o.hash !== e.hash : o.ino !== e.ino) lines.push(`~ ${JSON.stringify(path)}`);
  }
  for (const [path, o] of older) {
    if (o.kind === 'dir') continue;
    const e = newer.get(path);
    if (!e || e.kind === 'dir') lines.push(`- ${JSON.stringify(path)}`);
  }
  return lines.sort();
}

/** Every way the test changes the source; each picks its own victims. */
export async function mutate(source: string, r: ReturnType<typeof rng>, round: number): Promise<string[]> {
  const done: string[] = [];
  let all = snapshotOf(source);
  const of = (kind: Kind): string[] => [...all].filter(([, e]) => e.kind === kind).map(([p]) => p);
  const fresh = (): string => {
    const dirs = ['', ...of('dir')];
    for (;;) {
      const d = r.pick(dirs);
      const p = d === '' ? `${r.pick(NAMES)}-${round}-${r.int(1000)}` : `${d}/${r.pick(NAMES)}`;
      if (!all.has(p)) return p;
    }
  };
  const ops = 4 + r.int(6);
  for (let i = 0; i < ops; i++) {
    all = snapshotOf(source);
    const files = of('file');
    const op = r.int(11);
    try {
      if (op === 0 || files.length === 0) {
        const p = fresh();
        await mkdir(dirname(join(source, p)), { recursive: true });
        await writeFile(join(source, p), `new ${round} ${i}`);
        done.push(`create ${p}`);
      } else if (op === 1) {
        const p = r.pick(files);
        await appendFile(join(source, p), ` +${round}`);
        done.push(`append ${p}`);
      } else if (op === 2) {
        // Same size, same second: only nanosecond times tell rsync it changed.
        const p = r.pick(files);
        const old = await readFile(join(source, p));
        await writeFile(join(source, p), Buffer.from(old.map((b) => (b === 0x58 ? 0x59 : 0x58))));
        done.push(`rewrite ${p}`);
      } else if (op === 3) {
        const p = r.pick(files);
        await rm(join(source, p));
        done.push(`delete ${p}`);
      } else if (op === 4) {
        const p = r.pick(files);
        const to = fresh();
        await mkdir(dirname(join(source, to)), { recursive: true });
        await rename(join(source, p), join(source, to));
        done.push(`rename ${p} -> ${to}`);
      } else if (op === 5) {
        const p = r.pick(files);
        await rm(join(source, p));
        await mkdir(join(source, p));
        await writeFile(join(source, p, r.pick(NAMES)), `was a file ${round}`);
        done.push(`file->folder ${p}`);
      } else if (op === 6 && of('dir').length > 0) {
        const p = r.pick(of('dir'));
        await rm(join(source, p), { recursive: true });
        await writeFile(join(source, p), `was a folder ${round}`);
        done.push(`folder->file ${p}`);
      } else if (op === 7) {
        const p = r.pick(files);
        await rm(join(source, p));
        await symlink(r.pick(NAMES), join(source, p));
        done.push(`file->symlink ${p}`);
      } else if (op === 8 && of('symlink').length > 0) {
        const p = r.pick(of('symlink'));
        await rm(join(source, p));
        if (r.int(2) === 0) await writeFile(join(source, p), `was a link ${round}`);
        else await mkdir(join(source, p));
        done.push(`symlink->file/folder ${p}`);
      } else if (op === 9) {
        const p = fresh();
        await mkdir(dirname(join(source, p)), { recursive: true });
        await symlink(`../${r.pick(NAMES)}`, join(source, p));
        done.push(`symlink ${p}`);
      } else {
        const p = fresh();
        await mkdir(join(source, p, 'deeper'), { recursive: true });
        await writeFile(join(source, p, 'deeper', r.pick(NAMES)), `deep ${round}`);
        done.push(`folder ${p}`);
      }
    } catch (error) {
      // A new name that collides with a file on its way (`x/y` where `x` is a file): skipped.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' && (error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
    }
  }
  return done;
}

export async function seedTree(source: string, r: ReturnType<typeof rng>): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const dir = r.int(3) === 0 ? '' : `${r.pick(NAMES)}/${r.int(2) === 0 ? `${r.pick(NAMES)}/` : ''}`;
    await mkdir(join(source, dir), { recursive: true });
    await writeFile(join(source, dir, `${r.pick(NAMES)}-${i}`), `seed ${i} ${'x'.repeat(r.int(3000))}`);
  }
  await symlink('plain-0', join(source, 'link-to-plain'));
}

interface Listing { slots: Array<{ number: number | null; id: string; manifest: { counts: { created: number; changed: number; deleted: number }; changeLog: string; checksums: string | null } }> }

/**
 * Checks slot 0's checksum list (against a walk, in rsync's order) and, with a slot 1, its change
 * log and counts against what a walk of both slots implies. `inPlace`: a copy-on-write ring.
 */
export async function checkNewestSlot(target: string, what: string, inPlace = false): Promise<void> {
  const listing = JSON.parse((await runCli(['list', '--target', target, '--json'])).stdout) as Listing;
  const [s0, s1] = listing.slots;
  const newer = snapshotOf(join(target, '0'));
  const older = s1 ? snapshotOf(join(target, '1')) : new Map<string, Entry>();
  const meta = join(target, '.shadow-slots');
  // The checksum list: every file and symlink with its content's hash, in rsync's order.
  const sums = join(meta, s0!.manifest.checksums!);
  assert.equal(await sumsOrderOf(sums), 'rsync', what);
  const recorded: Array<[string, string]> = [];
  for await (const line of readSums(sums)) recorded.push([line.path, line.hash]);
  const walked = [...newer].filter(([, e]) => e.kind !== 'dir').map(([p, e]) => [p, e.hash!] as [string, string]);
  assert.deepEqual(new Map(recorded), new Map(walked), `${what}: checksums`);
  assert.deepEqual(recorded.map(([p]) => p), [...recorded.map(([p]) => p)].sort(compareRsyncOrder), `${what}: in rsync's order`);
  const engineWalk: string[] = [];
  for await (const e of walkTree(join(target, '0'))) engineWalk.push(e.path);
  assert.deepEqual(recorded.map(([p]) => p), engineWalk, `${what}: the order verify walks in`);
  if (!s1) return;
  // The change log and the counts, against the walk of both slots.
  const log = (await readFile(join(meta, s0!.manifest.changeLog), 'utf8')).split('\n').filter(Boolean).sort();
  const expected = expectedChanges(newer, older, inPlace);
  assert.deepEqual(log, expected, `${what}: change log`);
  const leaf = (mark: string) => expected.filter((l) => l.startsWith(mark) && !l.endsWith('/"')).length;
  const { created, changed, deleted } = s0!.manifest.counts;
  assert.deepEqual({ created, changed, deleted }, { created: leaf('+'), changed: leaf('~'), deleted: leaf('-') }, `${what}: counts`);
}
