// Finding 1 of issue 12: which files make up the rsync copy the installer puts in the admin-only
// folder — rsync.exe and every DLL it (transitively) imports from its own folder, nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peImports } from '../../../src/core/windows/peImports';
import { readFileSync } from 'node:fs';
import { RUNTIME_FILE_NAME, validateHelperProfile } from '../../../src/core/windows/helperProfile';
import { collectRsyncRuntime, runtimeFiles } from '../../../src/platform/windows/rsyncRuntime';
import { planFor } from './planFixtures';
import { buildPe, fakeMsys2Runtime } from './peBuilder';

test('import and delay-load import tables of PE32+ and PE32 files', () => {
  assert.deepEqual(peImports(buildPe({ imports: ['msys-2.0.dll', 'KERNEL32.dll'] })), ['kernel32.dll', 'msys-2.0.dll']);
  assert.deepEqual(peImports(buildPe({ imports: ['a.dll'], delayImports: ['Delayed.DLL'] })), ['a.dll', 'delayed.dll']);
  assert.deepEqual(peImports(buildPe({ imports: ['a.dll'], delayImports: ['old.dll'], delayAsVa: true, pe32: true })), ['a.dll', 'old.dll']);
  assert.deepEqual(peImports(buildPe({ imports: ['cygwin1.dll', 'cygiconv-2.dll'], pe32: true })), ['cygiconv-2.dll', 'cygwin1.dll']);
  assert.deepEqual(peImports(buildPe({ imports: [] })), []);
});

test('malformed files are refused with a reason, never read past their end', () => {
  const good = buildPe({ imports: ['a.dll'] });
  assert.throws(() => peImports(Buffer.from('not a pe file at all')), /no MZ header/);
  assert.throws(() => peImports(good.subarray(0, 0x60)), /outside the file/);
  const noSig = Buffer.from(good); noSig.write('XX', 0x40, 'latin1');
  assert.throws(() => peImports(noSig), /no PE signature/);
  const badRva = Buffer.from(good); badRva.writeUInt32LE(0x9000, 0x44 + 20 + 112 + 8);
  assert.throws(() => peImports(badRva), /in no section/);
  const unterminated = Buffer.from(good); unterminated.fill(0x41, 0x200 + 48);
  assert.throws(() => peImports(unterminated), /DLL name/);
});

test('the collector follows imports inside rsync\'s folder only, rsync.exe first', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ss-rsync-runtime-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const f of fakeMsys2Runtime()) await writeFile(join(dir, f.name), f.bytes);
  // Present in the folder but never imported: not copied.
  await writeFile(join(dir, 'msys-unrelated-1.dll'), buildPe({ imports: [] }));
  await writeFile(join(dir, 'ssh.exe'), buildPe({ imports: ['msys-2.0.dll'] }));
  const files = await collectRsyncRuntime(join(dir, 'rsync.exe'));
  assert.deepEqual(files.map((f) => f.name), ['rsync.exe', 'msys-2.0.dll', 'msys-iconv-2.dll']);
  assert.deepEqual(runtimeFiles(files, 'msys2').map((f) => f.name), ['rsync/usr/bin/rsync.exe', 'rsync/usr/bin/msys-2.0.dll', 'rsync/usr/bin/msys-iconv-2.dll', 'rsync/etc/fstab']);

  // A DLL named by an import but missing from the folder is a Windows DLL; a broken one is refused.
  await writeFile(join(dir, 'msys-iconv-2.dll'), Buffer.from('garbage'));
  await assert.rejects(collectRsyncRuntime(join(dir, 'rsync.exe')), /msys-iconv-2\.dll is not a valid PE file/);
  await assert.rejects(collectRsyncRuntime(join(dir, 'missing.exe')), /does not exist/);
});

test('review L9b: a runtime DLL with "_" in its name (msys-gcc_s-seh-1.dll) is copied, and the stored profile accepts it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ss-rsync-runtime-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'rsync.exe'), buildPe({ imports: ['msys-2.0.dll', 'msys-gcc_s-seh-1.dll'] }));
  await writeFile(join(dir, 'msys-2.0.dll'), buildPe({ imports: [] }));
  await writeFile(join(dir, 'msys-gcc_s-seh-1.dll'), buildPe({ imports: ['msys-2.0.dll'] }));
  const files = await collectRsyncRuntime(join(dir, 'rsync.exe'));
  assert.deepEqual(files.map((f) => f.name), ['rsync.exe', 'msys-2.0.dll', 'msys-gcc_s-seh-1.dll']);
  const plan = planFor({ source: 'C:\\src\\p', target: 'D:\\B' }, { rsync: { path: 'C:\\msys64\\usr\\bin\\rsync.exe', flavor: 'msys2', files } });
  assert.ok(validateHelperProfile(JSON.parse(JSON.stringify(plan.storedProfile))).rsync.files.some((f) => f.name === 'rsync/usr/bin/msys-gcc_s-seh-1.dll'));
  assert.ok(plan.manifest.rsync.some((f) => f.from === 'C:\\msys64\\usr\\bin\\msys-gcc_s-seh-1.dll'));
  const scripts = ['install.ps1', 'helper.ps1'].map((n) => readFileSync(join(__dirname, '../../../src/platform/windows/assets', n), 'utf8'));
  for (const text of scripts) assert.ok(text.includes('[A-Za-z0-9][A-Za-z0-9._+-]{0,63}\\.(exe|dll)'), 'both scripts allow the same names');
  assert.ok(RUNTIME_FILE_NAME.test('msys-gcc_s-seh-1.dll'));
});

