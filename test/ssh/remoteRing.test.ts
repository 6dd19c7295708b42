// A ring on a server over SSH (issue 15), against a real OpenSSH server on 127.0.0.1 started for
// the test: backups, rotation, listing, verify, restore, the hostile-name tree, the on-disk
// contract shared with local rings, host keys, the lock, and slot reads through the engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { runBackup } from '../../src/engine/backup';
import { validateProfile } from '../../src/core/profile';
import { listRing } from '../../src/engine/list';
import { restore } from '../../src/engine/restore';
import { verifySlot } from '../../src/engine/verify';
import { listSlotFolder, readSlotFile } from '../../src/engine/slotRead';
import { ShadowSlotsError } from '../../src/core/errors';
import { run } from '../../src/platform/runner';
import { openTarget } from '../../src/platform/target/remoteHosts';
import type { SshHost } from '../../src/platform/target/sshHost';
import { repoRoot, runCli } from '../helpers/cli';
import { assertSlotReads, slotReadSource } from '../helpers/slotReads';
import { SERVER_KINDS, startSshd, sshdUnavailable, useSshdEnv } from '../helpers/sshd';
import { tempDir } from '../helpers/tmp';
import { HOSTILE_NAMES } from '../helpers/hostileNames';

const skip = sshdUnavailable() ?? false;

/** Every hostile name of the quoting test as a file (and some as folders) of the source. */
async function hostileTree(root: string): Promise<string[]> {
  const made: string[] = [];
  for (const [i, name] of HOSTILE_NAMES.entries()) {
    // '' and names that are not file names ('.', '..', containing '/') cannot exist on disk.
    if (name === '' || name.includes('/') || name === '.' || name === '..') continue;
    const folder = i % 3 === 0 ? join(root, `dir ${name}`) : root;
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, name), `content of ${JSON.stringify(name)}`);
    made.push(i % 3 === 0 ? `dir ${name}/${name}` : name);
  }
  return made;
}

