import { mkdir, readdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { invalid } from '../../core/errors';
import type { HelperPlan } from './helperPlan';

/**
 * Writes the staging folder: exactly the bytes the elevated installer copies (helper.ps1,
 * profile.json, task.xml, the rsync copy under rsync/), its manifest (install.json), the folder
 * ACLs for review (acl.json) and the installer. `shadow-slots helper plan --out` and Set Up Elevated Helper both use this, so what a
 * reviewer reads is byte-identical to what gets installed. Refuses a non-empty folder.
 */
export async function writeHelperStaging(dir: string, plan: HelperPlan): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const present = await readdir(dir);
  if (present.length > 0) throw invalid(`The output folder ${dir} is not empty.`, 'Give an empty or new folder.');
  const written: string[] = [];
  for (const f of plan.staging) {
    const file = path.join(dir, ...f.name.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, f.bytes, { flag: 'wx' });
    written.push(file);
  }
  return written;
}
