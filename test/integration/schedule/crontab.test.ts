// A real crontab round-trip as root: install, list, replace, remove, with other entries of the
// user's crontab untouched; the user's crontab is saved first and restored in `finally`.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { formatDate, localParts, localZone } from '../../../src/core/schedule/zone';
import type { ScheduleSpec } from '../../../src/core/schedule/spec';
import { run } from '../../../src/platform/runner';
import { CronRegistrar } from '../../../src/platform/schedule/cronRegistrar';
import { schedulePaths } from '../../../src/platform/schedule/paths';
import { readRegistry } from '../../../src/platform/schedule/registry';
import { withCrontabLock } from '../../helpers/crontabLock.mjs';
import { createSchedule, listSchedules, prepareSchedule, removeAllMine, removeSchedule, type ScheduleContext } from '../../../src/platform/schedule/service';

const cron = new CronRegistrar();
const FOREIGN = '# the user\'s own jobs, which must survive\nMAILTO=""\n17 3 * * * /bin/true # not ours: shadow-slots:id=proj is only ours at the very end\n@reboot /bin/true\n';
const spec = (id: string, over: Partial<ScheduleSpec> = {}): ScheduleSpec => ({ id, when: { kind: 'weekdays' }, time: { hour: 23, minute: 30 }, conditions: { runOnBattery: false, wakeToRun: false, catchUp: true, stopAfterHours: 0 }, account: 'user', ...over });

/** Runs `body` with the user's crontab saved and put back afterwards, whatever happens. */
async function withSavedCrontab(body: () => Promise<void>): Promise<void> {
  await withCrontabLock(async () => {
    const saved = await cron.read();
    try {
      await body();
    } finally {
      await cron.write(saved);
      assert.equal(await cron.read(), saved, 'the user\'s crontab is restored');
    }
  });
}

async function fixture(t: { after: (fn: () => Promise<void>) => void }) {
  const root = await mkdtemp(join(tmpdir(), 'ss cron $(x) %d \'q\' '));
  t.after(() => rm(root, { recursive: true, force: true }));
  const source = join(root, 'src & "proj" 日本');
  const target = join(root, 'backups; 100% \\\\ a\\b');
  await mkdir(source); await mkdir(target);
  // Backslashes where they reach the crontab line itself (issue 19): Debian's cron turns `\\` into
  // `\`, so a config folder like this one broke the line until the job could not open its log.
  const config = join(root, 'config $HOME \\\\ two \\ one \\% trailing\\');
  const ctx: ScheduleContext = {
    paths: schedulePaths({ SHADOW_SLOTS_CONFIG_DIR: config }, 'linux', root),
    engine: { node: process.execPath, cli: join(root, 'dist \\\\ x\\', 'cli.js') },
    zone: localZone(), now: () => new Date(), userId: 'root',
  };
  return { root, source, target, ctx };
}

