// Issue 19, defect 3: Ctrl-C during `backup` exited 1 with "Cancelled: /usr/bin/rsync". The
// convention is 128 + the signal's number (130 for SIGINT, 143 for SIGTERM), and the user needs to
// hear what state the ring is in and what the next run does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { slowCopyFixture } from '../../helpers/tmp';
import { cliPath, runCli } from '../../helpers/cli';
import { run } from '../../../src/platform/runner';

interface Stopped { code: number | null; signal: string | null; stdout: string; stderr: string }

/**
 * Starts a throttled backup in its own process group and, once rsync is copying, sends `signal`
 * to the whole group (what a terminal does on Ctrl-C) or to the CLI alone (what `kill` does).
 */
function interruptedBackup(profile: string, json: boolean, signal: 'SIGINT' | 'SIGTERM', to: 'group' | 'process'): Promise<Stopped> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, 'backup', '--profile', profile, ...(json ? ['--json'] : [])], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      if (!sent && (json ? stdout.includes('"phase":"copy"') : stdout.includes('Copying'))) {
        sent = true;
        // Long enough for rsync to be spawned and writing into the in-progress folder.
        setTimeout(() => process.kill(to === 'group' ? -child.pid! : child.pid!, signal), 700);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (code, sig) => resolve({ code, signal: sig, stdout, stderr }));
  });
}

async function ringAfter(target: string) {
  const listing = JSON.parse((await runCli(['list', '--target', target, '--json'])).stdout) as { busy: boolean; slots: Array<{ number: number | null; id: string; state: string }> };
  const ps = await run('ps', ['-eo', 'args=']);
  return {
    complete: listing.slots.filter((s) => s.state === 'complete').map((s) => `${s.number}:${s.id}`),
    busy: listing.busy,
    rsyncLeft: ps.stdout.split('\n').some((l) => l.includes('rsync') && l.includes(target)),
  };
}

test('Ctrl-C (SIGINT to the process group) during the copy: exit 130, "ring unchanged, next run resumes"; SIGTERM: 143; then the next run resumes', async (t) => {
  const { dir, source, target } = await slowCopyFixture(t, 24);
  const profile = join(dir, 'profile.json');
  // 2 MB/s: the 24 MiB copy takes ~12 s, so both signals land mid-copy.
  await writeFile(profile, JSON.stringify({ source, target, snapshot: 'none', slots: 3, rsyncArgs: ['--bwlimit=2000'] }));
  // A complete slot 0 first, from a source without the big files, so "unchanged" has something to keep.
  const small = join(dir, 'small');
  await (await import('node:fs/promises')).mkdir(small);
  await writeFile(join(small, 'a.txt'), 'a');
  const seeded = await runCli(['backup', '--source', small, '--target', target, '--snapshot', 'none', '--slots', '3']);
  assert.equal(seeded.code, 0, seeded.stderr);
  const before = await ringAfter(target);
  assert.equal(before.complete.length, 1);

  const ctrlC = await interruptedBackup(profile, false, 'SIGINT', 'group');
  assert.equal(ctrlC.signal, null, 'the CLI handled the signal itself');
  assert.equal(ctrlC.code, 130, ctrlC.stdout + ctrlC.stderr);
  assert.match(ctrlC.stderr, /Interrupted \(SIGINT\)/);
  assert.match(ctrlC.stderr, /the ring is unchanged/);
  assert.match(ctrlC.stderr, /next (run|backup) resumes/);
  assert.doesNotMatch(ctrlC.stderr, /Cancelled: \//, 'not the runner\'s internal message');
  assert.deepEqual(await ringAfter(target), { ...before, rsyncLeft: false }, 'same slots, lock released, no rsync left');

  const term = await interruptedBackup(profile, true, 'SIGTERM', 'process');
  assert.equal(term.code, 143, term.stdout + term.stderr);
  const last = JSON.parse(term.stdout.trim().split('\n').at(-1)!) as { type: string; code: string; message: string };
  assert.equal(last.type, 'error');
  assert.equal(last.code, 'cancelled');
  assert.match(last.message, /Interrupted \(SIGTERM\).*the ring is unchanged.*resumes/);
  assert.deepEqual(await ringAfter(target), { ...before, rsyncLeft: false });

  const resumed = await runCli(['backup', '--profile', profile, '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const result = resumed.events.find((e) => e['type'] === 'result')!['result'] as { notes: string[]; slot: { number: number } };
  assert.ok(result.notes.some((n) => /Resuming an unfinished backup/.test(n)), result.notes.join('\n'));
  assert.equal(result.slot.number, 0);
  assert.equal((await stat(join(target, '0', 'big23'))).size, 1024 * 1024);
});
