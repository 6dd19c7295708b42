// The index reads a slot's checksum list with its own fast reader (slotCatalogSource.ts): it must
// give exactly the catalog the list's own reader (readSums + shortHash) gives, for a real list
// written by writeSlotSums and for lists with what a damaged or foreign file may hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSlotCatalog } from '../../../src/platform/slotCatalogSource';
import { readSums, writeSlotSums, formatSumLine } from '../../../src/platform/treeSums';
import { localHost } from '../../../src/platform/target/localHost';
import { shortHash, SlotCatalog, type CatalogEntry } from '../../../src/core/slotCatalog';
import { HOSTILE_NAMES } from '../../helpers/hostileNames';
import { tempDir } from '../../helpers/tmp';

/** The catalog as the list's own reader sees it. */
async function reference(file: string): Promise<SlotCatalog> {
  const items: Array<[string, CatalogEntry]> = [];
  for await (const s of readSums(file)) items.push([s.path, { kind: s.hash.startsWith('link:') ? 'symlink' : 'file', size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, hash: shortHash(s.hash) }]);
  return SlotCatalog.fromUnsorted(items);
}

function rows(c: SlotCatalog): Array<[string, CatalogEntry]> {
  return c.paths.map((p, i) => [p, c.entry(i)]);
}

async function assertSameAsReference(file: string): Promise<number> {
  const { catalog, from } = await readSlotCatalog(localHost, '/nonexistent', file);
  assert.equal(from, 'sums');
  const expected = rows(await reference(file));
  assert.deepEqual(rows(catalog), expected);
  return expected.length;
}

test('a checksum list written by writeSlotSums reads as readSums reads it (hostile names, symlinks, folders sorting after their prefix)', async (t) => {
  const dir = await tempDir(t);
  const slot = join(dir, 'slot');
  await mkdir(join(slot, 'a'), { recursive: true });
  await mkdir(join(slot, 'a.b'), { recursive: true });
  for (const name of HOSTILE_NAMES.filter((n) => n !== '' && !n.includes('/'))) await writeFile(join(slot, 'a', name), name);
  await writeFile(join(slot, 'a.b', 'x'), 'x');
  await writeFile(join(slot, 'a-c'), 'c');
  await symlink('a/plain', join(slot, 'link'));
  const sums = join(dir, 'sums.tsv');
  await writeSlotSums(slot, sums, null);
  const n = await assertSameAsReference(sums);
  assert.equal(n, HOSTILE_NAMES.filter((x) => x !== '' && !x.includes('/')).length + 3);
});

test('a long list with multi-byte names across read chunks, CRLF line ends and lines a reader refuses', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'sums.tsv');
  const hash = (i: number) => (i * 2654435761 >>> 0).toString(16).padStart(8, '0').repeat(8);
  const lines: string[] = [];
  // Over 1 MiB of lines so chunks are cut, with 2-, 3- and 4-byte characters everywhere.
  for (let i = 0; i < 12_000; i++) {
    const name = `d${i % 7}/ü日🙂 ${i}${i % 3 === 0 ? '\\"q"' : ''}.txt`;
    lines.push(formatSumLine({ hash: i % 11 === 0 ? `link:${hash(i)}` : hash(i), size: i, mtimeMs: 1_700_000_000_123 + i, ino: 1000 + i, path: name }).slice(0, -1));
  }
  lines.push('0123456789abcdef\t1\t2\t3\t"crlf"\r');
  lines.push('0123456789ABCDEF\t1\t2\t3\t"upper-case hash: no hash"');
  lines.push('0123456789abcde\t1\t2\t3\t"short hash"');
  lines.push('link:\t1\t2\t3\t"empty link hash"');
  lines.push('\t1\t2\t3\t"empty hash"');
  lines.push('0123456789abcdef\tx\t2\t3\t"size not a number"');
  lines.push('0123456789abcdef\t1\t2\t3\t"control\u0001char"');
  lines.push('0123456789abcdef\t1\t2\t3\t"not json');
  lines.push('0123456789abcdef\t1\t2\t3\t"too"\t"many"');
  lines.push('0123456789abcdef\t1\t2\t"too few"');
  lines.push('');
  lines.push('0123456789abcdef\t5\t6\t7\t"d0/ü日🙂 0\\\\\\"q\\".txt"');
  lines.push('fedcba9876543210\t1\t2\t3\t"no newline at the end"');
  // Bytes that are not UTF-8: a lone continuation byte, a sequence cut by a tab, a no-break space (0xA0) in a number.
  const raw = Buffer.concat([
    Buffer.from('0123456789abcdef\t1\t2\t3\t"bad \xff byte"\n', 'latin1'),
    Buffer.from('0123456789abcdef\t1\t2\xe6\x97\t3\t"cut sequence"\n', 'latin1'),
    Buffer.from('0123456789abcdef\t1\xa0\t2\t3\t"nbsp in size"\n', 'latin1'),
  ]);
  await writeFile(file, Buffer.concat([raw, Buffer.from(lines.join('\n'))]));
  const n = await assertSameAsReference(file);
  assert.equal(n, 12_000 + 7 + 3, 'the 12,000 lines, the five odd but readable ones, the last and the three with bad bytes; the listed-twice path counted once');
  const { catalog } = await readSlotCatalog(localHost, '/nonexistent', file);
  assert.deepEqual(catalog.get('crlf'), { kind: 'file', size: 1, mtimeMs: 2, ino: 3, hash: '0123456789abcdef' });
  assert.equal(catalog.get('upper-case hash: no hash')?.hash, null);
  assert.equal(catalog.get('d0/ü日🙂 0\\"q".txt')?.ino, 7, 'a path listed twice keeps its last entry');
  assert.equal(catalog.get('no newline at the end')?.hash, 'fedcba9876543210');
  assert.equal(catalog.get('control\u0001char'), null);
});

test('a list that does not exist reads as an empty slot, as readSums reads it', async (t) => {
  const dir = await tempDir(t);
  assert.equal(await assertSameAsReference(join(dir, 'missing.tsv')), 0);
});

test('a line longer than the read buffer (1 MiB) between ordinary lines', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'sums.tsv');
  const long = `${'ü'.repeat(700_000)}/end`;
  await writeFile(file, ['0123456789abcdef\t1\t2\t3\t"a"', `0123456789abcdef\t4\t5\t6\t${JSON.stringify(long)}`, '0123456789abcdef\t7\t8\t9\t"z"', ''].join('\n'));
  assert.equal(await assertSameAsReference(file), 3);
  const { catalog } = await readSlotCatalog(localHost, '/nonexistent', file);
  assert.equal(catalog.get(long)?.size, 4);
});