test('crontab round-trip: install, list, replace, remove; other entries untouched', async (t) => {
  const { source, target, ctx } = await fixture(t);
  await withSavedCrontab(async () => {
    await cron.write(FOREIGN);
    const a = prepareSchedule({ source, target, slots: 7 }, spec('proj'), 'cron', ctx);
    await createSchedule(a, ctx);
    let table = await cron.read();
    assert.equal(table, FOREIGN + a.rendered.artefacts[0]!.text + '\n', 'our line appended, the rest byte for byte');
    assert.deepEqual(JSON.parse(await readFile(a.entry.profileFile, 'utf8')), { name: 'src _ _proj_ 日本', source, target, slots: 7, excludes: [], snapshot: 'auto', rsyncArgs: [] });
    assert.equal((await stat(a.entry.profileFile)).mode & 0o777, 0o600);
    assert.deepEqual((await readRegistry(ctx.paths.registryFile)).map((e) => e.id), ['proj']);

    // Creating the same schedule again changes nothing; changing the time replaces our line only.
    await createSchedule(a, ctx);
    assert.equal(await cron.read(), table);
    const b = prepareSchedule({ source, target, slots: 7 }, spec('proj', { time: { hour: 1, minute: 5 } }), 'cron', ctx);
    await createSchedule(b, ctx);
    table = await cron.read();
    assert.equal(table, FOREIGN + b.rendered.artefacts[0]!.text + '\n');
    const c = prepareSchedule({ source, target, name: 'second' }, spec('second', { when: { kind: 'days', days: [6] } }), 'cron', ctx);
    await createSchedule(c, ctx);

    const listed = await listSchedules(ctx);
    assert.deepEqual(listed.map((l) => [l.entry.id, l.platform.registered, l.summary]), [
      ['proj', true, `Weekdays at 01:05, keeps 7 slots on ${target}`],
      ['second', true, `Every Sat at 23:30, keeps 16 slots on ${target}`],
    ]);
    assert.ok(listed[0]!.nextRun !== undefined && new Date(listed[0]!.nextRun) > new Date());

    assert.equal(await removeSchedule('proj', ctx), true);
    assert.equal(await cron.read(), FOREIGN + c.rendered.artefacts[0]!.text + '\n');
    await assert.rejects(readFile(a.entry.profileFile), /ENOENT/);
    assert.equal(await removeSchedule('proj', ctx), false, 'removing twice is fine');
    // A line of ours the registry lost (e.g. the config folder was deleted) is still found by its marker.
    const orphan = prepareSchedule({ source, target }, spec('orphan'), 'cron', ctx).rendered.artefacts[0]!.text;
    await cron.write((await cron.read()) + orphan + '\n');
    assert.deepEqual(await removeAllMine(ctx, 'cron'), ['second', 'orphan']);
    assert.equal(await cron.read(), FOREIGN, 'only our lines were ever touched');
    assert.deepEqual(await readRegistry(ctx.paths.registryFile), []);
  });
});

test('a failing crontab write leaves no half-registered schedule', async (t) => {
  const { root, source, target, ctx } = await fixture(t);
  // A real crontab for reading, a write that fails the way a full disk or a cron.deny would.
  const broken = join(root, 'crontab-broken');
  await writeFile(broken, '#!/bin/sh\nif [ "$1" = "-l" ]; then exec crontab -l; fi\necho "crontab: cannot write: No space left on device" >&2\nexit 1\n');
  await chmod(broken, 0o755);
  await withSavedCrontab(async () => {
    await cron.write(FOREIGN);
    const prepared = prepareSchedule({ source, target }, spec('proj'), 'cron', ctx);
    await assert.rejects(createSchedule(prepared, { ...ctx, registrarFor: () => new CronRegistrar(broken) }), /No space left on device/);
    assert.equal(await cron.read(), FOREIGN);
    await assert.rejects(readFile(prepared.entry.profileFile), /ENOENT/, 'the profile file was taken back');
    assert.deepEqual(await readRegistry(ctx.paths.registryFile), []);
  });
});

test('replacing a schedule whose registry cannot be written puts the previous registration back', async (t) => {
  const { source, target, ctx } = await fixture(t);
  await withSavedCrontab(async () => {
    await cron.write(FOREIGN);
    const before = prepareSchedule({ source, target }, spec('proj'), 'cron', ctx);
    await createSchedule(before, ctx);
    const profileBefore = await readFile(before.entry.profileFile, 'utf8');
    const registryBefore = await readFile(ctx.paths.registryFile, 'utf8');
    // The immutable flag makes the registry's atomic rename fail even for root (EPERM).
    await run('chattr', ['+i', ctx.paths.registryFile]);
    try {
      const after = prepareSchedule({ source, target, slots: 3 }, spec('proj', { time: { hour: 1, minute: 5 } }), 'cron', ctx);
      await assert.rejects(createSchedule(after, ctx), /EPERM|not permitted/);
    } finally {
      await run('chattr', ['-i', ctx.paths.registryFile]);
    }
    assert.equal(await cron.read(), FOREIGN + before.rendered.artefacts[0]!.text + '\n', 'the previous crontab line is back');
    assert.equal(await readFile(before.entry.profileFile, 'utf8'), profileBefore);
    assert.equal(await readFile(ctx.paths.registryFile, 'utf8'), registryBefore);
    await removeSchedule('proj', ctx);
  });
});

