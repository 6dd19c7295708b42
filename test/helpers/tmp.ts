import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { purgesBelowFinished } from './purge';

/**
 * A temp folder removed after the test, pass or fail; once the detached purges a backup started
 * in rings below it have finished (they delete dropped slots after the backup's process ended).
 */
export async function tempDir(t: TestContext, prefix = 'shadow-slots-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(async () => {
    await purgesBelowFinished(dir);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/**
 * A temp folder with `src/` holding `count` 1 MiB files and an empty `ring/`: enough data that a
 * throttled copy is still running when a test cancels or kills it.
 */
export async function slowCopyFixture(t: TestContext, count = 30): Promise<{ dir: string; source: string; target: string }> {
  const dir = await tempDir(t);
  const source = join(dir, 'src');
  const target = join(dir, 'ring');
  await mkdir(source);
  await mkdir(target);
  for (let i = 0; i < count; i++) await writeFile(join(source, `big${i}`), Buffer.alloc(1024 * 1024, i));
  return { dir, source, target };
}
