import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { ShadowSlotsError } from '../../core/errors';
import { run } from '../runner';
import type { Artefact } from './artefacts';
import type { PlatformStatus, Registrar } from './registrar';
import { readIfExists, restoreFile, type ScheduleEntry } from './registry';
import { writeFileAtomic } from '../fsutil';
import { unitBaseName } from './systemd';

const TIMEOUT = 30_000;

/** True when this session has a systemd user manager that `systemctl --user` can talk to. */
export async function systemdUserAvailable(): Promise<boolean> {
  try {
    await run('systemctl', ['--user', 'show-environment'], { timeoutMs: 5000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Unit files in ~/.config/systemd/user, activated with `systemctl --user enable --now`. On any
 * failure the previous unit files (or none) are put back and the manager reloaded, so no timer is
 * left pointing at a service that is not there.
 */
export class SystemdRegistrar implements Registrar {
  readonly platform = 'systemd' as const;

  constructor(private readonly unitDir: string) {}

  private systemctl(args: string[], okExitCodes?: number[]) {
    return run('systemctl', ['--user', ...args], { timeoutMs: TIMEOUT, ...(okExitCodes ? { okExitCodes } : {}) });
  }

  async install(entry: ScheduleEntry, artefacts: Artefact[]): Promise<void> {
    const files = artefacts.filter((a) => a.installPath !== undefined);
    if (files.length !== 2) throw new ShadowSlotsError('internal', 'A systemd schedule needs a timer and a service unit.');
    const previous = await Promise.all(files.map((a) => readIfExists(a.installPath!)));
    const timer = `${unitBaseName(entry.id)}.timer`;
    try {
      for (const a of files) await writeFileAtomic(a.installPath!, a.content, { makeFolders: true });
      await this.systemctl(['daemon-reload']);
      await this.systemctl(['enable', '--now', timer]);
      // Restart picks up a changed OnCalendar= of a timer that was already running.
      await this.systemctl(['restart', timer]);
    } catch (error) {
      await Promise.all(files.map((a, i) => restoreFile(a.installPath!, previous[i])));
      await this.systemctl(['daemon-reload']).catch(() => undefined);
      if (previous.every((p) => p === undefined)) await this.systemctl(['disable', timer], [0, 1, 5]).catch(() => undefined);
      throw error;
    }
  }

  async uninstall(entry: Pick<ScheduleEntry, 'id' | 'files'>): Promise<void> {
    const base = unitBaseName(entry.id);
    await this.systemctl(['disable', '--now', `${base}.timer`], [0, 1, 5]);
    for (const f of [path.join(this.unitDir, `${base}.timer`), path.join(this.unitDir, `${base}.service`)]) await restoreFile(f, undefined);
    await this.systemctl(['daemon-reload']);
    await this.systemctl(['reset-failed', `${base}.service`, `${base}.timer`], [0, 1, 5]).catch(() => undefined);
  }

  async status(entry: ScheduleEntry): Promise<PlatformStatus> {
    const base = unitBaseName(entry.id);
    const timer = parseShow((await this.systemctl(['show', `${base}.timer`, '-p', 'LoadState', '-p', 'NextElapseUSecRealtime', '-p', 'LastTriggerUSec'])).stdout);
    const service = parseShow((await this.systemctl(['show', `${base}.service`, '-p', 'Result', '-p', 'ExecMainStatus'])).stdout);
    const status: PlatformStatus = { registered: timer['LoadState'] === 'loaded' };
    if (timer['NextElapseUSecRealtime']) status.nextRun = timer['NextElapseUSecRealtime'];
    if (timer['LastTriggerUSec'] && timer['LastTriggerUSec'] !== 'n/a') {
      status.lastRun = timer['LastTriggerUSec'];
      status.lastResult = service['Result'] === 'success' ? 'success' : `${service['Result'] ?? 'unknown'} (exit ${service['ExecMainStatus'] ?? '?'})`;
    }
    return status;
  }

  async ownIds(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.unitDir);
    } catch {
      return [];
    }
    return names.map((n) => /^shadow-slots-([a-z0-9][a-z0-9-]*)\.timer$/.exec(n)?.[1]).filter((x): x is string => x !== undefined);
  }
}

/** Parses `systemctl show` output (`Key=value` lines). */
export function parseShow(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}
