import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { ShadowSlotsError } from '../core/errors';
import { formatRsyncVersion, MIN_RSYNC_VERSION, parseRsyncVersion, versionAtLeast } from '../core/rsyncVersion';
import { run } from './runner';

export interface RsyncTool {
  path: string;
  /** `x.y.z` (formatRsyncVersion). */
  version: string;
}

async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch { /* keep looking */ }
  }
  return undefined;
}

/** Finds rsync (configured path, then PATH) and checks its version. */
export async function locateRsync(configured: string | undefined): Promise<RsyncTool> {
  const path = configured ?? (await findOnPath('rsync'));
  if (!path) {
    throw new ShadowSlotsError('preflight', 'rsync was not found on PATH.', {
      hint: 'Install it (Debian/Ubuntu: sudo apt install rsync; macOS: brew install rsync; Windows: see the README) or set the rsync path.',
    });
  }
  let output: string;
  try {
    output = (await run(path, ['--version'], { timeoutMs: 15000, errorCode: 'preflight' })).stdout;
  } catch (error) {
    throw new ShadowSlotsError('preflight', `rsync at ${path} could not be run: ${(error as Error).message}`, { hint: 'Check the rsync path setting.' });
  }
  const version = parseRsyncVersion(output);
  if (!version) throw new ShadowSlotsError('preflight', `${path} does not look like rsync (no version in its --version output).`, { hint: 'Check the rsync path setting.' });
  if (!versionAtLeast(version, MIN_RSYNC_VERSION)) {
    throw new ShadowSlotsError('preflight', `rsync ${formatRsyncVersion(version)} at ${path} is too old; Shadow Slots needs ${formatRsyncVersion(MIN_RSYNC_VERSION)} or newer.`, {
      hint: 'Install a current rsync (macOS ships 2.6.9: brew install rsync).',
    });
  }
  return { path, version: formatRsyncVersion(version) };
}
