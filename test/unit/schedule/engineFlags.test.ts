// Every scheduler's artefact starts node with the engine's node flags (issue 16's memory target):
// each artefact's command line, read back the way its scheduler reads it, is run for real, and
// the node it starts reports the flags it was given (process.execArgv), not the ones we meant.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import plist from 'plist';
import { XMLParser } from 'fast-xml-parser';
import type { ScheduleSpec } from '../../../src/core/schedule/spec';
import { ENGINE_NODE_FLAGS } from '../../../src/core/engineNodeFlags';
import { buildCronLine } from '../../../src/platform/schedule/cron';
import { jobCommand } from '../../../src/platform/schedule/engineCommand';
import { buildLaunchdPlist } from '../../../src/platform/schedule/launchd';
import { buildSystemdUnits } from '../../../src/platform/schedule/systemd';
import { buildScheduleTaskXml, scheduleTaskSpec } from '../../../src/platform/schedule/windows';
import { run } from '../../../src/platform/runner';
import { cronCommand, cronFields, systemdExecArgv, unitSection, windowsArgv } from './helpers/parsers';

const spec: ScheduleSpec = { id: 'proj', when: { kind: 'daily' }, time: { hour: 1, minute: 0 }, conditions: { runOnBattery: true, wakeToRun: false, catchUp: true, stopAfterHours: 0 }, account: 'user' };

test('a scheduled job is node, then ENGINE_NODE_FLAGS, then the CLI', () => {
  assert.ok(ENGINE_NODE_FLAGS.length > 0, 'the engine is started with at least one node flag');
  const job = jobCommand({ node: '/usr/bin/node', cli: '/home/me/.config/shadow-slots/engine/cli.js' }, '/home/me/p.json');
  assert.deepEqual([job.command, ...job.args], ['/usr/bin/node', ...ENGINE_NODE_FLAGS, '/home/me/.config/shadow-slots/engine/cli.js', 'backup', '--profile', '/home/me/p.json']);
});

test('systemd, cron, launchd and Task Scheduler artefacts each start node with ENGINE_NODE_FLAGS', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ss-flags-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // Stands in for cli.js: reports the node flags and the arguments it was started with.
  const cli = join(dir, 'cli.js');
  await writeFile(cli, 'process.stdout.write(JSON.stringify({ execArgv: process.execArgv, args: process.argv.slice(2) }))');
  const profile = join(dir, 'p.json');
  const job = jobCommand({ node: process.execPath, cli }, profile);
  const expected = { execArgv: [...ENGINE_NODE_FLAGS], args: ['backup', '--profile', profile] };
  const started = async (argv: string[]) => JSON.parse((await run(argv[0]!, argv.slice(1))).stdout) as unknown;

  const exec = unitSection(buildSystemdUnits(spec, job, 'proj').service, 'Service')['ExecStart']![0]!;
  assert.deepEqual(await started(systemdExecArgv(exec)), expected, 'systemd');

  const log = join(dir, 'cron.log');
  const { command } = cronFields(buildCronLine(spec, job, log));
  await run('/bin/sh', ['-c', cronCommand(command).command], { env: { HOME: dir } });
  assert.deepEqual(JSON.parse(await readFile(log, 'utf8')), expected, 'cron');

  const programArguments = (plist.parse(buildLaunchdPlist(spec, job, log)) as { ProgramArguments: string[] }).ProgramArguments;
  assert.deepEqual(await started(programArguments), expected, 'launchd');

  const bytes = buildScheduleTaskXml(scheduleTaskSpec(spec, job, 'PC\\me', 'proj', new Date('2026-12-04T00:00:00Z'), 'UTC')).bytes;
  const exec2 = new XMLParser({ parseTagValue: false, trimValues: false }).parse(bytes.subarray(2).toString('utf16le')).Task.Actions.Exec as { Command: string; Arguments: string };
  assert.deepEqual(await started([exec2.Command, ...windowsArgv(exec2.Arguments)]), expected, 'Task Scheduler');
});
