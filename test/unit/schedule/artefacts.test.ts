import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import plist from 'plist';
import { ShadowSlotsError } from '../../../src/core/errors';
import type { ScheduleSpec } from '../../../src/core/schedule/spec';
import { buildCronLine, cronIds, cronWord, removeCronLine, upsertCronLine } from '../../../src/platform/schedule/cron';
import { jobCommand, type JobCommand } from '../../../src/platform/schedule/engineCommand';
import { buildLaunchdPlist } from '../../../src/platform/schedule/launchd';
import { buildSystemdUnits, onCalendar, SH_EXEC } from '../../../src/platform/schedule/systemd';
import { buildScheduleTaskXml, scheduleTaskSpec } from '../../../src/platform/schedule/windows';
import { run } from '../../../src/platform/runner';
import { CRON_DIALECTS, cronCommand, cronFields, HOSTILE, systemdExecArgv, unitSection, windowsArgv } from './helpers/parsers';

const base: ScheduleSpec = { id: 'proj', when: { kind: 'weekdays' }, time: { hour: 23, minute: 30 }, conditions: { runOnBattery: false, wakeToRun: false, catchUp: true, stopAfterHours: 0 }, account: 'user' };
const kinds: Array<Pick<ScheduleSpec, 'when' | 'time'>> = [
  { when: { kind: 'daily' }, time: { hour: 0, minute: 0 } },
  { when: { kind: 'weekdays' }, time: { hour: 23, minute: 30 } },
  { when: { kind: 'days', days: [0, 3, 6] }, time: { hour: 7, minute: 5 } },
  { when: { kind: 'once', date: '2027-01-02' }, time: { hour: 9, minute: 59 } },
];

function hostileJob(value: string): JobCommand {
  return jobCommand({ node: `/opt/${value}/bin/node`, cli: `/home/${value}/dist/cli.js` }, `/home/${value}/.config/shadow-slots/profiles/proj.json`);
}
const expectedArgv = (job: JobCommand) => [job.command, ...job.args];

test('systemd: ExecStart= reads back as the exact argv for every hostile value', () => {
  for (const value of HOSTILE) {
    const job = hostileJob(value);
    const units = buildSystemdUnits(base, job, `label ${value}`);
    const exec = unitSection(units.service, 'Service')['ExecStart'];
    assert.equal(exec?.length, 1);
    const argv = /['"\\]/.test(job.command) ? [...SH_EXEC, ...expectedArgv(job)] : expectedArgv(job);
    assert.deepEqual(systemdExecArgv(exec![0]!), argv, value);
    const desc = unitSection(units.service, 'Unit')['Description']![0]!;
    assert.doesNotMatch(desc.replace(/%%/g, ''), /%/, 'no live specifier in Description=');
    assert.equal(unitSection(units.timer, 'Timer')['Unit']![0], 'shadow-slots-proj.service');
  }
});

test('systemd: conditions and calendar per kind', () => {
  assert.deepEqual(kinds.map(onCalendar), ['*-*-* 00:00:00', 'Mon..Fri *-*-* 23:30:00', 'Sun,Wed,Sat *-*-* 07:05:00', '2027-01-02 09:59:00']);
  const on = buildSystemdUnits({ ...base, conditions: { runOnBattery: true, wakeToRun: true, catchUp: false, stopAfterHours: 3 } }, hostileJob('x'), 'x');
  assert.equal(unitSection(on.timer, 'Timer')['Persistent']![0], 'false');
  assert.equal(unitSection(on.timer, 'Timer')['WakeSystem']![0], 'true');
  assert.equal(unitSection(on.service, 'Service')['TimeoutStartSec']![0], '3h');
  assert.equal(unitSection(on.service, 'Unit')['ConditionACPower'], undefined);
  const off = buildSystemdUnits(base, hostileJob('x'), 'x');
  assert.equal(unitSection(off.timer, 'Timer')['Persistent']![0], 'true', 'catch-up is Persistent=true');
  assert.equal(unitSection(off.service, 'Unit')['ConditionACPower']![0], 'true');
  assert.equal(unitSection(off.service, 'Service')['TimeoutStartSec']![0], 'infinity');
});

test('cron: every hostile value survives cron\'s escapes (Debian\'s and Vixie/cronie\'s) and a real sh, as the exact argv', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ss-cron-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const dialect of CRON_DIALECTS) {
    for (const [i, value] of HOSTILE.entries()) {
      // The same line shape as a real job, with node printing the argv it received instead of backing up.
      const log = join(dir, `${dialect}-${value.replace(/[^\w]/g, '_')}-${i}.log`);
      const args = ['-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', `/home/${value}/dist/cli.js`, 'backup', '--profile', `/home/${value}/p.json`];
      const line = buildCronLine({ ...base, conditions: { ...base.conditions, stopAfterHours: 1 } }, { command: process.execPath, args }, log);
      const { fields, command } = cronFields(line);
      assert.deepEqual(fields, ['30', '23', '*', '*', '1,2,3,4,5']);
      const { command: shellText, stdin } = cronCommand(command, dialect);
      assert.equal(stdin, undefined, `no unescaped % in ${line}`);
      await run('/bin/sh', ['-c', shellText], { env: { HOME: dir } });
      assert.deepEqual(JSON.parse(await readFile(log, 'utf8')), args.slice(2), `${dialect}: ${value}`);
    }
  }
});

