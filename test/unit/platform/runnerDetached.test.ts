import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { setLogSink, startDetached } from '../../../src/platform/runner';
import { tempDir } from '../../helpers/tmp';

test('startDetached returns at once, logs the command, and the process runs on in its own process group', async (t) => {
  const dir = await tempDir(t);
  const done = join(dir, 'done $(touch PWNED) & "q"');
  const logged: string[] = [];
  setLogSink((_level, message) => logged.push(message));
  t.after(() => setLogSink(() => undefined));
  // The child writes its own process group next to its pid, 1.5 s later.
  const script = 'setTimeout(() => require("fs").writeFileSync(process.argv[1], `${process.pid} ${require("child_process").execFileSync("ps", ["-o", "pgid=", "-p", String(process.pid)]).toString().trim()}`), 1500)';
  const started = performance.now();
  const pid = startDetached(process.execPath, ['-e', script, done]);
  assert.ok(performance.now() - started < 1000, 'not waited for');
  assert.equal(typeof pid, 'number');
  assert.equal(existsSync(done), false);
  assert.ok(logged.some((m) => m.includes('[detached, pid') && m.includes(process.execPath)), logged.join('\n'));
  for (let i = 0; i < 100 && !existsSync(done); i++) await sleep(50);
  const [childPid, group] = readFileSync(done, 'utf8').split(' ');
  assert.equal(Number(childPid), pid);
  assert.equal(Number(group), pid, 'a process group of its own: a Ctrl-C or a cancelled tree of ours does not reach it');
  assert.ok(!existsSync(join(dir, 'PWNED')), 'argv, never a shell');
});

test('startDetached of a program that does not exist returns without throwing', async () => {
  const logged: string[] = [];
  setLogSink((_level, message) => logged.push(message));
  try {
    startDetached('/nonexistent/program', ['x']);
    await sleep(200);
  } finally {
    setLogSink(() => undefined);
  }
  assert.ok(logged.some((m) => m.includes('could not start')), logged.join('\n'));
});
