import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import { buildTaskXml, encodeTaskXml, TASK_NAMESPACE } from '../../../src/platform/windows/taskXml';
import { splitWindowsArgs, quoteWindowsArg } from '../../../src/core/windows/cmdline';
import type { TaskSpec } from '../../../src/platform/windows/taskSpec';
import { HOSTILE_NAMES } from './hostile';

const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false, trimValues: false, processEntities: true, htmlEntities: false });

function spec(overrides: Partial<TaskSpec> = {}): TaskSpec {
  return {
    path: '\\Shadow Slots\\helper-project',
    description: 'Backs up C:\\src to D:\\Backups',
    author: 'Shadow Slots',
    principal: { kind: 'interactive', userId: 'PC\\alice' },
    runLevel: 'HighestAvailable',
    triggers: [],
    action: { command: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', arguments: ['-NoProfile', '-File', 'C:\\ProgramData\\Shadow Slots\\project\\helper.ps1'] },
    settings: { runOnBattery: true, wakeToRun: false, catchUp: true, stopAfterHours: 0 },
    securityDescriptor: 'D:(A;;FA;;;SY)(A;;FA;;;BA)(A;;FRFX;;;S-1-5-21-1-2-3-1001)',
    ...overrides,
  };
}

function parse(xml: string) {
  return parser.parse(xml).Task;
}

test('on-demand helper task: principal, run level, no trigger, settings, security descriptor', () => {
  const xml = buildTaskXml(spec());
  const t = parse(xml);
  assert.equal(t['@_xmlns'], TASK_NAMESPACE);
  assert.equal(t['@_version'], '1.2');
  assert.equal(t.RegistrationInfo.URI, '\\Shadow Slots\\helper-project');
  assert.equal(t.RegistrationInfo.SecurityDescriptor, 'D:(A;;FA;;;SY)(A;;FA;;;BA)(A;;FRFX;;;S-1-5-21-1-2-3-1001)');
  assert.equal(t.Principals.Principal.UserId, 'PC\\alice');
  assert.equal(t.Principals.Principal.LogonType, 'InteractiveToken');
  assert.equal(t.Principals.Principal.RunLevel, 'HighestAvailable');
  assert.equal(t.Triggers, '');
  assert.equal(t.Settings.DisallowStartIfOnBatteries, 'false');
  assert.equal(t.Settings.StopIfGoingOnBatteries, 'false');
  assert.equal(t.Settings.MultipleInstancesPolicy, 'IgnoreNew');
  assert.equal(t.Settings.ExecutionTimeLimit, 'PT0S');
  assert.equal(t.Settings.StartWhenAvailable, 'true');
  assert.equal(t.Settings.WakeToRun, 'false');
  assert.deepEqual(splitWindowsArgs(t.Actions.Exec.Arguments), ['-NoProfile', '-File', 'C:\\ProgramData\\Shadow Slots\\project\\helper.ps1']);
  assert.equal(t.Actions.Exec.WorkingDirectory, undefined);
});

test('S4U and SYSTEM principals', () => {
  const s4u = parse(buildTaskXml(spec({ principal: { kind: 's4u', userId: 'S-1-5-21-1-2-3-1001' } }))).Principals.Principal;
  assert.equal(s4u.LogonType, 'S4U');
  assert.equal(s4u.UserId, 'S-1-5-21-1-2-3-1001');
  const sys = parse(buildTaskXml(spec({ principal: { kind: 'system' } }))).Principals.Principal;
  assert.equal(sys.UserId, 'S-1-5-18');
  assert.equal(sys.LogonType, undefined);
});

test('calendar and time triggers; battery, wake, limit settings', () => {
  const xml = buildTaskXml(spec({
    runLevel: 'LeastPrivilege',
    triggers: [
      { kind: 'weekly', start: '2026-11-27T23:30:00', days: ['Friday', 'Monday', 'Tuesday', 'Monday'] },
      { kind: 'daily', start: '2026-11-27T02:00:00' },
      { kind: 'once', start: '2026-12-01T12:00:00' },
    ],
    settings: { runOnBattery: false, wakeToRun: true, catchUp: false, stopAfterHours: 6 },
  }));
  const t = parse(xml);
  const cal = t.Triggers.CalendarTrigger;
  assert.equal(cal.length, 2);
  assert.equal(cal[0].StartBoundary, '2026-11-27T23:30:00');
  assert.deepEqual(Object.keys(cal[0].ScheduleByWeek.DaysOfWeek).filter((k) => k !== '#text'), ['Monday', 'Tuesday', 'Friday']);
  assert.equal(cal[0].ScheduleByWeek.WeeksInterval, '1');
  assert.equal(cal[1].ScheduleByDay.DaysInterval, '1');
  assert.equal(t.Triggers.TimeTrigger.StartBoundary, '2026-12-01T12:00:00');
  assert.equal(t.Principals.Principal.RunLevel, 'LeastPrivilege');
  assert.equal(t.Settings.DisallowStartIfOnBatteries, 'true');
  assert.equal(t.Settings.StopIfGoingOnBatteries, 'true');
  assert.equal(t.Settings.WakeToRun, 'true');
  assert.equal(t.Settings.StartWhenAvailable, 'false');
  assert.equal(t.Settings.ExecutionTimeLimit, 'PT6H');
});

test('UTF-16LE with BOM', () => {
  const xml = buildTaskXml(spec({ description: 'Sicherung – Größe ✓ 𝄞' }));
  const buf = encodeTaskXml(xml);
  assert.deepEqual([...buf.subarray(0, 2)], [0xff, 0xfe]);
  assert.equal(buf.length, 2 + xml.length * 2);
  assert.equal(buf.subarray(2).toString('utf16le'), xml);
  assert.match(xml, /^<\?xml version="1\.0" encoding="UTF-16"\?>\r\n/);
});

test('hostile values round-trip exactly and never add elements, attributes or arguments', () => {
  const plain = buildTaskXml(spec());
  const plainElements = (plain.match(/</g) ?? []).length;
  for (const name of HOSTILE_NAMES) {
    if (name.includes('\n')) continue; // rejected below
    let seen = false; // keep one '%': a %…% pair is refused (tested below)
    const hostile = name.replace(/%/g, () => (seen ? '' : ((seen = true), '%')));
    const s = spec({
      author: hostile,
      description: `desc ${hostile}`,
      principal: { kind: 'interactive', userId: `PC\\${hostile}` },
      action: { command: `C:\\Tools\\${hostile}\\run.exe`, arguments: ['-File', `C:\\${hostile}\\x.ps1`, hostile, `${hostile}\\`], workingDirectory: `C:\\${hostile}` },
    });
    const xml = buildTaskXml(s);
    assert.equal((xml.match(/</g) ?? []).length, plainElements + 2 /* WorkingDirectory open + close */, `element count for ${JSON.stringify(hostile)}`);
    const t = parse(xml);
    assert.equal(t.RegistrationInfo.Author, hostile);
    assert.equal(t.RegistrationInfo.Description, `desc ${hostile}`);
    assert.equal(t.Principals.Principal.UserId, `PC\\${hostile}`);
    assert.equal(t.Actions.Exec.Command, `C:\\Tools\\${hostile}\\run.exe`);
    assert.equal(t.Actions.Exec.WorkingDirectory, `C:\\${hostile}`);
    assert.deepEqual(splitWindowsArgs(t.Actions.Exec.Arguments), s.action.arguments);
    assert.equal(buildTaskXml(s), xml, 'deterministic');
  }
});

test('refuses values that cannot be stored or would be expanded', () => {
  assert.throws(() => buildTaskXml(spec({ action: { command: 'C:\\x.exe', arguments: ['%TEMP%\\x'] } })), /%…% pair/);
  assert.throws(() => buildTaskXml(spec({ action: { command: 'C:\\x.exe', arguments: ['a\nb'] } })), /line break/);
  assert.throws(() => buildTaskXml(spec({ author: 'a\u0001' })), /cannot be stored/);
  assert.throws(() => buildTaskXml(spec({ path: 'Shadow Slots\\x' })), /not a valid Task Scheduler path/);
  assert.throws(() => buildTaskXml(spec({ path: '\\Shadow Slots\\a:b' })), /not a valid Task Scheduler path/);
  assert.throws(() => buildTaskXml(spec({ triggers: [{ kind: 'daily', start: '2026-11-27 23:30' }] })), /YYYY-MM-DD/);
  assert.throws(() => buildTaskXml(spec({ triggers: [{ kind: 'weekly', start: '2026-11-27T23:30:00', days: [] }] })), /at least one day/);
  assert.throws(() => buildTaskXml(spec({ settings: { runOnBattery: true, wakeToRun: false, catchUp: true, stopAfterHours: 1.5 } })), /whole number/);
  assert.throws(() => buildTaskXml(spec({ securityDescriptor: 'D:(A;;FA;;;SY)</SecurityDescriptor><x>' })), /SDDL/);
});

test('Windows argument quoting round-trips every hostile value', () => {
  for (const name of [...HOSTILE_NAMES, '', 'a\\', 'a\\\\"b', '"', '\\\\server\\share\\', 'tab\there']) {
    assert.deepEqual(splitWindowsArgs(quoteWindowsArg(name)), [name], JSON.stringify(name));
    assert.deepEqual(splitWindowsArgs(quoteWindowsArg(name, true)), [name], JSON.stringify(name));
  }
});

test('parse → rebuild gives the identical XML string for hostile values', () => {
  for (const name of HOSTILE_NAMES.filter((n) => !n.includes('\n') && (n.match(/%/g) ?? []).length < 2)) {
    const original = spec({ author: name, description: name, principal: { kind: 's4u', userId: name }, action: { command: `C:\\${name}.exe`, arguments: [name, `${name}\\`, ''], workingDirectory: `C:\\${name}` } });
    const xml = buildTaskXml(original);
    const t = parse(xml);
    const rebuilt = buildTaskXml({
      ...original,
      author: t.RegistrationInfo.Author,
      description: t.RegistrationInfo.Description,
      path: t.RegistrationInfo.URI,
      securityDescriptor: t.RegistrationInfo.SecurityDescriptor,
      principal: { kind: 's4u', userId: t.Principals.Principal.UserId },
      action: { command: t.Actions.Exec.Command, arguments: splitWindowsArgs(t.Actions.Exec.Arguments), workingDirectory: t.Actions.Exec.WorkingDirectory },
    });
    assert.equal(rebuilt, xml, JSON.stringify(name));
  }
});