for (const server of SERVER_KINDS) test(`a ring over SSH (${server} server): backups, rotation, list, verify, restore, hostile names, and the same ring read locally`, { skip: sshdUnavailable(server) ?? false, timeout: 240_000 }, async (t) => {
  const sshd = await startSshd(t, { server });
  useSshdEnv(t, sshd);
  const dir = await tempDir(t);
  const source = join(dir, 'src');
  await mkdir(source);
  const names = await hostileTree(source);
  await symlink('target of link', join(source, 'a link'));
  // The ring's folder on the server has a hostile name too.
  const ringDir = join(dir, "ring $(touch pwned) 'q' ü");
  await mkdir(ringDir);
  const target = sshd.target(ringDir);
  const profile = validateProfile({ source, target, snapshot: 'none', slots: 3 }).profile;

  const first = await runBackup({ profile });
  assert.equal(first.outcome, 'complete');
  assert.equal(first.slot.manifest?.storage?.kind, 'links');
  assert.ok(first.slot.manifest?.rsync.argv.includes('-s'), 'rsync keeps names away from the server shell (-s)');
  assert.equal(existsSync(join(dir, 'pwned')), false);
  for (const name of names) assert.equal(await readFile(join(ringDir, '0', name), 'utf8'), await readFile(join(source, name), 'utf8'), name);
  assert.equal(await readlink(join(ringDir, '0', 'a link')), 'target of link');

  // Three more runs: the ring rotates and drops the oldest; unchanged files are hard links.
  for (let i = 1; i <= 3; i++) {
    await writeFile(join(source, `day ${i}.txt`), `day ${i}`);
    const r = await runBackup({ profile });
    assert.equal(r.outcome, 'complete');
  }
  const listing = await listRing(target);
  assert.deepEqual(listing.slots.map((s) => [s.number, s.state]), [[0, 'complete'], [1, 'complete'], [2, 'complete']]);
  assert.deepEqual(readdirSync(join(ringDir, '.shadow-slots', 'trash')), [], 'the dropped slot was deleted');
  assert.equal(existsSync(join(ringDir, '.shadow-slots', 'lock')), false, 'the lock is released');
  const { ino: ino0 } = await import('node:fs').then((fs) => fs.statSync(join(ringDir, '0', names[0]!)));
  const { ino: ino2 } = await import('node:fs').then((fs) => fs.statSync(join(ringDir, '2', names[0]!)));
  assert.equal(ino0, ino2, 'an unchanged file is one inode in every slot (--link-dest on the server)');
  assert.equal(listing.slots[0]!.manifest?.counts?.created, 1, 'one file new in the newest slot');

  // verify hashes on the server and agrees with a local verify of the very same folders.
  for (const n of [0, 1, 2]) {
    const remote = await verifySlot(target, n);
    assert.equal(remote.ok, true, JSON.stringify(remote));
    assert.ok(remote.checked >= names.length);
    const local = await verifySlot(ringDir, n);
    assert.deepEqual({ ...local }, { ...remote }, 'a remote ring reads the same locally');
  }
  // A changed file in a slot is found.
  const victim = join(ringDir, '1', 'day 2.txt');
  await chmod(victim, 0o644);
  await writeFile(victim, 'tampered');
  const bad = await verifySlot(target, 1);
  assert.equal(bad.ok, false);
  assert.deepEqual(bad.changed, ['day 2.txt']);

  // Restore a file and a folder with hostile names from the remote ring into a local folder.
  const out = join(dir, 'restored');
  await mkdir(out);
  const folderName = names.find((n) => n.includes('/'))!.split('/')[0]!;
  const r1 = await restore({ target, slot: 2, path: names[1]!, to: out, overwrite: false });
  assert.equal(await readFile(r1.restored[0]!, 'utf8'), await readFile(join(source, names[1]!), 'utf8'));
  await restore({ target, slot: 0, path: folderName, to: out, overwrite: false });
  assert.deepEqual(readdirSync(join(out, folderName)), readdirSync(join(source, folderName)));
  await writeFile(join(out, names[1]!), 'local edit');
  const r3 = await restore({ target, slot: 0, path: names[1]!, to: out, overwrite: true });
  assert.ok(r3.keptAside?.startsWith(join(out, '.shadow-slots-replaced')), `kept aside on this machine: ${r3.keptAside}`);
  assert.equal(await readFile(r3.keptAside!, 'utf8'), 'local edit');
  await assert.rejects(restore({ target, slot: 0, path: 'a link/x', to: out, overwrite: false }), /symbolic link/);

  // Slot reads through the host.
  const root = await listSlotFolder(target, 0, '');
  assert.ok(root.some((e) => e.name === 'a link' && e.kind === 'symlink'));
  assert.equal((await readSlotFile(target, 0, names[2]!)).toString(), await readFile(join(source, names[2]!), 'utf8'));

  // The contract both ways: a local run continues the remotely made ring, then a remote run again
  // (the source is unchanged: both runs make a slot all the same, to compare their lists).
  const local = await runBackup({ profile: validateProfile({ source, target: ringDir, snapshot: 'none', slots: 3, skipUnchanged: false }).profile });
  assert.equal(local.outcome, 'complete');
  const again = await runBackup({ profile: { ...profile, skipUnchanged: false } });
  assert.equal(again.outcome, 'complete');
  // The local run's list is in rsync's order (format 2): merged on the server in that order, the
  // unchanged source has no deleted files, and that slot verifies there too.
  assert.equal(again.slot.manifest?.counts?.deleted, 0);
  assert.equal((await verifySlot(target, 1)).ok, true);
  assert.equal((await verifySlot(target, 0)).ok, true);
  assert.equal((await verifySlot(ringDir, 1)).ok, true);
});

test('the server runs our commands with dash, the login shell only ever sees "exec sh", and ONE connection serves a run', { skip, timeout: 60_000 }, async (t) => {
  const sshd = await startSshd(t);
  useSshdEnv(t, sshd);
  const dir = await tempDir(t);
  const opened = await openTarget(sshd.target(dir));
  try {
    const host = opened.host as SshHost;
    const shell = await host.run('sh', ['-c', 'readlink /proc/$PPID/exe']);
    assert.match(shell.stdout.trim(), /dash$/);
    const hostile = HOSTILE_NAMES.filter((n) => n !== '' && !n.includes('/') && n !== '.' && n !== '..');
    for (const name of hostile) {
      const path = host.join(dir, name);
      await host.writeTextAtomic(path, `text of ${name}\n'"$\``);
      assert.equal(await host.readText(path), `text of ${name}\n'"$\``, JSON.stringify(name));
      assert.equal(await host.exists(path), true);
      assert.equal((await host.stat(path))?.kind, 'file');
    }
    assert.deepEqual((await host.list(dir)).map((e) => e.name).sort(), [...hostile].sort());
    const echoed = await host.run('printf', ['%s\\0', ...hostile]);
    assert.deepEqual(echoed.stdout.split('\0').slice(0, -1), hostile);
    // Only one ssh connection reached the server while all this ran: the listener has one child.
    const children = await run('pgrep', ['-P', String(sshd.pid)], { okExitCodes: [0, 1] });
    assert.equal(children.stdout.trim().split('\n').filter(Boolean).length, 1, children.stdout);
  } finally {
    await opened.release();
  }
  // Closed at the end: no connection left, no control folder left.
  await new Promise((r) => setTimeout(r, 300));
  const after = await run('pgrep', ['-P', String(sshd.pid)], { okExitCodes: [0, 1] });
  assert.equal(after.stdout.trim(), '');
});

