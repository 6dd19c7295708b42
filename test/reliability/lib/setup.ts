import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { killProcessesMentioning } from './cli';

/**
 * A work folder removed after the test, pass or fail; any process still mentioning it (an rsync
 * a test orphaned on purpose) is killed first, so nothing outlives the test.
 */
export async function workDir(t: TestContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `shadow-slots-${prefix}-`));
  t.after(async () => {
    killProcessesMentioning(dir);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Writes a profile file for `backup --profile`; rsyncArgs such as --bwlimit slow the copy down on purpose. */
export async function writeProfile(file: string, profile: { source: string; target: string; slots?: number; snapshot?: string; excludes?: string[]; rsyncArgs?: string[]; name?: string }): Promise<string> {
  await writeFile(file, JSON.stringify({ snapshot: 'none', slots: 3, ...profile }));
  return file;
}

export function slotId(result: { events: Array<Record<string, unknown>> }): string {
  const r = result.events.find((e) => e.type === 'result') as { result: { slot: { id: string } } } | undefined;
  if (!r) throw new Error('no result event');
  return r.result.slot.id;
}
