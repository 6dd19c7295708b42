// The CLI is where a backup's profile enters (flags and a profile file): it is validated there once,
// the engine gets the validated Profile, and what validation tells the user still reaches the result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp';
import { runCli } from '../../helpers/cli';

test('backup --json: a profile file that cannot be read or is invalid is a JSON error line, exit 2', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'relative.json'), JSON.stringify({ source: 'src', target: '/tmp/x' }));
  for (const [file, message] of [[join(dir, 'missing.json'), /cannot be read/], [join(dir, 'relative.json'), /not absolute/]] as const) {
    const r = await runCli(['backup', '--profile', file, '--json']);
    assert.equal(r.code, 2, r.stderr);
    const last = r.events.at(-1);
    assert.equal(last?.['type'], 'error', r.stdout + r.stderr);
    assert.equal(last?.['code'], 'invalid-input');
    assert.match(String(last?.['message']), message);
  }
});

test('what validation tells the user (a target inside the source is excluded) reaches the backup result', async (t) => {
  const source = join(await tempDir(t), 'src');
  const target = join(source, 'ring');
  await mkdir(target, { recursive: true });
  await writeFile(join(source, 'a.txt'), 'a');
  const r = await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = r.events.find((e) => e['type'] === 'result')!['result'] as { notes: string[] };
  assert.ok(result.notes.some((n) => /excluded from the backup automatically \(exclude "\/ring\/"\)/.test(n)), result.notes.join('\n'));
});
