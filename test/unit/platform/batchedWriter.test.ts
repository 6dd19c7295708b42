import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchedWriter } from '../../../src/platform/batchedWriter';
import { tempDir } from '../../helpers/tmp';

test('lines written in many batches arrive whole and in order; append mode appends', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'log');
  const writer = await BatchedWriter.open(file, 'write');
  const expected: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const line = `- "folder ${i % 13}/file ${i} é文"\n`;
    expected.push(line);
    await writer.write(line);
  }
  await writer.close({ sync: true });
  const more = await BatchedWriter.open(file, 'append');
  more.append('last\n');
  await more.close();
  assert.equal(await readFile(file, 'utf8'), expected.join('') + 'last\n');
});

test('a full disk is reported by write and close, never as an uncaught error', { skip: existsSync('/dev/full') ? false : 'no /dev/full on this system' }, async () => {
  const writer = await BatchedWriter.open('/dev/full', 'append');
  let thrown: unknown = null;
  try {
    for (let i = 0; i < 10_000; i++) await writer.write(`${'x'.repeat(100)}\n`);
  } catch (error) {
    thrown = error;
  }
  assert.equal((thrown as NodeJS.ErrnoException | null)?.code, 'ENOSPC');
  writer.append('ignored after the failure\n');
  await assert.rejects(writer.close(), { code: 'ENOSPC' });
});