test('a server\'s text file (a checksum list of tens of MB) streams into a private local file as it arrives, and the session carries on', { skip, timeout: 60_000 }, async (t) => {
  const sshd = await startSshd(t);
  useSshdEnv(t, sshd);
  const dir = await tempDir(t);
  // Lines of a list whose names are hostile; 12 MB, far more than one read of the session's pipe.
  // Dense emoji: each is two UTF-16 units, so many a chunk ends between the halves of one.
  const lines = HOSTILE_NAMES.filter((n) => !n.includes('\n')).map((n, i) => `${i}\t${n}\t${'🙂é'.repeat(20)}\n`).join('');
  const text = lines.repeat(Math.ceil(12e6 / Buffer.byteLength(lines)));
  const name = `sums $(x) 'q' ü.txt`;
  await writeFile(join(dir, name), text);
  const opened = await openTarget(sshd.target(dir));
  try {
    const host = opened.host as SshHost;
    const local = join(await tempDir(t), 'copy');
    assert.equal(await host.downloadText(host.join(dir, name), local), true);
    const copied = await readFile(local, 'utf8');
    assert.equal(copied.includes('\uFFFD'), false, 'no character was cut in two');
    assert.equal(copied === text, true, 'byte for byte');
    assert.equal((await stat(local)).mode & 0o777, 0o600);
    const missing = join(await tempDir(t), 'none');
    assert.equal(await host.downloadText(host.join(dir, 'not there'), missing), false);
    assert.equal(existsSync(missing), false, 'no local file for a file the server does not have');
    // The frame that ends the reply was found in the stream: the next command gets its own answer.
    assert.equal(await host.readText(host.join(dir, name)) === text, true);
    assert.equal((await host.run('printf', ['%s', 'after'])).stdout, 'after');
    // A script with a local file that cannot be read fails alone: nothing was sent, the session carries on.
    await assert.rejects(host.connection.exec(['cat <<\'E\'\n', { file: join(dir, 'not here') }, 'E\n']), /ENOENT/);
    assert.equal((await host.run('printf', ['%s', 'still'])).stdout, 'still');
  } finally {
    await opened.release();
  }
});

test('an unknown or changed host key is refused with what to do; nothing is written', { skip, timeout: 60_000 }, async (t) => {
  const sshd = await startSshd(t);
  useSshdEnv(t, sshd);
  const dir = await tempDir(t);
  const source = join(dir, 'src');
  await mkdir(source);
  await writeFile(join(source, 'f'), 'x');
  const ringDir = join(dir, 'ring');
  await mkdir(ringDir);
  await writeFile(sshd.knownHosts, '');
  const error = await runBackup({ profile: validateProfile({ source, target: sshd.target(ringDir), snapshot: 'none' }).profile }).then(() => null, (e: unknown) => e);
  assert.ok(error instanceof ShadowSlotsError);
  assert.equal(error.code, 'preflight');
  assert.match(error.message, /host key of .*127\.0\.0\.1:\d+ is not known/);
  assert.match(error.hint ?? '', /Connect once yourself with "ssh -p \d+ .*@127\.0\.0\.1".*never accepts a host key/);
  assert.deepEqual(readdirSync(ringDir), []);
  // A key that changed (another server answers on that address).
  await writeFile(sshd.knownHosts, `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHFdCbHX3ybZ7vBqnmDrLzFVSNdzbwBPk9sNdcVsCyi4\n`);
  const changed = await listRing(sshd.target(ringDir)).then(() => null, (e: unknown) => e);
  assert.ok(changed instanceof ShadowSlotsError);
  assert.match(changed.message, /host key of .* has changed/);
  // The product never switches host key checking off.
  const sources = ['sshConnection.ts', 'sshHost.ts', 'remoteHosts.ts', 'remoteLock.ts'].map((f) => join(repoRoot, 'src', 'platform', 'target', f));
  for (const f of sources) assert.doesNotMatch(await readFile(f, 'utf8'), /StrictHostKeyChecking|UserKnownHostsFile=\/dev\/null/i, f);
});

