// Item 6 of issue 19: every task XML Shadow Slots generates - the elevated helper's tasks and the
// backup schedules - is valid against Microsoft's published Task Scheduler schema (the subset in
// test/fixtures/windows/task-scheduler.xsd, checked by libxml2's validator: xmllint-wasm).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateXML } from 'xmllint-wasm';
import type { ScheduleSpec } from '../../../src/core/schedule/spec';
import { jobCommand } from '../../../src/platform/schedule/engineCommand';
import { buildScheduleTaskXml, scheduleTaskSpec } from '../../../src/platform/schedule/windows';
import { buildTaskXml } from '../../../src/platform/windows/taskXml';
import type { TaskSpec } from '../../../src/platform/windows/taskSpec';
import { HOSTILE_NAMES } from './hostile';
import { HOSTILE_WINDOWS_NAMES, planFor, USER_SID } from './planFixtures';

const xsd = readFileSync(join(__dirname, '../../fixtures/windows/task-scheduler.xsd'), 'utf8');
/** The published declaration of `version`, which rejects version="1.2" (see the fixture's header). */
const published = xsd
  .replace(/<xs:simpleType name="versionType">[\s\S]*?<\/xs:simpleType>/, '<xs:simpleType name="versionType"><xs:restriction base="xs:string"><xs:pattern value="\\d+(\\.\\d+){1,3}"/></xs:restriction></xs:simpleType>')
  .replace('<xs:attribute name="version" use="optional" type="versionType"/>', '<xs:attribute name="version" use="optional" fixed="1.3" type="versionType"/>');

/** xmllint reads UTF-8 only: the same text, with the declaration saying so. */
async function validate(xml: string, schema = xsd): Promise<string[]> {
  const utf8 = xml.replace(/^<\?xml version="1\.0" encoding="UTF-16"\?>/, '<?xml version="1.0" encoding="UTF-8"?>');
  assert.notEqual(utf8, xml, 'the generator writes a UTF-16 declaration');
  const result = await validateXML({ xml: [{ fileName: 'task.xml', contents: utf8 }], schema: [{ fileName: 'task.xsd', contents: schema }] });
  return result.errors.map((e) => e.message);
}

function scheduleXmls(): string[] {
  const now = new Date('2026-11-26T12:00:00Z');
  const job = jobCommand({ node: 'C:\\Program Files\\nodejs\\node.exe', cli: 'C:\\Users\\alice\\.vscode\\extensions\\shadow-slots\\dist\\cli.js' }, 'C:\\Users\\alice\\AppData\\Roaming\\shadow-slots\\profiles\\p.json');
  const base: ScheduleSpec = { id: 'nightly', when: { kind: 'weekdays' }, time: { hour: 23, minute: 30 }, conditions: { runOnBattery: false, wakeToRun: true, catchUp: true, stopAfterHours: 6 }, account: 'user' };
  const specs: ScheduleSpec[] = [
    base,
    { ...base, when: { kind: 'daily' }, account: 'user-s4u' },
    { ...base, when: { kind: 'days', days: [0, 6] }, account: 'system', conditions: { runOnBattery: true, wakeToRun: false, catchUp: false, stopAfterHours: 0 } },
    { ...base, when: { kind: 'once', date: '2027-01-02' } },
  ];
  return specs.map((s) => buildScheduleTaskXml(scheduleTaskSpec(s, job, USER_SID, 'project', now, 'Europe/Berlin')).xml);
}

test('the elevated helper\'s task XML is valid for every account and for hostile paths', async () => {
  const plans = [
    planFor({ source: 'C:\\Users\\alice\\src\\p', target: 'D:\\Backups\\p' }),
    planFor({ source: 'C:\\Users\\alice\\src\\p', target: '\\\\nas\\backup\\p' }, { account: 'user', userAccountAccepted: true }),
    planFor({ source: 'C:\\Users\\alice\\src\\p', target: 'D:\\Backups\\p' }, { account: 'user-s4u', userAccountAccepted: true }),
    ...HOSTILE_WINDOWS_NAMES.map((n) => planFor({ source: `C:\\Users\\alice\\${n}`, target: `D:\\Backups\\${n}`, name: 'hostile' })),
  ];
  for (const plan of plans) assert.deepEqual(await validate(plan.taskXml), [], plan.taskXml);
});