test('cron: the printf check — each word is one literal argument to sh, in both cron dialects', async () => {
  const words = HOSTILE.map((v) => `${v}%`);
  for (const dialect of CRON_DIALECTS) {
    const shellText = cronCommand(`printf '\\%s\\n' ${words.map(cronWord).join(' ')}`, dialect).command;
    const out = await run('/bin/sh', ['-c', shellText]);
    assert.deepEqual(out.stdout.split('\n').slice(0, -1), words, dialect);
  }
});

test('cron: no backslash in a generated word is followed by another backslash, which Debian\'s cron would unescape', () => {
  for (const value of [...HOSTILE, '\\', '\\\\', 'a\\\\\\b', '\\%\\']) {
    const word = cronWord(value);
    assert.doesNotMatch(word, /\\\\/, `${JSON.stringify(value)} → ${word}`);
  }
});

test('cron: time fields per kind, one-off year guard, marker edits touch only our lines', () => {
  const job = hostileJob('x');
  const lines = kinds.map((k) => buildCronLine({ ...base, ...k }, job, '/tmp/l'));
  assert.deepEqual(lines.map((l) => cronFields(l).fields.join(' ')), ['0 0 * * *', '30 23 * * 1,2,3,4,5', '5 7 * * 0,3,6', '59 9 2 1 *']);
  assert.match(lines[3]!, / \[ "\$\(date \+\\%Y\)" = 2027 \] && /);
  const foreign = '# my own job\nMAILTO=me\n0 1 * * * /usr/bin/true # shadow-slots:id=fake-but-not-at-end x\n';
  const withOurs = upsertCronLine(foreign, 'proj', lines[1]!);
  assert.equal(withOurs, foreign + lines[1] + '\n');
  assert.deepEqual(cronIds(withOurs), ['proj']);
  const replaced = upsertCronLine(withOurs, 'proj', lines[0]!);
  assert.equal(replaced.split('\n').filter((l) => l.includes('shadow-slots:id=proj')).length, 1);
  assert.equal(removeCronLine(replaced, 'proj'), foreign);
  assert.equal(removeCronLine(foreign, 'proj'), foreign);
  assert.equal(removeCronLine(lines[1]! + '\n', 'proj'), '');
});

test('launchd: the plist parses back (plist package) with the exact ProgramArguments and intervals', () => {
  for (const value of HOSTILE) {
    const job = hostileJob(value);
    const parsed = plist.parse(buildLaunchdPlist(base, job, `/home/${value}/log`)) as Record<string, unknown>;
    assert.equal(parsed['Label'], 'io.shadow-slots.schedule.proj');
    assert.deepEqual(parsed['ProgramArguments'], expectedArgv(job), value);
    assert.equal(parsed['StandardOutPath'], `/home/${value}/log`);
    assert.equal(parsed['RunAtLoad'], false);
  }
  const intervals = kinds.map((k) => (plist.parse(buildLaunchdPlist({ ...base, ...k }, hostileJob('x'), '/l')) as Record<string, unknown>)['StartCalendarInterval']);
  assert.deepEqual(intervals, [
    [{ Hour: 0, Minute: 0 }],
    [1, 2, 3, 4, 5].map((d) => ({ Weekday: d, Hour: 23, Minute: 30 })),
    [0, 3, 6].map((d) => ({ Weekday: d, Hour: 7, Minute: 5 })),
    [{ Month: 1, Day: 2, Hour: 9, Minute: 59 }],
  ]);
});

const xml = new XMLParser({ ignoreAttributes: false, parseTagValue: false, trimValues: false, isArray: (name) => name === 'CalendarTrigger' || name === 'TimeTrigger' });
function parseTask(bytes: Buffer): Record<string, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xfe], 'UTF-16LE BOM');
  const text = bytes.subarray(2).toString('utf16le');
  assert.match(text, /^<\?xml version="1.0" encoding="UTF-16"\?>/);
  return xml.parse(text).Task;
}