test('real cron daemon runs the generated lines: exact hostile arguments, and a real backup through dist/cli.js', (t) => withCrontabLock(async () => {
  const saved = await cron.read();
  if (saved.trim() !== '') return t.skip('root has crontab entries; starting cron here would run them');
  if ((await run('pgrep', ['-x', 'cron'], { okExitCodes: [0, 1] })).exitCode === 0) return t.skip('a cron daemon is already running');
  const { root, source, target, ctx } = await fixture(t);
  // Job 1: a "CLI" at a hostile path that records the argv it got instead of backing up.
  const out = join(root, 'ran.json');
  await mkdir(dirname(ctx.engine.cli));
  await writeFile(ctx.engine.cli, `require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.argv.slice(2)));\n`);
  // Job 2: the built CLI (npm test builds it first) backing up a hostile source into a hostile target.
  const builtCli = join(import.meta.dirname, '../../../dist/cli.js');
  const haveBuild = await stat(builtCli).then(() => true, () => false);
  await writeFile(join(source, 'file.txt'), 'scheduled\n');
  const realCtx: ScheduleContext = { ...ctx, engine: { node: process.execPath, cli: builtCli } };
  // One-offs in a minute that none of the system's own cron jobs uses (/etc/crontab, cron.d).
  const busy = new Set([10, 17, 25, 30, 47, 52]);
  let at = new Date(Math.floor(Date.now() / 60_000) * 60_000 + (new Date().getSeconds() < 40 ? 60_000 : 120_000));
  while (busy.has(at.getMinutes()) || busy.has(new Date(at.getTime() - 60_000).getMinutes())) at = new Date(at.getTime() + 60_000);
  const p = localParts(at, ctx.zone);
  const once = { when: { kind: 'once' as const, date: formatDate(p) }, time: { hour: p.hour, minute: p.minute }, conditions: { runOnBattery: false, wakeToRun: false, catchUp: false, stopAfterHours: 1 } };
  const prepared = prepareSchedule({ source, target }, spec('live', once), 'cron', ctx);
  const real = prepareSchedule({ source, target, name: 'real' }, spec('real', once), 'cron', realCtx);
  const daemon = new AbortController();
  let running: Promise<unknown> | undefined;
  try {
    await createSchedule(prepared, ctx);
    if (haveBuild) await createSchedule(real, realCtx);
    running = run('cron', ['-f'], { signal: daemon.signal }).catch(() => undefined);
    const slot0 = join(target, '0', 'file.txt');
    const deadline = at.getTime() + 50_000;
    while (Date.now() < deadline) {
      const done = await Promise.all([stat(out), ...(haveBuild ? [stat(slot0)] : [])]).then(() => true, () => false);
      if (done) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const argv = JSON.parse(await readFile(out, 'utf8')) as string[];
    assert.deepEqual(argv, ['backup', '--profile', prepared.entry.profileFile]);
    t.diagnostic(`cron ran the jobs; ${((Date.now() - at.getTime()) / 1000).toFixed(1)} s after their minute began both had finished`);
    assert.equal(await readFile(ctx.paths.logFile('live'), 'utf8'), '', 'the job wrote nothing to its log');
    if (haveBuild) {
      assert.equal(await readFile(slot0, 'utf8'), 'scheduled\n', `slot 0 made by the scheduled run; its log:\n${await readFile(ctx.paths.logFile('real'), 'utf8').catch(() => '')}`);
      const listed = (await listSchedules(ctx)).find((l) => l.entry.id === 'real');
      assert.equal(listed?.ring.lastRun?.state, 'complete', 'list reports the scheduled run from the ring');
      assert.deepEqual(listed?.missed, []);
    } else {
      t.diagnostic('dist/cli.js is not built: the real-backup half was not run (npm test builds it)');
    }
  } finally {
    daemon.abort();
    await running;
    await removeAllMine(ctx, 'cron');
    await cron.write(saved);
  }
  assert.equal(await cron.read(), saved);
}));