test('two clients: separate rings on one server both complete; the same ring refuses the second, naming the holder on the server', { skip, timeout: 120_000 }, async (t) => {
  const sshd = await startSshd(t);
  const dir = await tempDir(t);
  const source = join(dir, 'src');
  await mkdir(source);
  for (let i = 0; i < 12; i++) await writeFile(join(source, `big${i}`), Buffer.alloc(512 * 1024, i));
  for (const r of ['ringA', 'ringB']) await mkdir(join(dir, r));
  const args = (ring: string, extra: string[] = []) => ['backup', '--source', source, '--target', sshd.target(join(dir, ring)), '--snapshot', 'none', '--json', ...extra];
  const [a, b] = await Promise.all([runCli(args('ringA'), sshd.env), runCli(args('ringB'), sshd.env)]);
  assert.equal(a.code, 0, a.stderr + a.stdout);
  assert.equal(b.code, 0, b.stderr + b.stdout);

  // The same ring: the first one is slowed down (a profile file with --bwlimit) so both overlap.
  await writeFile(join(source, 'new'), Buffer.alloc(4 * 1024 * 1024, 7));
  const profileFile = join(dir, 'slow.json');
  await writeFile(profileFile, JSON.stringify({ source, target: sshd.target(join(dir, 'ringA')), snapshot: 'none', rsyncArgs: ['--bwlimit=1000'] }));
  const slow = runCli(['backup', '--profile', profileFile, '--json'], sshd.env);
  const lock = join(dir, 'ringA', '.shadow-slots', 'lock');
  const deadline = Date.now() + 30_000;
  while (!existsSync(lock) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(lock), 'the first run took the lock');
  const second = await runCli(args('ringA'), sshd.env);
  assert.notEqual(second.code, 0);
  const error = second.events.find((e) => e.type === 'error') as { code: string; message: string; hint: string };
  assert.equal(error.code, 'locked');
  const owner = JSON.parse(await readFile(lock, 'utf8')) as { pid: number; host: string; command: string };
  assert.match(error.message, new RegExp(`process ${owner.pid} on ${owner.host} \\(backup .* from .*\\(pid \\d+\\)`));
  assert.match(error.message, /ring on .*127\.0\.0\.1/);
  assert.ok(existsSync(`/proc/${owner.pid}`), 'the lock names a process the server runs: the first run\'s shell');
  const firstDone = await slow;
  assert.equal(firstDone.code, 0, firstDone.stderr);
  assert.equal(existsSync(lock), false);
});

test('the control socket lives in a folder without spaces even when TMPDIR has them (rsync splits -e on spaces)', { skip, timeout: 60_000 }, async (t) => {
  const sshd = await startSshd(t);
  const dir = await tempDir(t);
  const spaced = join(dir, 'tmp with spaces');
  await mkdir(spaced);
  const source = join(dir, 'src');
  await mkdir(source);
  await writeFile(join(source, 'f'), 'x');
  await mkdir(join(dir, 'ring'));
  const r = await runCli(['backup', '--source', source, '--target', sshd.target(join(dir, 'ring')), '--snapshot', 'none', '--json'], { ...sshd.env, TMPDIR: spaced });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const argv = ((r.events.find((e) => e.type === 'result') as { result: { slot: { manifest: { rsync: { argv: string[] } } } } }).result.slot.manifest.rsync.argv);
  const shell = argv[argv.indexOf('-e') + 1]!;
  assert.match(shell, / -S \/tmp\/shadow-slots-ssh-\d+-[A-Za-z0-9]+\/c /);
  assert.deepEqual(readdirSync(spaced).filter((n) => n.startsWith('shadow-slots-ssh-')), []);
});

test('slot folders, entries and files of a remote ring through the engine process', { skip, timeout: 120_000 }, async (t) => {
  const sshd = await startSshd(t);
  const dir = await tempDir(t);
  const source = join(dir, 'src');
  await slotReadSource(source);
  await mkdir(join(dir, 'ring'));
  const target = sshd.target(join(dir, 'ring'));
  assert.equal((await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none'], sshd.env)).code, 0);

  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'engine.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...sshd.env } });
  const c = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  child.stdin.on('error', () => undefined);
  c.onError(() => undefined);
  c.listen();
  t.after(() => { c.dispose(); child.kill('SIGKILL'); });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await c.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });

  await assertSlotReads(c, target);
  // The engine keeps one connection for these requests (no login per click).
  const children = await run('pgrep', ['-P', String(sshd.pid)], { okExitCodes: [0, 1] });
  assert.equal(children.stdout.trim().split('\n').filter(Boolean).length, 1);
  // The editor closing the engine closes its connection.
  await c.sendRequest('shutdown');
  await c.sendNotification('exit');
  await exited;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await run('pgrep', ['-P', String(sshd.pid)], { okExitCodes: [0, 1] })).stdout.trim(), '');
});
