// A ring on a server gets its checksum list and change log as a local ring does (issue 16): rsync's
// -ii list of the push, merged during the copy with the previous slot's list, and only new and
// changed entries hashed on the server, in batches; the new slot is not walked there. Compared
// with the server walk it replaces and with a plain walk of both slots, against a real sshd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { appendFile, mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { shQuote } from '../../src/core/posixQuote';
import { hashRemoteEntries, PatchRefusedError, publishPatchedSums, writeRemoteSlotSums } from '../../src/platform/target/remoteSums';
import { openTarget } from '../../src/platform/target/remoteHosts';
import type { SshHost } from '../../src/platform/target/sshHost';
import { readSums } from '../../src/platform/treeSums';
import { ServerHashes } from '../../src/engine/serverHashes';
import { runCli } from '../helpers/cli';
import { HOSTILE_NAMES } from '../helpers/hostileNames';
import { startSshd, sshdUnavailable, useSshdEnv, type ServerKind, type TestSshd } from '../helpers/sshd';
import { checkNewestSlot, fixture, mutate, rng, snapshotOf } from '../helpers/streamTree';
import { tempDir } from '../helpers/tmp';
import type { CliRun } from '../helpers/cli';

interface Listed { slots: Array<{ number: number; id: string; manifest: { checksums: string | null; changeLog: string; counts: { deleted: number } } }> }

async function slotsOf(ring: string): Promise<Listed['slots']> {
  return (JSON.parse((await runCli(['list', '--target', ring, '--json'])).stdout) as Listed).slots;
}

function logsOf(run: CliRun): { messages: string[]; warnings: string[] } {
  const logs = run.events.filter((e) => e['type'] === 'log');
  return { messages: logs.map((e) => String(e['message'])), warnings: logs.filter((e) => e['level'] !== 'info' && e['level'] !== 'trace').map((e) => String(e['message'])) };
}

