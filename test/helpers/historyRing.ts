// Rings with a known past for the history, change-mark and find tests: a timeline of backups in
// which files are created, changed, deleted, made again and renamed at chosen runs, on any kind
// of target (hard-linked folders here, btrfs copy-on-write in test/btrfs).
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from './cli';
import { writeVersion } from './cowScenario';
import { tempDir } from './tmp';
import { HOSTILE_NAMES } from './hostileNames';
import { forgetIndexes } from '../../src/engine/ringIndex';

/** Hostile names a file can have (not empty, no `/`), in one folder of the timeline. */
export const HOSTILE_FILES = HOSTILE_NAMES.filter((n) => n !== '' && !n.includes('/'));

/**
 * The index cache of this test in a folder of its own (removed after it), for the engine
 * functions called here and for the CLI processes it starts (which inherit the environment).
 */
export async function privateIndexCache(t: TestContext): Promise<string> {
  const dir = await tempDir(t, 'shadow-slots-index-');
  const before = process.env['SHADOW_SLOTS_CACHE_DIR'];
  process.env['SHADOW_SLOTS_CACHE_DIR'] = dir;
  forgetIndexes();
  t.after(() => {
    forgetIndexes();
    if (before === undefined) delete process.env['SHADOW_SLOTS_CACHE_DIR']; else process.env['SHADOW_SLOTS_CACHE_DIR'] = before;
  });
  return dir;
}

/**
 * Ten backups (run 0 oldest … run 9 newest, so run r ends up in slot 9 − r):
 * - `f.txt` made in run 2 (slot 7), changed in runs 6 (slot 3) and 9 (slot 0): three versions;
 * - `keep.txt` made in run 0 and never changed: one version in every slot;
 * - `g.txt` made in run 0, deleted in run 3, made again (other content) in run 5;
 * - `same.txt` made in run 0, deleted in run 3, made again with the same content and time in run 5;
 * - `r-old.txt` renamed to `r-new.txt` in run 8 (same content and time);
 * - `odd/<name>` for every hostile name, made in run 0, changed in run 4;
 * - `gone/deep/x.txt` and `gone/y.txt` made in run 0, the whole folder deleted in run 7.
 */
export async function tenRuns(source: string, backup: () => Promise<void>): Promise<void> {
  const at = (...p: string[]) => join(source, ...p);
  await mkdir(at('odd'), { recursive: true });
  await mkdir(at('gone', 'deep'), { recursive: true });
  for (let run = 0; run < 10; run++) {
    const v = run + 1;
    if (run === 0) {
      await writeVersion(at('keep.txt'), 'never changes\n', 0);
      await writeVersion(at('g.txt'), 'g first\n', 1);
      await writeVersion(at('same.txt'), 'same content\n', 1);
      await writeVersion(at('r-old.txt'), 'renamed later\n', 1);
      await writeVersion(at('gone', 'deep', 'x.txt'), 'x\n', 1);
      await writeVersion(at('gone', 'y.txt'), 'y\n', 1);
      for (const n of HOSTILE_FILES) await writeVersion(at('odd', n), `hostile ${JSON.stringify(n)}\n`, 1);
    }
    if (run === 2) await writeVersion(at('f.txt'), 'f one\n', v);
    if (run === 3) { await rm(at('g.txt')); await rm(at('same.txt')); }
    if (run === 4) for (const n of HOSTILE_FILES) await writeVersion(at('odd', n), `hostile ${JSON.stringify(n)} changed\n`, v);
    if (run === 5) { await writeVersion(at('g.txt'), 'g second, longer\n', v); await writeVersion(at('same.txt'), 'same content\n', 1); }
    if (run === 6) await writeVersion(at('f.txt'), 'f two, longer\n', v);
    if (run === 7) await rm(at('gone'), { recursive: true });
    if (run === 8) await rename(at('r-old.txt'), at('r-new.txt'));
    if (run === 9) await writeVersion(at('f.txt'), 'f three, the longest\n', v);
    await backup();
  }
}

/** A source folder and an empty ring folder in a temp folder of the test. */
export async function sourceAndRing(t: TestContext, ringParent?: string): Promise<{ source: string; target: string }> {
  const dir = await tempDir(t);
  const source = join(dir, 'project');
  const target = join(ringParent ?? dir, 'ring');
  await mkdir(source, { recursive: true });
  await mkdir(target, { recursive: true });
  return { source, target };
}

/** One backup through the CLI, which must succeed. */
export async function backupOk(source: string, target: string, extra: string[] = [], env: Record<string, string> = {}): Promise<void> {
  const r = await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', ...extra], env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
}
