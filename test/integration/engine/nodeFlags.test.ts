// The engine a user starts really runs with the engine's node flags (issue 16's memory target):
// dist/cli.js is started as a program, through its shebang as npm's `bin` link does, and so is
// the detached purge it starts. Each node process reports the flags it was started with as it
// exits (bench/hwm-probe.cjs, preloaded the way the benchmark preloads it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ENGINE_NODE_FLAGS } from '../../../src/core/engineNodeFlags';
import { run } from '../../../src/platform/runner';
import { cliPath, repoRoot } from '../../helpers/cli';
import { purgeFinished } from '../../helpers/purge';
import { tempDir } from '../../helpers/tmp';

interface Record { argv: string[]; execArgv: string[]; hwmKb: number }

test('the CLI started through its shebang runs the backup and its detached purge with ENGINE_NODE_FLAGS', async (t) => {
  const dir = await tempDir(t);
  const source = join(dir, 'source');
  const target = join(dir, 'ring');
  const records = join(dir, 'records');
  await Promise.all([mkdir(source), mkdir(target), mkdir(records)]);
  const env = { NODE_OPTIONS: `--require=${JSON.stringify(join(repoRoot, 'bench', 'hwm-probe.cjs'))}`, SHADOW_SLOTS_BENCH_HWM_DIR: records };
  for (const n of [1, 2]) {
    await writeFile(join(source, 'f.txt'), `run ${n}`);
    // The program is cli.js itself, not node: what starts node is the kernel reading its first line.
    await run(cliPath, ['backup', '--source', source, '--target', target, '--snapshot', 'none', '--slots', '1', '--json'], { env });
  }
  assert.ok(await purgeFinished(target), 'the second run dropped the first slot to a detached purge, which finished');
  let recs: Record[] = [];
  // The purge writes its record as it exits, just after it released its lock.
  for (let i = 0; i < 100 && !recs.some((r) => r.argv.includes('purge')); i++) {
    recs = await Promise.all((await readdir(records)).map(async (f) => JSON.parse(await readFile(join(records, f), 'utf8')) as Record));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const backups = recs.filter((r) => r.argv.includes('backup'));
  const purges = recs.filter((r) => r.argv.includes('purge'));
  assert.equal(backups.length, 2, JSON.stringify(recs));
  assert.ok(purges.length >= 1, `a detached purge ran: ${JSON.stringify(recs)}`);
  for (const r of [...backups, ...purges]) {
    assert.deepEqual(r.execArgv, [...ENGINE_NODE_FLAGS], `${r.argv.join(' ')} was started with ${JSON.stringify(r.execArgv)}`);
    assert.ok(r.hwmKb > 0);
  }
});
