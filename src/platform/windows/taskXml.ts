import { invalid } from '../../core/errors';
import { joinWindowsArgs } from '../../core/windows/cmdline';
import type { TaskPrincipal, TaskSpec, TaskTrigger } from './taskSpec';

/**
 * Task Scheduler XML (schema 1.2, Windows 7+) for `schtasks /Create /XML`. Every value is
 * validated and XML-escaped; the action's arguments are quoted for the Windows command line, so a
 * value can never add an argument, an element or an attribute. Element order follows Microsoft's
 * published Task Scheduler schema (validated in test/unit/windows/taskXsd.test.ts against the
 * subset in test/fixtures/windows/task-scheduler.xsd); most types there are xs:all, the trigger
 * base type is a sequence.
 */
export const TASK_NAMESPACE = 'http://schemas.microsoft.com/windows/2004/02/mit/task';
export const SYSTEM_SID = 'S-1-5-18';

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;

export function buildTaskXml(spec: TaskSpec): string {
  validateSpec(spec);
  const lines: string[] = [];
  const add = (depth: number, text: string) => lines.push(`${'  '.repeat(depth)}${text}`);
  const el = (depth: number, name: string, value: string) => add(depth, `<${name}>${escapeXml(value)}</${name}>`);

  add(0, '<?xml version="1.0" encoding="UTF-16"?>');
  add(0, `<Task version="1.2" xmlns="${TASK_NAMESPACE}">`);
  add(1, '<RegistrationInfo>');
  el(2, 'Author', spec.author);
  el(2, 'Description', spec.description);
  el(2, 'URI', spec.path);
  if (spec.securityDescriptor !== undefined) el(2, 'SecurityDescriptor', spec.securityDescriptor);
  add(1, '</RegistrationInfo>');

  if (spec.triggers.length === 0) {
    // No trigger: the task only runs when started with `schtasks /Run`.
    add(1, '<Triggers />');
  } else {
    add(1, '<Triggers>');
    for (const t of spec.triggers) addTrigger(t, add, el);
    add(1, '</Triggers>');
  }

  add(1, '<Principals>');
  add(2, '<Principal id="Author">');
  addPrincipal(spec.principal, el);
  el(3, 'RunLevel', spec.runLevel);
  add(2, '</Principal>');
  add(1, '</Principals>');

  const s = spec.settings;
  add(1, '<Settings>');
  el(2, 'MultipleInstancesPolicy', 'IgnoreNew');
  el(2, 'DisallowStartIfOnBatteries', String(!s.runOnBattery));
  el(2, 'StopIfGoingOnBatteries', String(!s.runOnBattery));
  el(2, 'AllowHardTerminate', 'true');
  el(2, 'StartWhenAvailable', String(s.catchUp));
  el(2, 'RunOnlyIfNetworkAvailable', 'false');
  add(2, '<IdleSettings>');
  el(3, 'StopOnIdleEnd', 'false');
  el(3, 'RestartOnIdle', 'false');
  add(2, '</IdleSettings>');
  el(2, 'AllowStartOnDemand', 'true');
  el(2, 'Enabled', 'true');
  el(2, 'Hidden', 'false');
  el(2, 'RunOnlyIfIdle', 'false');
  el(2, 'WakeToRun', String(s.wakeToRun));
  el(2, 'ExecutionTimeLimit', s.stopAfterHours === 0 ? 'PT0S' : `PT${s.stopAfterHours}H`);
  el(2, 'Priority', '7');
  add(1, '</Settings>');

  add(1, '<Actions Context="Author">');
  add(2, '<Exec>');
  el(3, 'Command', spec.action.command);
  if (spec.action.arguments.length > 0) el(3, 'Arguments', joinWindowsArgs(spec.action.arguments));
  if (spec.action.workingDirectory !== undefined) el(3, 'WorkingDirectory', spec.action.workingDirectory);
  add(2, '</Exec>');
  add(1, '</Actions>');
  add(0, '</Task>');
  // schtasks accepts CRLF or LF; CRLF is what Windows tools write and diff cleanly there.
  return lines.join('\r\n') + '\r\n';
}

/** UTF-16LE with a byte-order mark: `schtasks /Create /XML` rejects UTF-8 files. */
export function encodeTaskXml(xml: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, 'utf16le')]);
}

/** Escapes the five XML specials; values are validated first to hold only legal XML characters. */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function addTrigger(t: TaskTrigger, add: (d: number, s: string) => void, el: (d: number, n: string, v: string) => void): void {
  if (t.kind === 'once') {
    add(2, '<TimeTrigger>');
    el(3, 'Enabled', 'true');
    el(3, 'StartBoundary', t.start);
    add(2, '</TimeTrigger>');
    return;
  }
  add(2, '<CalendarTrigger>');
  // triggerBaseType is an xs:sequence: Enabled, then StartBoundary (Windows' own exports swap them).
  el(3, 'Enabled', 'true');
  el(3, 'StartBoundary', t.start);
  if (t.kind === 'daily') {
    add(3, '<ScheduleByDay>');
    el(4, 'DaysInterval', '1');
    add(3, '</ScheduleByDay>');
  } else {
    add(3, '<ScheduleByWeek>');
    add(4, '<DaysOfWeek>');
    // Schema order, each day once, whatever order the caller listed them in.
    for (const d of WEEKDAYS) if (t.days.includes(d)) add(5, `<${d} />`);
    add(4, '</DaysOfWeek>');
    el(4, 'WeeksInterval', '1');
    add(3, '</ScheduleByWeek>');
  }
  add(2, '</CalendarTrigger>');
}

