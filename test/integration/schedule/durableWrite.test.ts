// Issue 19, defect 8: the schedule registry (and every unit file, plist and profile file written
// through it) used its own atomic write that fsynced neither the file nor its folder, so a power cut
// right after "Schedule created" could leave an empty or missing registry. The system calls of a
// real write are watched with strace: the temp file is fsynced before the rename, the folder after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp';
import { run } from '../../../src/platform/runner';

const scheduleModule = (name: string) => join(import.meta.dirname, '..', '..', '..', 'src', 'platform', 'schedule', `${name}.ts`);

async function straceUnavailable(): Promise<string | null> {
  const probe = await run('strace', ['-qq', '-e', 'trace=none', 'true'], { okExitCodes: [0, 1] }).catch(() => null);
  if (probe === null) return 'strace is not installed';
  return probe.exitCode === 0 ? null : `strace cannot trace here: ${probe.stderr.trim()}`;
}

/** Runs `body` (JavaScript with `m` = the module) under strace; returns the calls on files in `dir`. */
async function traced(dir: string, body: string, module = 'registry'): Promise<string[]> {
  const log = join(dir, 'strace.log');
  await run('strace', ['-f', '-qq', '-y', '-e', 'trace=fsync,fdatasync,rename,renameat,renameat2,mkdir,mkdirat', '-o', log,
    process.execPath, '--conditions=import', '--import', 'tsx', '--input-type=module', '-e',
    `const mod = await import(${JSON.stringify(scheduleModule(module))}); const m = mod.default ?? mod; ${body}`]);
  // Only calls on our files: node and tsx touch their own caches too.
  return (await readFile(log, 'utf8')).split('\n').filter((l) => l.includes(dir) && !l.includes('strace.log')).map((l) => l.replace(/^\d+\s+/, ''));
}

test('registry writes are durable: temp file fsynced, renamed over, folder fsynced; missing folders made and synced', async (t) => {
  const why = await straceUnavailable();
  if (why) return t.skip(why);
  const dir = await tempDir(t);
  const file = join(dir, 'config', 'shadow-slots', 'schedules.json');
  const calls = await traced(dir, `await m.writeRegistry(${JSON.stringify(file)}, []);`);
  const index = (re: RegExp) => calls.findIndex((c) => re.test(c));
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const renamed = index(new RegExp(`^rename(at2?)?\\(.*"(${esc(file)}\\.[^"]+)", .*"${esc(file)}"`));
  assert.ok(renamed >= 0, `the registry is renamed into place:\n${calls.join('\n')}`);
  const tmpName = new RegExp(`"(${esc(file)}\\.[^"]+)"`).exec(calls[renamed]!)![1]!;
  const tmpSynced = calls.findIndex((c) => /^f(data)?sync\(/.test(c) && c.includes(`<${tmpName}>`));
  assert.ok(tmpSynced >= 0 && tmpSynced < renamed, `the temp file is fsynced before the rename:\n${calls.join('\n')}`);
  const folderSynced = calls.findIndex((c, i) => i > renamed && new RegExp(`^fsync\\(\\d+<${esc(join(dir, 'config', 'shadow-slots'))}>\\)`).test(c));
  assert.ok(folderSynced > renamed, `the folder is fsynced after the rename:\n${calls.join('\n')}`);
  // The folders did not exist: their own entries are made durable too.
  assert.ok(calls.some((c) => new RegExp(`^fsync\\(\\d+<${esc(dir)}>\\)`).test(c)), `the parent of the new folders is fsynced:\n${calls.join('\n')}`);
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { format: 1, schedules: [] });
  assert.equal((await stat(file)).mode & 0o777, 0o644);
});

test('restoring a file during a rollback goes through the same durable write', async (t) => {
  const why = await straceUnavailable();
  if (why) return t.skip(why);
  const dir = await tempDir(t);
  const file = join(dir, 'unit.timer');
  const calls = await traced(dir, `await m.restoreFile(${JSON.stringify(file)}, Buffer.from('[Timer]\\n'));`);
  assert.ok(calls.some((c) => c.startsWith('fsync(') && c.includes(`<${file}.`)), calls.join('\n'));
  assert.ok(calls.some((c) => c.startsWith('fsync(') && c.includes(`<${dir}>`)), calls.join('\n'));
  assert.equal(await readFile(file, 'utf8'), '[Timer]\n');
});

test('the stable copy of the CLI that schedules run is written the same durable way', async (t) => {
  const why = await straceUnavailable();
  if (why) return t.skip(why);
  const dir = await tempDir(t);
  const bundle = join(dir, 'bundle.js');
  await writeFile(bundle, 'console.log("cli")\n');
  const calls = await traced(dir, `await m.installStableCli(${JSON.stringify(bundle)}, { configDir: ${JSON.stringify(join(dir, 'config'))} });`, 'engineInstall');
  const installed = join(dir, 'config', 'engine', 'cli.js');
  assert.ok(calls.some((c) => c.startsWith('fsync(') && c.includes(`<${installed}.`)), calls.join('\n'));
  assert.ok(calls.some((c) => c.startsWith('fsync(') && c.includes(`<${join(dir, 'config', 'engine')}>`)), calls.join('\n'));
  assert.equal(await readFile(installed, 'utf8'), 'console.log("cli")\n');
});