test('Task XML: UTF-16LE with BOM; command and arguments read back through CommandLineToArgvW rules', () => {
  // Task Scheduler expands %VAR% pairs with no escape, so values with two % are refused (below).
  for (const value of HOSTILE.filter((v) => (v.match(/%/g) ?? []).length < 2)) {
    const job = jobCommand({ node: `C:\\Program Files\\${value}\\node.exe`, cli: `C:\\Users\\${value}\\dist\\cli.js` }, `C:\\Users\\${value}\\AppData\\Roaming\\shadow-slots\\profiles\\proj.json`);
    const task = parseTask(buildScheduleTaskXml(scheduleTaskSpec(base, job, `PC\\${value}`, value, new Date('2026-11-26T07:00:00Z'), 'Europe/Berlin')).bytes);
    assert.equal(task.Actions.Exec.Command, job.command, value);
    assert.deepEqual(windowsArgv(task.Actions.Exec.Arguments), job.args, value);
    assert.equal(task.Principals.Principal.UserId, `PC\\${value}`);
    assert.match(task.RegistrationInfo.Description, new RegExp(`^Shadow Slots backup of ${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:`));
  }
  const refused = jobCommand({ node: 'C:\\n\\node.exe', cli: 'C:\\a %PATH% b\\cli.js' }, 'C:\\p.json');
  assert.throws(() => buildScheduleTaskXml(scheduleTaskSpec(base, refused, 'PC\\u', 'x', new Date(), 'UTC')), (e: unknown) => e instanceof ShadowSlotsError && /%…% pair/.test(e.message));
});

const days = (o: object) => Object.keys(o).filter((k) => k !== '#text');

test('Task XML: triggers per kind, settings and principal field by field', () => {
  const job = jobCommand({ node: 'C:\\node\\node.exe', cli: 'C:\\ss\\dist\\cli.js' }, 'C:\\cfg\\proj.json');
  const now = new Date('2026-11-26T07:00:00Z');
  const triggers = kinds.map((k) => parseTask(buildScheduleTaskXml(scheduleTaskSpec({ ...base, ...k }, job, 'PC\\me', 'proj', now, 'Europe/Berlin')).bytes).Triggers);
  assert.equal(triggers[0].CalendarTrigger[0].StartBoundary, '2026-11-26T00:00:00');
  assert.equal(triggers[0].CalendarTrigger[0].ScheduleByDay.DaysInterval, '1');
  assert.deepEqual(days(triggers[1].CalendarTrigger[0].ScheduleByWeek.DaysOfWeek), ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday']);
  assert.equal(triggers[1].CalendarTrigger[0].StartBoundary, '2026-11-26T23:30:00');
  assert.deepEqual(days(triggers[2].CalendarTrigger[0].ScheduleByWeek.DaysOfWeek), ['Wednesday', 'Saturday', 'Sunday']);
  assert.equal(triggers[3].TimeTrigger[0].StartBoundary, '2027-01-02T09:59:00');
  assert.equal(triggers[3].CalendarTrigger, undefined);

  const settingsOf = (spec: ScheduleSpec) => parseTask(buildScheduleTaskXml(scheduleTaskSpec(spec, job, 'PC\\me', 'proj', now, 'UTC')).bytes);
  const a = settingsOf(base);
  assert.equal(a.Settings.DisallowStartIfOnBatteries, 'true');
  assert.equal(a.Settings.StartWhenAvailable, 'true');
  assert.equal(a.Settings.WakeToRun, 'false');
  assert.equal(a.Settings.ExecutionTimeLimit, 'PT0S');
  assert.equal(a.Principals.Principal.LogonType, 'InteractiveToken');
  assert.equal(a.Principals.Principal.RunLevel, 'LeastPrivilege');
  assert.equal(a.RegistrationInfo.URI, '\\Shadow Slots\\schedule-proj');
  const b = settingsOf({ ...base, account: 'user-s4u', conditions: { runOnBattery: true, wakeToRun: true, catchUp: false, stopAfterHours: 5 } });
  assert.equal(b.Settings.DisallowStartIfOnBatteries, 'false');
  assert.equal(b.Settings.StartWhenAvailable, 'false');
  assert.equal(b.Settings.WakeToRun, 'true');
  assert.equal(b.Settings.ExecutionTimeLimit, 'PT5H');
  assert.equal(b.Principals.Principal.LogonType, 'S4U');
  const c = settingsOf({ ...base, account: 'system' });
  assert.equal(c.Principals.Principal.UserId, 'S-1-5-18');
  assert.equal(c.Principals.Principal.LogonType, undefined);
});

test('job paths with line breaks or relative paths are refused before any artefact is made', () => {
  assert.throws(() => jobCommand({ node: '/usr/bin/node', cli: '/a\nb/cli.js' }, '/p.json'), /control character/);
  assert.throws(() => jobCommand({ node: 'node', cli: '/a/cli.js' }, '/p.json'), /not absolute/);
  assert.throws(() => cronWord('a\nb'), /line break/);
});
