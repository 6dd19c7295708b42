import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hereDocumentBody } from '../../../src/platform/target/remoteSums';

test('a file is a here-document body when it is empty or ends in a newline and no line is the end word, wherever the read chunks split it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ss-heredoc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const end = 'SHADOW_SLOTS_END_0123456789abcdef';
  const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
  // 64 KiB is the read chunk: put the end word across that boundary, and a multi-byte character too.
  const pad = 'l x\n'.repeat(16383) + 'é';
  assert.equal(await hereDocumentBody(file('empty', ''), end), true);
  assert.equal(await hereDocumentBody(file('lines', 'l a\nc 3\n'), end), true);
  assert.equal(await hereDocumentBody(file('big', `${pad}\n${'l "ü"\n'.repeat(50_000)}`), end), true);
  assert.equal(await hereDocumentBody(file('no-newline', 'l a\nl b'), end), false, 'the last line would run into the end word');
  assert.equal(await hereDocumentBody(file('first', `${end}\nl a\n`), end), false);
  assert.equal(await hereDocumentBody(file('middle', `l a\n${end}\nl b\n`), end), false);
  assert.equal(await hereDocumentBody(file('split', `${pad}\n${end}\nl b\n`), end), false, 'split across chunks');
  assert.equal(await hereDocumentBody(file('inside', `l ${end}\n${end}x\n`), end), true, 'only a whole line ends the document');
});
