// Issue 19, defect 2: `shadow-slots list --target T | head -3` crashed with an unhandled EPIPE stack
// trace. A command whose reader goes away stops quietly, as `ls` and `git` do (they die of SIGPIPE,
// which a shell reports as 141), and a backup stopped that way leaves the ring as it was.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fakeMsys2Runtime } from '../../unit/windows/peBuilder';
import { tempDir } from '../../helpers/tmp';
import { cliPath, runCli } from '../../helpers/cli';

const SIGPIPE_EXIT = 141;

/** A seed ring of `count` numbered folders (as the original scripts leave one): a long listing. */
async function longRing(t: TestContext, count: number): Promise<string> {
  const target = join(await tempDir(t), 'ring');
  await mkdir(target);
  for (let i = 0; i < count; i++) await mkdir(join(target, String(i)));
  return target;
}

/** Runs the CLI with stdout a pipe whose reading end is closed before the CLI writes anything. */
function withReaderGone(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

function assertQuiet(what: string, r: { code: number | null; signal: string | null; stderr: string }) {
  assert.equal(r.signal, null, `${what}: not killed`);
  assert.equal(r.code, SIGPIPE_EXIT, `${what}: exit ${r.code}, stderr:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /EPIPE|\n\s+at |Error:/, `${what}: no error or stack trace`);
}

/** Off Windows, `helper plan` needs a copy of rsync.exe and its DLLs (as a user would bring from Windows). */
async function rsyncCopy(dir: string): Promise<string> {
  const bin = join(dir, 'msys64', 'usr', 'bin');
  await mkdir(bin, { recursive: true });
  for (const f of fakeMsys2Runtime()) await writeFile(join(bin, f.name), f.bytes);
  return join(bin, 'rsync.exe');
}

test('list of a long ring piped into `head -n 1`: the first line, then a quiet exit 141', async (t) => {
  const target = await longRing(t, 3000);
  // bash reports each command's status; pipefail is what a careful script sets.
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('bash', ['-c', 'set -o pipefail; "$0" "$1" list --target "$2" | head -n 1; echo "statuses ${PIPESTATUS[*]}" >&2', process.execPath, cliPath, target], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { stdout += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  assert.match(r.stdout, /^slot\s+state\s+started \(UTC\)/);
  assert.equal(r.stdout.split('\n').length, 2, 'head printed one line');
  assert.equal(r.stderr, `statuses ${SIGPIPE_EXIT} 0\n`, 'nothing on stderr but the statuses: no EPIPE stack trace');
});

test('every printing command exits quietly (141) when its reader is gone before it writes', async (t) => {
  const dir = await tempDir(t);
  const source = join(dir, 'src');
  const ring = join(dir, 'ring');
  await mkdir(source);
  await mkdir(ring);
  await writeFile(join(source, 'a.txt'), 'alpha');
  await writeFile(join(dir, 'filter'), '- *.tmp\n');
  const first = await runCli(['backup', '--source', source, '--target', ring, '--snapshot', 'none']);
  assert.equal(first.code, 0, first.stderr);
  const long = await longRing(t, 3000);
  const config = join(dir, 'config');
  await mkdir(join(dir, 'restored'));
  const cases: Array<[string, string[]]> = [
    ['help', ['--help']],
    ['list', ['list', '--target', long]],
    ['list --json', ['list', '--target', long, '--json']],
    ['verify', ['verify', '--target', ring, '--slot', '0']],
    ['restore', ['restore', '--target', ring, '--slot', '0', '--path', 'a.txt', '--to', join(dir, 'restored')]],
    ['filter check', ['filter', 'check', '--source', source, '--filter', join(dir, 'filter')]],
    ['preview', ['preview', '--source', source, '--target', ring]],
    ['schedule list', ['schedule', 'list']],
    ['helper plan', ['helper', 'plan', '--source', 'C:\\src', '--target', 'D:\\ring', '--user-sid', 'S-1-5-21-1-2-3-1001', '--rsync', await rsyncCopy(dir), '--out', join(dir, 'plan')]],
  ];
  for (const [what, args] of cases) assertQuiet(what, await withReaderGone(args, { SHADOW_SLOTS_CONFIG_DIR: config }));

  // A backup whose output is gone stops like a cancel: the ring keeps its one slot, no new one.
  await writeFile(join(source, 'b.txt'), 'beta');
  const backup = await withReaderGone(['backup', '--source', source, '--target', ring, '--snapshot', 'none', '--json']);
  assertQuiet('backup --json', backup);
  assert.deepEqual((await readdir(ring)).filter((n) => /^\d+$/.test(n)), ['0'], 'no slot was added');
  const listing = JSON.parse((await runCli(['list', '--target', ring, '--json'])).stdout) as { busy: boolean; slots: Array<{ state: string }> };
  assert.equal(listing.busy, false, 'the lock was released');
  assert.deepEqual(listing.slots.map((s) => s.state), ['complete']);
});
