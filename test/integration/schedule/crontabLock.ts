// The user's crontab is one global table: two test runs at once (CI retries, several engineers on
// one machine) would save and restore each other's entries. Every test that touches it holds this
// lock; a lock whose owner process is gone is taken over.
import { open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LOCK = join(tmpdir(), 'shadow-slots-crontab-test.lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function withCrontabLock<T>(body: () => Promise<T>, timeoutMs = 600_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(LOCK, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(await readFile(LOCK, 'utf8').catch(() => ''));
      if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
        await rm(LOCK, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`the crontab test lock ${LOCK} is held by process ${owner}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await body();
  } finally {
    await rm(LOCK, { force: true });
  }
}
