// Generated units checked by systemd's own parser (`systemd-analyze verify`) and every OnCalendar
// value by systemd's own calendar code (`systemd-analyze calendar`), compared with our next-run
// computation in two zones around their DST changes.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { nextRuns, type Timing } from '../../../src/core/schedule/nextRun';
import type { ScheduleSpec } from '../../../src/core/schedule/spec';
import { ProcessError, run } from '../../../src/platform/runner';
import { jobCommand } from '../../../src/platform/schedule/engineCommand';
import { detectPlatform } from '../../../src/platform/schedule/service';
import { buildSystemdUnits, onCalendar } from '../../../src/platform/schedule/systemd';
import { systemdUserAvailable } from '../../../src/platform/schedule/systemdRegistrar';
import { HOSTILE, systemdExecArgv, unitSection } from '../../unit/schedule/helpers/parsers';

const ANALYZE = '/usr/bin/systemd-analyze';
const base: ScheduleSpec = { id: 'proj', when: { kind: 'weekdays' }, time: { hour: 23, minute: 30 }, conditions: { runOnBattery: false, wakeToRun: true, catchUp: true, stopAfterHours: 4 }, account: 'user' };

async function verify(dir: string, units: { serviceName: string; timerName: string; service: string; timer: string }) {
  await writeFile(join(dir, units.serviceName), units.service);
  await writeFile(join(dir, units.timerName), units.timer);
  return run(ANALYZE, ['verify', join(dir, units.timerName), join(dir, units.serviceName)], { okExitCodes: [0, 1], cwd: dir });
}

test('systemd-analyze verify accepts the units for hostile install paths (and resolves the quoted executable)', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'ss-systemd-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  let checked = 0;
  for (const [i, value] of HOSTILE.entries()) {
    const home = join(root, `${i}-${value.replace(/\//g, '_')}`);
    await mkdir(join(home, 'bin'), { recursive: true });
    // verify checks that ExecStart's executable exists: a real node behind the hostile path.
    await symlink(process.execPath, join(home, 'bin', 'node'));
    // A cli.js that prints the argv it got (node's own flags first), so the parsed ExecStart can be
    // run for real.
    await mkdir(join(home, 'dist'));
    await writeFile(join(home, 'dist', 'cli.js'), 'process.stdout.write(JSON.stringify([...process.execArgv, ...process.argv.slice(1)]));\n');
    const job = jobCommand({ node: join(home, 'bin', 'node'), cli: join(home, 'dist', 'cli.js') }, join(home, 'profiles', 'proj.json'));
    for (const when of [{ kind: 'weekdays' }, { kind: 'days', days: [0, 6] }, { kind: 'once', date: '2030-01-01' }] as ScheduleSpec['when'][]) {
      const units = buildSystemdUnits({ ...base, when, id: `p${i}` }, job, `label ${value}`);
      const unitDir = await mkdtemp(join(root, 'units-'));
      const r = await verify(unitDir, units);
      assert.equal(r.exitCode, 0, `verify failed for ${JSON.stringify(value)}:\n${r.stderr}\n${units.service}`);
      assert.doesNotMatch(r.stderr, /shadow-slots-p\d+\.(service|timer)/, r.stderr);
      const argv = systemdExecArgv(unitSection(units.service, 'Service')['ExecStart']![0]!);
      const ran = await run(argv[0]!, argv.slice(1));
      assert.deepEqual(JSON.parse(ran.stdout), job.args, `the unit's command line runs the CLI with the exact arguments (${value})`);
      checked++;
    }
  }
  assert.equal(checked, HOSTILE.length * 3);
  t.diagnostic(`systemd-analyze verify accepted ${checked} unit pairs; each parsed ExecStart ran and passed the exact argv`);

  // Control: the same check fails when the executable path does not resolve, so it proves something.
  const job = jobCommand({ node: join(root, 'missing dir', 'node'), cli: '/x/cli.js' }, '/x/p.json');
  const r = await verify(await mkdtemp(join(root, 'units-')), buildSystemdUnits(base, job, 'x'));
  assert.notEqual(r.exitCode, 0);
  assert.match(r.stderr, /is not executable/);
});