function addPrincipal(p: TaskPrincipal, el: (d: number, n: string, v: string) => void): void {
  if (p.kind === 'system') {
    el(3, 'UserId', SYSTEM_SID);
    return;
  }
  el(3, 'UserId', p.userId);
  el(3, 'LogonType', p.kind === 's4u' ? 'S4U' : 'InteractiveToken');
}

// XML 1.0 forbids most C0 controls; lone surrogates cannot be encoded. CR would be normalised
// to LF by any XML parser, so it could not round-trip either.
// eslint-disable-next-line no-control-regex
const ILLEGAL_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

function checkText(value: unknown, what: string, allowNewline = false): void {
  if (typeof value !== 'string') throw invalid(`The task's ${what} must be text.`);
  if (ILLEGAL_XML.test(value) || value.includes('\r')) throw invalid(`The task's ${what} contains a character that cannot be stored in task XML.`, 'Remove control characters from it.');
  if (!allowNewline && CONTROL.test(value)) throw invalid(`The task's ${what} ${JSON.stringify(value)} contains a line break or control character.`, 'Remove it.');
}

function checkActionValue(value: string, what: string): void {
  checkText(value, what);
  // Task Scheduler expands %VARIABLE% in Command, Arguments and WorkingDirectory; there is no
  // escape for it, so a value holding a %…% pair could change meaning once the task runs.
  if (/%[^%]+%/.test(value)) {
    throw invalid(`The task's ${what} ${JSON.stringify(value)} contains a %…% pair, which Task Scheduler would expand as an environment variable.`, 'Rename the folder or file so that its name has at most one "%".');
  }
}

// eslint-disable-next-line no-control-regex
const TASK_SEGMENT = /^[^\\/:*?"<>|\u0000-\u001f]+$/;
const START = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/;

function validateSpec(spec: TaskSpec): void {
  checkText(spec.path, 'path');
  const segments = spec.path.split('\\');
  if (!spec.path.startsWith('\\') || segments.length < 2 || segments.slice(1).some((s) => !TASK_SEGMENT.test(s) || s !== s.trim() || s.endsWith('.'))) {
    throw invalid(`The task path ${JSON.stringify(spec.path)} is not a valid Task Scheduler path.`, 'Use e.g. \\Shadow Slots\\helper-project (no / : * ? " < > |, no leading or trailing spaces or dots).');
  }
  checkText(spec.author, 'author');
  checkText(spec.description, 'description', true);
  if (spec.principal.kind !== 'system') {
    checkText(spec.principal.userId, 'user');
    if (spec.principal.userId.trim() === '' || spec.principal.userId !== spec.principal.userId.trim()) throw invalid('The task\'s user is empty or has surrounding spaces.');
  }
  if (spec.runLevel !== 'HighestAvailable' && spec.runLevel !== 'LeastPrivilege') throw invalid(`Unknown run level ${JSON.stringify(spec.runLevel)}.`);
  for (const t of spec.triggers) {
    if (!START.test(t.start)) throw invalid(`The start time ${JSON.stringify(t.start)} is not of the form YYYY-MM-DDTHH:MM:SS.`);
    if (t.kind === 'weekly') {
      if (t.days.length === 0) throw invalid('A weekly trigger needs at least one day.', 'Pick the days to run on.');
      for (const d of t.days) if (!(WEEKDAYS as readonly string[]).includes(d)) throw invalid(`Unknown day ${JSON.stringify(d)}.`, `Use ${WEEKDAYS.join(', ')}.`);
    } else if (t.kind !== 'daily' && t.kind !== 'once') {
      throw invalid(`Unknown trigger kind ${JSON.stringify((t as { kind: unknown }).kind)}.`);
    }
  }
  checkActionValue(spec.action.command, 'command');
  if (spec.action.command.trim() === '') throw invalid('The task\'s command is empty.');
  spec.action.arguments.forEach((a, i) => checkActionValue(a, `argument #${i + 1}`));
  if (spec.action.workingDirectory !== undefined) checkActionValue(spec.action.workingDirectory, 'working directory');
  const h = spec.settings.stopAfterHours;
  if (!Number.isInteger(h) || h < 0 || h > 999) throw invalid(`The time limit ${h} hours is not a whole number from 0 to 999.`);
  if (spec.securityDescriptor !== undefined && !/^(O:[A-Za-z0-9-]+)?(G:[A-Za-z0-9-]+)?D:[A-Z]*(\([A-Za-z]*;[A-Za-z]*;[A-Za-z0-9]+;[A-Za-z0-9-]*;[A-Za-z0-9-]*;[A-Za-z0-9-]+\))+$/.test(spec.securityDescriptor)) {
    throw invalid(`The security descriptor ${JSON.stringify(spec.securityDescriptor)} is not SDDL of the expected form.`);
  }
}