/** The merge ran on the server's slot and the slot was not walked there (remoteSums' walk starts with this line). */
function assertMerged(run: CliRun, slot0: string, what: string): void {
  const { messages, warnings } = logsOf(run);
  assert.deepEqual(warnings, [], `${what}: no warning, no fallback`);
  assert.ok(messages.some((m) => /^Checksums from rsync's list: \d+ entries hashed on the server, \d+ carried over/.test(m)), `${what}: ${messages.filter((m) => m.startsWith('Checksums')).join(' | ') || 'no checksum line'}`);
  assert.ok(!messages.some((m) => m.includes(`: cd -- ${shQuote(slot0)} || exit 1`)), `${what}: the new slot was walked on the server`);
}

/** A checksum list as path → its line's fields. */
async function sumsMap(file: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const l of readSums(file)) out.set(l.path, `${l.hash} ${l.size} ${l.mtimeMs} ${l.ino}`);
  return out;
}

const MERGE_SERVERS: ServerKind[] = ['gnu', 'busybox-bare'];

for (const server of MERGE_SERVERS) {
  test(`${server} server, randomized trees: the merged checksum list and change log equal the server walk's and a plain walk's, and verify passes`, { skip: sshdUnavailable(server) ?? false, timeout: 400_000 }, async (t) => {
    const sshd = await startSshd(t, { server });
    useSshdEnv(t, sshd);
    const seed = server === 'gnu' ? 1515 : 1516;
    const { dir, source, target } = await fixture(t, seed);
    const remote = sshd.target(target);
    const meta = join(target, '.shadow-slots');
    const r = rng(seed + 1);
    const opened = await openTarget(remote);
    t.after(() => opened.release());
    const host = opened.host as SshHost;
    for (let round = 0; round < 6; round++) {
      const ops = round === 0 ? ['seed'] : await mutate(source, r, round);
      const what = `round ${round} after ${ops.join('; ')}`;
      const run = await runCli(['backup', '--source', source, '--target', remote, '--snapshot', 'none', '--slots', '4', '--json', '--verbose'], sshd.env);
      assert.equal(run.code, 0, `${what}: ${run.stderr}`);
      assertMerged(run, join(target, '0'), what);
      // Against a plain walk of both slots: hashes in rsync's order, change log, counts.
      await checkNewestSlot(target, what);
      if (round === 0) continue;
      // Against the server walk finalize used before: the same lines, the same deletions.
      const [s0, s1] = await slotsOf(target);
      const walked = join(dir, `walked-${round}.tsv`);
      const gone: string[] = [];
      await writeRemoteSlotSums(host, join(target, '0'), walked, join(meta, s1!.manifest.checksums!), undefined, async (p) => { gone.push(p); });
      assert.deepEqual(await sumsMap(join(meta, s0!.manifest.checksums!)), await sumsMap(walked), `${what}: checksum lines`);
      const log = (await readFile(join(meta, s0!.manifest.changeLog), 'utf8')).split('\n').filter((l) => l.startsWith('- '));
      assert.deepEqual(log.sort(), gone.map((p) => `- ${JSON.stringify(p)}`).sort(), `${what}: deletions`);
      assert.equal(s0!.manifest.counts.deleted, gone.length, `${what}: deleted count`);
    }
    for (const slot of ['0', '1', '2', '3']) {
      const verify = await runCli(['verify', '--target', remote, '--slot', slot, '--json'], sshd.env);
      assert.equal(verify.code, 0, `verify slot ${slot} on the server: ${verify.stdout}`);
      assert.equal((await runCli(['verify', '--target', target, '--slot', slot])).code, 0, `verify slot ${slot} here`);
    }
    for (const where of [dir, source, process.cwd()]) assert.ok(!(await readdir(where)).some((n) => n.startsWith('PWNED')));
  });
}

for (const server of ['gnu', 'busybox', 'busybox-bare'] as const) {
  test(`${server} server: named entries of a slot are listed and hashed in one batch, hostile names included; gone or retyped ones are left out`, { skip: sshdUnavailable(server) ?? false, timeout: 120_000 }, async (t) => {
    const sshd = await startSshd(t, { server });
    useSshdEnv(t, sshd);
    const dir = await tempDir(t);
    const root = join(dir, "slot $(touch PWNED) 'q'");
    // rsync's --files-from skips lines starting with # or ; (comments): such names must come back too.
    const names = [...HOSTILE_NAMES.filter((n) => n !== '' && !n.includes('/') && n !== '.' && n !== '..'), '#comment', ';semi', ' lead', '-dash'];
    const wanted = new Map<string, 'file' | 'symlink'>();
    for (const [i, name] of names.entries()) {
      const path = i % 2 === 0 ? `dir ${name}/${name}` : name;
      await mkdir(join(root, i % 2 === 0 ? `dir ${name}` : ''), { recursive: true });
      await writeFile(join(root, path), `content ${i} of ${JSON.stringify(name)}`);
      wanted.set(path, 'file');
      await symlink(`to ${name}`, join(root, `link ${i}`));
      wanted.set(`link ${i}`, 'symlink');
    }
    wanted.set('gone', 'file');
    wanted.set('link 0', 'file');
    const opened = await openTarget(sshd.target(dir));
    t.after(() => opened.release());
    const hashed = await hashRemoteEntries(opened.host as SshHost, root, wanted);
    const expected = new Map<string, unknown>();
    for (const [path, kind] of wanted) {
      if (path === 'gone' || path === 'link 0') continue;
      const full = join(root, path);
      const s = lstatSync(full);
      const hash = kind === 'symlink' ? 'link:' + createHash('sha256').update(readlinkSync(full)).digest('hex') : createHash('sha256').update(readFileSync(full)).digest('hex');
      expected.set(path, { hash, size: s.size, mtimeMs: Math.floor(s.mtimeMs / 1000) * 1000, ino: 0 });
    }
    assert.deepEqual(hashed, expected);
    assert.ok(!(await readdir(dir)).includes('PWNED'));
  });
}

test('entries are hashed on the server a batch at a time, as the draft asks for them; a second play starts over; an entry the draft never listed is an error', { skip: sshdUnavailable() ?? false, timeout: 60_000 }, async (t) => {
  const sshd = await startSshd(t);
  useSshdEnv(t, sshd);
  const dir = await tempDir(t);
  const root = join(dir, 'slot');
  await mkdir(root);
  const names = ['a', "b 'q'", 'c $(x)', 'd', 'gone'];
  for (const name of names.filter((n) => n !== 'gone')) await writeFile(join(root, name), `content of ${name}`);
  const draft = join(dir, 'draft');
  // `?` lines (core/slotRecord.ts) between previous-list lines, as a merge writes them.
  await writeFile(draft, names.map((n) => `= 1\n? kf+ ${JSON.stringify(n)}\n`).join(''));
  const opened = await openTarget(sshd.target(dir));
  t.after(() => opened.release());
  const host = opened.host as SshHost;
  // Counts the commands sent over the session.
  let sent = 0;
  const exec = host.connection.exec.bind(host.connection);
  host.connection.exec = (...args) => { sent++; return exec(...args); };
  const commands = () => sent;
  const hashes = new ServerHashes(host, root, draft, undefined, 2);
  t.after(() => hashes.close());
  const sha = (name: string) => createHash('sha256').update(`content of ${name}`).digest('hex');
  const seen: Array<unknown> = [];
  for (const play of [1, 2]) {
    for (const name of names) {
      const before = commands();
      const hashed = await hashes.hashEntry(name);
      seen.push(before !== commands());
      assert.equal(hashed?.hash ?? null, name === 'gone' ? null : sha(name), `${name}, play ${play}`);
    }
  }
  // A command only for the first entry of each batch of 2: a, c, gone; the same in the second play.
  assert.deepEqual(seen, [true, false, true, false, true, true, false, true, false, true]);
  await assert.rejects(hashes.hashEntry('never listed'), /not among its entries to hash/);
});

test('an entry rsync on the server leaves out of its listing but is there (cannot be read) is an error, never a deletion', { skip: sshdUnavailable('busybox') ?? false, timeout: 60_000 }, async (t) => {
  const sshd = await startSshd(t, { server: 'busybox' });
  useSshdEnv(t, sshd);
  const dir = await tempDir(t);
  const root = join(dir, 'slot');
  await mkdir(root, { recursive: true });
  for (const name of ['plain', 'secret; x']) await writeFile(join(root, name), name);
  const opened = await openTarget(sshd.target(dir));
  t.after(() => opened.release());
  const host = opened.host as SshHost;
  // The server's rsync as a user who may not read "secret…" sees it (the tests run as root, whom
  // no permission stops): the entry missing from its listing, exit 23, as for a vanished one.
  await rm(join(sshd.binDir!, 'rsync'));
  await writeFile(join(sshd.binDir!, 'rsync'), '#!/bin/sh\n/usr/bin/rsync "$@" | grep -v secret\nexit 23\n', { mode: 0o755 });
  const vanished = await hashRemoteEntries(host, root, new Map([['plain', 'file'], ['gone', 'file']]));
  assert.deepEqual([...vanished.keys()], ['plain']);
  await assert.rejects(hashRemoteEntries(host, root, new Map([['plain', 'file'], ['secret; x', 'file'], ['gone', 'file']])),
    (error: Error) => /"secret; x" in .* could not be listed \(1 such entry\): it is there/.test(error.message));
});

/** A backup to the server's ring with --verbose, for the tests below. */
function backupTo(sshd: TestSshd, source: string, target: string, extra: string[] = [], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(['backup', '--source', source, '--target', sshd.target(target), '--snapshot', 'none', '--json', '--verbose', ...extra], { ...sshd.env, ...env });
}

test('a resumed copy, a previous slot without checksums, and one changed file among many on a server', { skip: sshdUnavailable() ?? false, timeout: 240_000 }, async (t) => {
  const sshd = await startSshd(t);
  useSshdEnv(t, sshd);
  const { source, target } = await fixture(t, 3);
  const meta = join(target, '.shadow-slots');
  assert.equal((await backupTo(sshd, source, target)).code, 0);

  // One appended file: exactly that one is hashed (on the server), everything else carried over.
  const files = [...snapshotOf(source)].filter(([, e]) => e.kind !== 'dir').length;
  const changedFile = [...snapshotOf(source)].find(([, e]) => e.kind === 'file')![0];
  await appendFile(join(source, changedFile), ' changed');
  const one = await backupTo(sshd, source, target);
  assert.equal(one.code, 0, one.stderr);
  assertMerged(one, join(target, '0'), 'one change');
  assert.ok(logsOf(one).messages.includes(`Checksums from rsync's list: 1 entries hashed on the server, ${files - 1} carried over from the previous slot's list.`), logsOf(one).messages.filter((m) => m.startsWith('Checksums')).join());
  await checkNewestSlot(target, 'one change');

  // Killed after rsync finished, before the rotation: the next run resumes the finished copy, and
  // rsync lists what the killed run copied as kept (`.f`): still logged and hashed.
  await writeFile(join(source, 'added-before-the-kill'), 'new');
  await appendFile(join(source, changedFile), ' again');
  await rm(join(source, 'link-to-plain'));
  await writeFile(join(source, 'link-to-plain'), 'a file now');
  // A killed engine leaves its control folder and staged files (the next run's sweep takes them
  // after an hour): in this test's own temp folder, removed with it.
  const killedTemp = await tempDir(t);
  const killed = await backupTo(sshd, source, target, [], { SHADOW_SLOTS_FAULT: 'phase:rotate', TMPDIR: killedTemp });
  assert.notEqual(killed.code, 0);
  await writeFile(join(source, 'added-after-the-kill'), 'newer');
  const resumed = await backupTo(sshd, source, target);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.ok(JSON.stringify(resumed.events).includes('Resuming an unfinished backup'));
  assertMerged(resumed, join(target, '0'), 'resumed');
  await checkNewestSlot(target, 'resumed');

  // A previous slot without a list (adopted): marks are rsync's, rsync on the server lists the
  // deletions into the change log.
  const [s0] = await slotsOf(target);
  const manifestFile = join(meta, 'manifests', `${s0!.id}.json`);
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>;
  await rm(join(meta, s0!.manifest.checksums!));
  await writeFile(manifestFile, JSON.stringify({ ...manifest, checksums: null, adopted: true }));
  await rm(join(source, 'added-before-the-kill'));
  await writeFile(join(source, 'after-adoption'), 'a');
  const adopted = await backupTo(sshd, source, target);
  assert.equal(adopted.code, 0, adopted.stderr);
  assertMerged(adopted, join(target, '0'), 'after an adopted slot');
  const [a0] = await slotsOf(target);
  const log = await readFile(join(meta, a0!.manifest.changeLog), 'utf8');
  assert.ok(log.includes('- "added-before-the-kill"\n') && log.includes('+ "after-adoption"\n'), log);
  assert.equal(a0!.manifest.counts.deleted, 1);
  // Slot 1 is the one whose list was removed: nothing to verify it against.
  for (const slot of ['0', '2']) assert.equal((await runCli(['verify', '--target', sshd.target(target), '--slot', slot], sshd.env)).code, 0, `verify slot ${slot}`);
});

test('rsync output out of order on a server ring: the slot is walked on the server instead, with the same checksums', { skip: sshdUnavailable() ?? false, timeout: 120_000 }, async (t) => {
  const sshd = await startSshd(t);
  useSshdEnv(t, sshd);
  const { dir, source, target } = await fixture(t, 11);
  // An "rsync" here that slips in an entry which sorts before everything, after the first few.
  const wrapper = join(dir, 'rsync-reordering');
  await writeFile(wrapper, '#!/bin/bash\nrsync "$@" | awk \'NR == 6 { print "hf          !first-but-late" } { print }\'\nexit ${PIPESTATUS[0]}\n', { mode: 0o755 });
  const profile = join(dir, 'profile.json');
  await writeFile(profile, JSON.stringify({ source, target: sshd.target(target), snapshot: 'none', rsyncPath: wrapper }));
  const backup = () => runCli(['backup', '--profile', profile, '--json', '--verbose'], sshd.env);
  assert.equal((await backup()).code, 0);
  await appendFile(join(source, [...snapshotOf(source)].find(([, e]) => e.kind === 'file')![0]), ' changed');
  await writeFile(join(source, 'new-file'), 'n');
  const run = await backup();
  assert.equal(run.code, 0, run.stderr);
  const { messages } = logsOf(run);
  assert.ok(messages.some((m) => m.includes('is not in rsync\'s order') && m.includes('walking the slot instead')), messages.join(' | '));
  assert.ok(messages.some((m) => m.includes(`: cd -- ${shQuote(join(target, '0'))} || exit 1`)), 'walked on the server');
  const [s0] = await slotsOf(target);
  const recorded = new Map<string, string>();
  for await (const l of readSums(join(target, '.shadow-slots', s0!.manifest.checksums!))) recorded.set(l.path, l.hash);
  assert.deepEqual(recorded, new Map([...snapshotOf(join(target, '0'))].filter(([, e]) => e.kind !== 'dir').map(([p, e]) => [p, e.hash!])));
  assert.equal((await runCli(['verify', '--target', sshd.target(target), '--slot', '0'], sshd.env)).code, 0);
  // That walk wrote its list in walk order (format 1): the next run sorts a copy here, merges with
  // it, and sends the whole list (a patch would name the server's lines in the other order).
  await writeFile(join(source, 'after-the-walk'), 'w');
  const next = await backupTo(sshd, source, target);
  assert.equal(next.code, 0, next.stderr);
  assertMerged(next, join(target, '0'), 'after a walked slot');
  await checkNewestSlot(target, 'after a walked slot');
});

test('a checksum list made on the server from a patch against its previous list: the same bytes, or refused without a trace', { skip: sshdUnavailable('busybox-bare') ?? false, timeout: 60_000 }, async (t) => {
  const sshd = await startSshd(t, { server: 'busybox-bare' });
  useSshdEnv(t, sshd);
  const dir = await tempDir(t);
  const meta = join(dir, "meta $(touch PWNED) 'q'");
  await mkdir(meta);
  const previous = join(meta, 'previous.tsv');
  await writeFile(previous, '#header\nh1\t1\t0\t0\t"a"\nh2\t2\t0\t0\t"b\\\\n"\nh3\t3\t0\t0\t"c"\nh4\t4\t0\t0\t"d"');
  const patchFile = join(dir, 'patch');
  const logFile = join(dir, 'log');
  await writeFile(patchFile, 'l #new header\ns 1\nc 2\ns 1\nl h9\t9\t0\t0\t"c2 $(x) \\" \\\\"\nc 1\n');
  await writeFile(logFile, '~ "c2 $(x)"\n- "c"\n');
  const expected = '#new header\nh1\t1\t0\t0\t"a"\nh2\t2\t0\t0\t"b\\\\n"\nh9\t9\t0\t0\t"c2 $(x) \\" \\\\"\nh4\t4\t0\t0\t"d"\n';
  const opened = await openTarget(sshd.target(dir));
  t.after(() => opened.release());
  const host = opened.host as SshHost;
  const o = { previousSums: previous, sumsPath: join(meta, 'new.tsv'), patchFile, bytes: Buffer.byteLength(expected), changeLogPath: join(meta, 'new.log'), changeLogFile: logFile };
  await publishPatchedSums(host, o);
  assert.equal(await readFile(o.sumsPath, 'utf8'), expected);
  assert.equal(await readFile(o.changeLogPath, 'utf8'), '~ "c2 $(x)"\n- "c"\n');
  // Another previous list than the one the patch was made from: nothing is written, no temp file stays.
  await writeFile(previous, '#header\nh1\t1\t0\t0\t"a"\n');
  const other = { ...o, sumsPath: join(meta, 'other.tsv'), changeLogPath: join(meta, 'other.log') };
  await assert.rejects(publishPatchedSums(host, other), PatchRefusedError);
  await writeFile(previous, '#header\nh1\t1\t0\t0\t"a"\nh2\t2\t0\t0\t"b\\\\n"\nh3\t3\t0\t0\t"c"\nh4\t4\t0\t0\t"dd"');
  await assert.rejects(publishPatchedSums(host, other), PatchRefusedError);
  assert.deepEqual((await readdir(meta)).sort(), ['new.log', 'new.tsv', 'previous.tsv']);
  assert.ok(!(await readdir(dir)).includes('PWNED'));
});