/** systemd's next elapses, in UTC, for a calendar value in a zone, from a base time. */
async function systemdElapses(value: string, zone: string, baseTime: Date, iterations: number): Promise<string[]> {
  const r = await run(ANALYZE, ['calendar', `--iterations=${iterations}`, `--base-time=@${Math.floor(baseTime.getTime() / 1000)}`, value], { env: { TZ: zone } });
  return [...r.stdout.matchAll(/\(in UTC\): \w{3} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/g)].map((m) => `${m[1]!.replace(' ', 'T')}.000Z`);
}

test('systemd-analyze calendar agrees with nextRuns for every OnCalendar value, across DST in Berlin and New York', async (t) => {
  const timings: Timing[] = [
    { when: { kind: 'daily' }, time: { hour: 0, minute: 0 } },
    { when: { kind: 'daily' }, time: { hour: 2, minute: 30 } },
    { when: { kind: 'daily' }, time: { hour: 1, minute: 30 } },
    { when: { kind: 'daily' }, time: { hour: 23, minute: 59 } },
    { when: { kind: 'weekdays' }, time: { hour: 23, minute: 30 } },
    { when: { kind: 'days', days: [0] }, time: { hour: 2, minute: 15 } },
    { when: { kind: 'days', days: [0, 6] }, time: { hour: 3, minute: 0 } },
    { when: { kind: 'days', days: [1, 3, 5] }, time: { hour: 12, minute: 0 } },
    { when: { kind: 'once', date: '2027-03-28' }, time: { hour: 3, minute: 30 } },
    { when: { kind: 'once', date: '2027-10-31' }, time: { hour: 2, minute: 30 } },
    { when: { kind: 'once', date: '2027-11-07' }, time: { hour: 1, minute: 30 } },
  ];
  const bases = ['2026-11-26T07:00:00Z', '2027-03-26T12:00:00Z', '2027-03-13T12:00:00Z', '2027-10-29T12:00:00Z', '2027-11-05T12:00:00Z', '2027-12-31T23:30:00Z'].map((s) => new Date(s));
  let compared = 0;
  for (const zone of ['Europe/Berlin', 'America/New_York']) {
    for (const timing of timings) {
      for (const baseTime of bases) {
        const ours = nextRuns(timing, baseTime, zone, 4).map((d) => d.toISOString());
        const theirs = await systemdElapses(onCalendar(timing), zone, baseTime, 4);
        assert.deepEqual(ours, theirs, `${onCalendar(timing)} in ${zone} from ${baseTime.toISOString()}`);
        compared += theirs.length;
      }
    }
  }
  assert.ok(compared > 300, `compared ${compared} elapses`);
  t.diagnostic(`compared ${compared} next elapses from ${timings.length * bases.length * 2} systemd-analyze calendar runs`);
});

test('no user systemd here: detection falls back to cron (and picks systemd when the probe succeeds)', async (t) => {
  let userBus = true;
  try {
    await run('systemctl', ['--user', 'show-environment'], { timeoutMs: 5000 });
  } catch (error) {
    assert.ok(error instanceof ProcessError);
    userBus = false;
  }
  if (userBus) {
    t.skip('this machine has a systemd user manager; the fallback is covered by the probe cases below only');
  } else {
    assert.equal(await systemdUserAvailable(), false);
    assert.equal(await detectPlatform('linux'), 'cron');
  }
  assert.equal(await detectPlatform('linux', async () => true), 'systemd');
  assert.equal(await detectPlatform('linux', async () => false), 'cron');
  assert.equal(await detectPlatform('darwin'), 'launchd');
  assert.equal(await detectPlatform('win32'), 'windows');
});
