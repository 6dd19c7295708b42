// The user's crontab is one table for all of that user's processes: two test runs at once (CI
// retries, several engineers on one machine) would save and restore each other's entries. Every test that touches
// it holds this lock (created with O_EXCL, holds the owner's pid, taken over when that process is
// gone). Plain JavaScript, so the VS Code harness and the TypeScript suites share it.
import { open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CRONTAB_LOCK = join(tmpdir(), 'shadow-slots-crontab-test.lock');

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (error) { return error.code === 'EPERM'; }
}

export async function withCrontabLock(body, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const handle = await open(CRONTAB_LOCK, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const owner = Number(await readFile(CRONTAB_LOCK, 'utf8').catch(() => ''));
      if (Number.isInteger(owner) && owner > 0 && !alive(owner)) { await rm(CRONTAB_LOCK, { force: true }); continue; }
      if (Date.now() > deadline) throw new Error(`the crontab test lock ${CRONTAB_LOCK} is held by process ${owner}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await body();
  } finally {
    await rm(CRONTAB_LOCK, { force: true });
  }
}
