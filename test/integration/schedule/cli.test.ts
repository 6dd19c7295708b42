// The `schedule` sub-command as a user runs it: the real CLI entry (src/cli/main.ts) in a child
// process, exit codes included.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import plist from 'plist';
import { ENGINE_NODE_FLAGS } from '../../../src/core/engineNodeFlags';
import { run } from '../../../src/platform/runner';
import { CronRegistrar } from '../../../src/platform/schedule/cronRegistrar';
import { withCrontabLock } from '../../helpers/crontabLock.mjs';

const MAIN = join(import.meta.dirname, '../../../src/cli/main.ts');

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  const root = await mkdtemp(join(tmpdir(), 'ss-cli "x" '));
  t.after(() => rm(root, { recursive: true, force: true }));
  const source = join(root, 'my proj');
  const target = join(root, 'backups');
  await mkdir(source); await mkdir(target);
  const env = { SHADOW_SLOTS_CONFIG_DIR: join(root, 'config'), SHADOW_SLOTS_CLI: join(root, 'install dir', 'dist', 'cli.js'), TZ: 'Europe/Berlin' };
  const cli = (...args: string[]) => run(process.execPath, ['--conditions=import', '--import', 'tsx', MAIN, 'schedule', ...args], { env, okExitCodes: [0, 1, 2] });
  return { root, source, target, env, cli };
}

test('--dry-run writes each platform\'s artefacts and registers nothing', async (t) => {
  const { root, source, target, env, cli } = await setup(t);
  await withCrontabLock(async () => {
  const cronBefore = await new CronRegistrar().read();
  for (const platform of ['systemd', 'cron', 'launchd', 'windows']) {
    const out = join(root, `out-${platform}`);
    // A Windows schedule previewed here still gets Windows paths for its profile.
    const [src, dst] = platform === 'windows' ? ['C:\\Users\\me\\my proj', 'F:\\Backups\\proj'] : [source, target];
    const r = await cli('create', '--source', src, '--target', dst, '--when', 'mon,wed,fri', '--at', '23:30', '--slots', '9', '--exclude', '*.tmp', '--exclude', 'node_modules/',
      ...(platform === 'windows' ? [] : ['--filter', join(root, 'rules.txt')]), '--dry-run', '--platform', platform, '--out', out);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Mon, Wed and Fri at 23:30, keeps 9 slots on .*(backups|proj)\\nNext run: \\d{4}-\\d\\d-\\d\\d 23:30 \\(Europe/Berlin\\)\\nDry run for ${platform}, nothing registered`));
    const files = (await readdir(out)).sort();
    const profile = JSON.parse(await readFile(join(out, 'profile-my-proj.json'), 'utf8')) as { source: string; slots: number; excludes: string[]; filterFile?: string };
    assert.deepEqual([profile.source, profile.slots, profile.excludes], [src, 9, ['*.tmp', 'node_modules/']]);
    if (platform !== 'windows') assert.equal(profile.filterFile, join(root, 'rules.txt'));
    if (platform === 'systemd') {
      assert.deepEqual(files, ['profile-my-proj.json', 'shadow-slots-my-proj.service', 'shadow-slots-my-proj.timer']);
      assert.match(await readFile(join(out, 'shadow-slots-my-proj.timer'), 'utf8'), /^OnCalendar=Mon,Wed,Fri \*-\*-\* 23:30:00$/m);
      const service = await readFile(join(out, 'shadow-slots-my-proj.service'), 'utf8');
      const q = (v: string) => `"${v.replace(/"/g, '\\"')}"`;
      assert.ok(service.includes(`${ENGINE_NODE_FLAGS.map(q).join(' ')} ${q(env.SHADOW_SLOTS_CLI)} "backup" "--profile" ${q(join(env.SHADOW_SLOTS_CONFIG_DIR, 'profiles', 'my-proj.json'))}`), service);
    } else if (platform === 'cron') {
      assert.deepEqual(files, ['crontab-my-proj.txt', 'profile-my-proj.json']);
      assert.match(await readFile(join(out, 'crontab-my-proj.txt'), 'utf8'), /^30 23 \* \* 1,3,5 '.*' 2>&1 # shadow-slots:id=my-proj\n$/);
    } else if (platform === 'launchd') {
      assert.deepEqual(files, ['io.shadow-slots.schedule.my-proj.plist', 'profile-my-proj.json']);
      const p = plist.parse(await readFile(join(out, files[0]!), 'utf8')) as { ProgramArguments: string[] };
      assert.deepEqual(p.ProgramArguments.slice(1), [...ENGINE_NODE_FLAGS, env.SHADOW_SLOTS_CLI, 'backup', '--profile', join(env.SHADOW_SLOTS_CONFIG_DIR, 'profiles', 'my-proj.json')]);
    } else {
      assert.deepEqual(files, ['profile-my-proj.json', 'schedule-my-proj.xml']);
      const bytes = await readFile(join(out, 'schedule-my-proj.xml'));
      assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xfe]);
      const task = new XMLParser().parse(bytes.subarray(2).toString('utf16le')).Task;
      assert.equal(task.RegistrationInfo.URI, '\\Shadow Slots\\schedule-my-proj');
    }
  }
  assert.equal(await new CronRegistrar().read(), cronBefore, 'a dry run never touches the crontab');
  await assert.rejects(readdir(env.SHADOW_SLOTS_CONFIG_DIR), /ENOENT/, 'nor the config dir');
  });
});

