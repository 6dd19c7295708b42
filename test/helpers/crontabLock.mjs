// The user's crontab is one table for all of that user's processes: two test runs at once (CI
// retries, several engineers on one machine) would save and restore each other's entries. Every test that touches
// it holds this lock (created with O_EXCL, holds the owner's pid, taken over when that process is
// gone). Plain JavaScript, so the VS Code harness and the TypeScript suites share it.
import { execFileSync } from 'node:child_process';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CRONTAB_LOCK = join(tmpdir(), 'shadow-slots-crontab-test.lock');
// The crontab as the lock holder found it: a holder killed with -9 never ran its `finally`, and the
// next holder puts this back first (a killed run had left two lines that failed a later CI run).
const CRONTAB_SAVED = `${CRONTAB_LOCK}.crontab`;

/** Root's crontab; '' when there is none (crontab -l: "no crontab for root", exit 1). */
export function readCrontab() {
  try {
    return execFileSync('crontab', ['-l'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if (/no crontab/i.test(String(error.stderr))) return '';
    throw error;
  }
}

/** Replaces root's crontab with `text`; an empty one removes it. */
export function writeCrontab(text) {
  if (text.trim() === '') { try { execFileSync('crontab', ['-r'], { stdio: 'ignore' }); } catch { /* none */ } return; }
  execFileSync('crontab', ['-'], { input: text, stdio: ['pipe', 'ignore', 'pipe'] });
}

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
      if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
        const left = await readFile(CRONTAB_SAVED, 'utf8').catch(() => null);
        if (left !== null) writeCrontab(left);
        await rm(CRONTAB_SAVED, { force: true });
        await rm(CRONTAB_LOCK, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`the crontab test lock ${CRONTAB_LOCK} is held by process ${owner}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    await writeFile(CRONTAB_SAVED, readCrontab());
    return await body();
  } finally {
    await rm(CRONTAB_SAVED, { force: true });
    await rm(CRONTAB_LOCK, { force: true });
  }
}