test('every schedule task XML is valid: weekly, daily, weekend, one-time; each account', async () => {
  const xmls = scheduleXmls();
  assert.equal(xmls.length, 4);
  for (const xml of xmls) assert.deepEqual(await validate(xml), [], xml);
});

test('triggers put Enabled before StartBoundary (the schema\'s sequence); the other order is invalid', async () => {
  const [weekly] = scheduleXmls();
  assert.match(weekly!, /<CalendarTrigger>\r\n\s+<Enabled>true<\/Enabled>\r\n\s+<StartBoundary>/);
  const swapped = weekly!.replace(/(\s+<Enabled>true<\/Enabled>)(\r\n\s+<StartBoundary>[^<]*<\/StartBoundary>)/, '$2$1');
  assert.notEqual(swapped, weekly);
  assert.match((await validate(swapped)).join('\n'), /Enabled/);
});

test('the validator rejects what the schema forbids (so a pass means something)', async () => {
  const spec: TaskSpec = {
    path: '\\Shadow Slots\\x', description: 'd', author: 'a', principal: { kind: 'system' }, runLevel: 'HighestAvailable', triggers: [],
    action: { command: 'C:\\x.exe', arguments: [] }, settings: { runOnBattery: true, wakeToRun: false, catchUp: false, stopAfterHours: 1 },
  };
  const xml = buildTaskXml(spec);
  assert.deepEqual(await validate(xml), []);
  assert.notDeepEqual(await validate(xml.replace('<Priority>7</Priority>', '<Priority>11</Priority>')), []);
  assert.notDeepEqual(await validate(xml.replace('<Hidden>false</Hidden>', '<Hidden>false</Hidden><Bogus/>')), []);
  assert.notDeepEqual(await validate(xml.replace('<RunLevel>HighestAvailable</RunLevel>', '<RunLevel>Highest</RunLevel>')), []);
  assert.notDeepEqual(await validate(xml.replace('Context="Author"', 'Context="Nobody"')), []);
  assert.notDeepEqual(await validate(xml.replace(/<Command>[^<]*<\/Command>/, `<Command>C:\\${'x'.repeat(260)}.exe</Command>`)), []);
});

test('the version quirk: the published fixed="1.3" rejects the version="1.2" Windows itself exports', async () => {
  const [weekly] = scheduleXmls();
  assert.match(weekly!, /<Task version="1\.2" /);
  assert.match((await validate(weekly!, published)).join('\n'), /version/);
  assert.deepEqual(await validate(weekly!.replace('<Task version="1.2" ', '<Task version="1.3" '), published), []);
  assert.notDeepEqual(await validate(weekly!.replace('<Task version="1.2" ', '<Task version="1.3" ')), [], 'the subset accepts only 1.2, the version of its elements');
});

test('hostile values stay valid XML text', async () => {
  for (const name of HOSTILE_NAMES.filter((n) => !n.includes('\n') && (n.match(/%/g) ?? []).length < 2)) {
    const xml = buildTaskXml({
      path: '\\Shadow Slots\\x', description: name, author: name, principal: { kind: 's4u', userId: name }, runLevel: 'LeastPrivilege',
      triggers: [{ kind: 'once', start: '2027-01-02T09:59:00' }],
      action: { command: `C:\\${name}.exe`, arguments: [name, `${name}\\`], workingDirectory: `C:\\${name}` },
      settings: { runOnBattery: false, wakeToRun: true, catchUp: true, stopAfterHours: 0 },
    });
    assert.deepEqual(await validate(xml), [], name);
  }
});
