import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Rng } from './prng';

/** A source with folders of small files, a few bigger ones and symlinks — the shape of a project folder. */
export function populateSource(root: string, rng: Rng, options: { dirs: number; filesPerDir: number; bigFiles: number; bigBytes: number }): void {
  for (let d = 0; d < options.dirs; d++) {
    const dir = join(root, `d${String(d).padStart(2, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < options.filesPerDir; f++) writeFileSync(join(dir, `f${String(f).padStart(3, '0')}.txt`), randomBytes(rng.int(50, 3000)));
  }
  mkdirSync(join(root, 'big'), { recursive: true });
  for (let b = 0; b < options.bigFiles; b++) writeFileSync(join(root, 'big', `b${b}.bin`), randomBytes(options.bigBytes));
  symlinkSync('d00/f000.txt', join(root, 'link-relative'));
  symlinkSync('/nonexistent/elsewhere', join(root, 'link-dangling'));
}

/**
 * One day of edits: changed, deleted, added and merely touched files, plus `newBytes` of fresh
 * data in a big file so the copy phase lasts long enough to be hit at random moments.
 */
export function mutateSource(root: string, rng: Rng, newBytes: number): void {
  const dirs = readdirSync(root).filter((n) => /^d\d\d$/.test(n));
  const anyFile = () => {
    const dir = join(root, rng.pick(dirs));
    const files = readdirSync(dir);
    return files.length > 0 ? join(dir, rng.pick(files)) : null;
  };
  for (let i = 0; i < 8; i++) { const f = anyFile(); if (f) writeFileSync(f, randomBytes(rng.int(50, 3000))); }
  for (let i = 0; i < 3; i++) { const f = anyFile(); if (f) rmSync(f, { force: true }); }
  for (let i = 0; i < 3; i++) writeFileSync(join(root, rng.pick(dirs), `new-${Date.now()}-${i}-${rng.int(0, 1e6)}.txt`), randomBytes(rng.int(10, 2000)));
  const touched = anyFile();
  if (touched) { const t = new Date(Date.now() - rng.int(1, 1e6) * 1000); utimesSync(touched, t, t); }
  const bigs = readdirSync(join(root, 'big'));
  if (bigs.length > 0 && newBytes > 0) writeFileSync(join(root, 'big', rng.pick(bigs)), randomBytes(newBytes));
}
