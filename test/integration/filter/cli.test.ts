// `shadow-slots filter check` and `shadow-slots preview` as a user runs them (the CLI entry point
// in a child process): JSON output, exit codes, and clear errors for bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessError, run } from '../../../src/platform/runner';

const root = join(__dirname, '..', '..', '..');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['--conditions=import', '--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (error) {
    if (!(error instanceof ProcessError)) throw error;
    return { code: error.exitCode ?? -1, stdout: '', stderr: error.stderrTail };
  }
}

test('filter check prints per rule its line, counts and diagnostics, and exits 2 on invalid rules', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'ss-filter-cli-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const source = join(work, 'src');
  await mkdir(join(source, 'node_modules', 'x'), { recursive: true });
  await writeFile(join(source, 'node_modules', 'x', 'i.js'), '12345');
  await writeFile(join(source, 'main.ts'), 'code');
  const good = join(work, 'good filter');
  await writeFile(good, '# deps\n- node_modules/\n- *.tmp\n');
  const r = await cli(['filter', 'check', '--source', source, '--filter', good, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { summary: string; rules: Array<{ line: number; rule: string; files: number; bytes: number; diagnostics: Array<{ code: string }> }> };
  assert.equal(out.summary, 'excludes 1 file (5 bytes) of 2');
  assert.deepEqual(out.rules.map((x) => [x.line, x.rule, x.files, x.bytes, x.diagnostics.map((d) => d.code)]), [
    [2, '- node_modules/', 1, 5, []],
    [3, '- *.tmp', 0, 0, ['no-match']],
  ]);

  const bad = join(work, 'bad');
  await writeFile(bad, '- ok\n-oops\n');
  const b = await cli(['filter', 'check', '--source', source, '--filter', bad]);
  assert.equal(b.code, 2);
  const text = await cli(['filter', 'check', '--source', source, '--filter', good]);
  assert.match(text.stdout, /^\s+2 {2}- node_modules\/\n\s+excludes 1 file \(5 bytes\) and 2 folders/m);

  const missing = await cli(['filter', 'check', '--source', join(work, 'nope'), '--filter', good]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /is not an existing folder/);
  const usage = await cli(['filter', 'lint', '--source', source, '--filter', good]);
  assert.equal(usage.code, 2);
});

test('preview --json lists the dry run of the next backup', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'ss-filter-cli-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  await mkdir(join(work, 'src'));
  await mkdir(join(work, 'ring'));
  await writeFile(join(work, 'src', 'a.txt'), 'a');
  await writeFile(join(work, 'src', 'skip.log'), 'b');
  await writeFile(join(work, 'rules'), '- *.log\n');
  const r = await cli(['preview', '--source', join(work, 'src'), '--target', join(work, 'ring'), '--filter', join(work, 'rules'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { copied: number; items: Array<{ action: string; path: string; kind: string }> };
  assert.deepEqual(out.items.filter((i) => i.kind === 'file'), [{ action: 'copy', kind: 'file', path: 'a.txt' }]);
});
