import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Stops an rsync left running by an engine that was killed (kill -9, crash): it would otherwise
 * keep writing into the in-progress folder the next run is about to reuse. Only a process whose
 * command line names that exact folder is touched, so a recycled pid is never killed.
 */
export async function stopOrphanCopy(pid: number, destination: string): Promise<boolean> {
  if (process.platform !== 'linux' || !Number.isInteger(pid) || pid <= 0) return false;
  let cmdline: string;
  try {
    cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
  } catch {
    return false;
  }
  if (!cmdline.includes(destination)) return false;
  // The engine started rsync as a process-group leader; its receiver and generator share the group.
  try { process.kill(-pid, 'SIGKILL'); } catch { try { process.kill(pid, 'SIGKILL'); } catch { return false; } }
  for (let i = 0; i < 50; i++) {
    try { await readFile(`/proc/${pid}/cmdline`); } catch { return true; }
    await sleep(20);
  }
  return true;
}
