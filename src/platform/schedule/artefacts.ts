import * as path from 'node:path';
import type { ScheduleSpec } from '../../core/schedule/spec';
import type { SchedulerPlatform } from '../../core/schedule/wizard';
import { buildCronLine, cronNotes } from './cron';
import type { JobCommand } from './engineCommand';
import { buildLaunchdPlist, launchdLabel, launchdNotes } from './launchd';
import type { SchedulePaths } from './paths';
import { buildSystemdUnits, systemdNotes } from './systemd';
import { buildScheduleTaskXml, scheduleTaskSpec, taskPath } from './windows';

/** One generated file: its name for `--dry-run`, the exact bytes, and where registering puts it. */
export interface Artefact {
  name: string;
  content: string | Buffer;
  /** The text a human reviews (the XML before UTF-16 encoding). */
  text: string;
  installPath?: string;
}

export interface ArtefactInput {
  spec: ScheduleSpec;
  job: JobCommand;
  /** Human label (the profile name) for descriptions. */
  label: string;
  paths: SchedulePaths;
  now: Date;
  zone: string;
  /** Windows user (DOMAIN\user) for user principals. */
  userId: string;
}

export interface RenderedSchedule {
  platform: SchedulerPlatform;
  artefacts: Artefact[];
  /** What this platform cannot do for the chosen conditions. */
  notes: string[];
}

export function renderSchedule(platform: SchedulerPlatform, input: ArtefactInput): RenderedSchedule {
  const { spec, job, label, paths } = input;
  switch (platform) {
    case 'systemd': {
      const u = buildSystemdUnits(spec, job, label);
      return { platform, notes: systemdNotes(spec), artefacts: [
        { name: u.timerName, content: u.timer, text: u.timer, installPath: path.join(paths.systemdUserDir, u.timerName) },
        { name: u.serviceName, content: u.service, text: u.service, installPath: path.join(paths.systemdUserDir, u.serviceName) },
      ] };
    }
    case 'cron': {
      const line = buildCronLine(spec, job, paths.logFile(spec.id));
      return { platform, notes: cronNotes(spec), artefacts: [{ name: `crontab-${spec.id}.txt`, content: line + '\n', text: line }] };
    }
    case 'launchd': {
      const plist = buildLaunchdPlist(spec, job, paths.logFile(spec.id));
      const name = `${launchdLabel(spec.id)}.plist`;
      return { platform, notes: launchdNotes(spec), artefacts: [{ name, content: plist, text: plist, installPath: path.join(paths.launchAgentsDir, name) }] };
    }
    case 'windows': {
      const task = scheduleTaskSpec(spec, job, input.userId, label, input.now, input.zone);
      const { xml, bytes } = buildScheduleTaskXml(task);
      // SYSTEM is refused by the registrar (refuseSystemSchedule); the elevated helper never registers schedules.
      const notes = spec.account === 'user-s4u' ? ['Registering a task that runs while you are logged off (S4U) may need an elevated prompt, depending on local policy.'] : [];
      return { platform, notes, artefacts: [{ name: `${taskPath(spec.id).split('\\').pop()!}.xml`, content: bytes, text: xml }] };
    }
  }
}