test('invalid values exit 2 with a message that says what to do, and write nothing', async (t) => {
  const { root, source, target, cli } = await setup(t);
  const out = join(root, 'never');
  const base = ['create', '--source', source, '--target', target, '--platform', 'cron', '--dry-run', '--out', out];
  const cases: Array<[string[], RegExp]> = [
    [[...base, '--when', 'daily', '--at', '25:61'], /The time 25:61 has hour 25; hours go from 00 to 23\.\n {2}→ Write it like 23:30/],
    [[...base, '--when', 'daily', '--at', '7pm'], /not a 24-hour time/],
    [[...base, '--when', 'mon,funday', '--at', '10:00'], /"funday" is not a day of the week/],
    [[...base, '--when', ',', '--at', '10:00'], /No days were given/],
    [[...base, '--when', 'once', '--at', '2020-01-01 10:00'], /2020-01-01 10:00 is already past \(it is now .* in Europe\/Berlin\)/],
    [[...base, '--when', 'once', '--at', '2030-02-30 10:00'], /2030-02-30 does not exist/],
    [[...base, '--when', 'daily', '--at', '10:00', '--account', 'system'], /only for Windows Task Scheduler/],
    [[...base, '--when', 'daily', '--at', '10:00', '--stop-after', 'soon'], /whole number of hours/],
    [[...base, '--when', 'daily', '--at', '10:00', '--slots', '0'], /slot count "0"/],
    [[...base, '--when', 'daily', '--at', '10:00', '--platform', 'at'], /platform "at" is not known/],
    [[...base, '--when', 'daily'], /--at is missing/],
    [['create', '--source', source, '--target', target, '--when', 'daily', '--at', '10:00', '--dry-run'], /--dry-run needs --out/],
    // An empty value is refused, not taken for the working folder.
    [['create', '--source', source, '--target', target, '--when', 'daily', '--at', '10:00', '--dry-run', '--out', ''], /--dry-run needs --out/],
    [['create', '--target', target, '--when', 'daily', '--at', '10:00', '--dry-run', '--out', out], /source folder is missing/],
    [[...base, '--when', 'daily', '--at', '10:00', '--id', 'Bad Id'], /schedule id "Bad Id" is not valid/],
    [[...base, '--when', 'daily', '--at', '10:00', '--bogus'], /Unknown option '--bogus'/],
    [['remove'], /either --id ID or --all-mine/],
    [['frobnicate'], /Unknown schedule sub-command/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(...args);
    assert.equal(r.exitCode, 2, `${args.join(' ')}\n${r.stderr}`);
    assert.match(r.stderr, message);
  }
  await assert.rejects(readdir(out), /ENOENT/);
});

test('create, list --json and remove through the CLI (cron is the fallback here)', async (t) => {
  const { source, target, env, cli } = await setup(t);
  const cron = new CronRegistrar();
  await withCrontabLock(async () => {
    const saved = await cron.read();
    try {
      const r = await cli('create', '--source', source, '--target', target, '--when', 'weekdays', '--at', '23:30', '--no-catch-up');
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stdout, /Schedule "my-proj" registered with (cron|systemd): Weekdays at 23:30, keeps 16 slots on /);
      const listed = JSON.parse((await cli('list', '--json')).stdout) as Array<{ entry: { id: string; platform: string; spec: { conditions: { catchUp: boolean } } }; platform: { registered: boolean }; missed: string[] }>;
      assert.equal(listed.length, 1);
      assert.equal(listed[0]!.entry.id, 'my-proj');
      assert.equal(listed[0]!.platform.registered, true);
      assert.equal(listed[0]!.entry.spec.conditions.catchUp, false);
      assert.deepEqual(listed[0]!.missed, []);
      const human = await cli('list');
      assert.match(human.stdout, /my-proj {2}\[cron\] {2}Weekdays at 23:30/);
      assert.ok((await cron.read()).includes(env.SHADOW_SLOTS_CLI.replace(/'/g, `'\\''`)));
      const removed = await cli('remove', '--id', 'my-proj');
      assert.equal(removed.exitCode, 0, removed.stderr);
      assert.equal(await cron.read(), saved);
      assert.match((await cli('list')).stdout, /No schedules/);
    } finally {
      await cron.write(saved);
    }
  });
});
