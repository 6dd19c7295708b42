/** The schedule commands; package.json must declare exactly these (see docs/schedules.md). */
export const ScheduleCommands = {
  create: 'shadowSlots.createSchedule',
  edit: 'shadowSlots.editSchedule',
  runNow: 'shadowSlots.runScheduleNow',
  delete: 'shadowSlots.deleteSchedule',
  show: 'shadowSlots.showSchedules',
} as const;

/** Settings read by the schedule feature (package.json `contributes.configuration`). */
export const ScheduleSettings = {
  /** 'auto' | 'windows' | 'systemd' | 'cron' | 'launchd' */
  platform: 'shadowSlots.schedule.platform',
  /** Node.js executable for scheduled runs; empty = the first `node` on PATH. */
  nodePath: 'shadowSlots.schedule.nodePath',
} as const;
