import { CatalogBuilder, type SlotCatalog } from '../core/slotCatalog';
import { openIfExists } from './fsutil';
import type { RingHost } from './target/host';
import { SshHost } from './target/sshHost';
import { walkTree } from './treeWalk';
import { yieldWhenDue } from './eventLoopTurns';
import { ShadowSlotsError } from '../core/errors';

/**
 * The catalog of one slot for the ring index, read where the ring lives. A slot with a checksum
 * list is read from that list alone — every file and symlink with its size, time, inode and
 * checksum, recorded when the slot was made — so a new slot costs no walk at all. A slot without
 * one (adopted from a ring made without Shadow Slots, or left without it by an interrupted run)
 * is walked once: sizes, times and inodes only; no file's content is ever read for the index.
 */
export async function readSlotCatalog(host: RingHost, slotFolder: string, sumsFile: string | null, signal?: AbortSignal): Promise<{ catalog: SlotCatalog; from: 'sums' | 'walk' }> {
  if (sumsFile !== null) return { catalog: await fromSums(host, sumsFile, signal), from: 'sums' };
  return { catalog: await fromWalk(host, slotFolder, signal), from: 'walk' };
}

function cancelled(): ShadowSlotsError {
  return new ShadowSlotsError('cancelled', 'Indexing the slots was cancelled.');
}

async function fromSums(host: RingHost, sumsFile: string, signal?: AbortSignal): Promise<SlotCatalog> {
  // On a server the list is fetched once (a few MB for 200,000 files) and read here.
  const local = await host.staged(sumsFile, 'read');
  const b = new CatalogBuilder();
  try {
    await readLines(local, (line) => addSumLine(b, line), signal);
  } finally {
    await host.discardStaged(sumsFile);
  }
  return b.build();
}

/**
 * Calls `each` with every line of `file` (none when it does not exist), as readSums reads it, but
 * in large chunks cut after their last newline and copied as Latin-1 (decoding as UTF-8 costs
 * 5 times more, and names in other scripts put a multi-byte character in every chunk); a line with
 * a byte above 127 is decoded again as UTF-8 by itself. A newline is never part of a UTF-8
 * sequence, valid or not, so a line decoded alone reads as it does inside its chunk.
 */
async function readLines(file: string, each: (line: string) => void, signal?: AbortSignal): Promise<void> {
  const handle = await openIfExists(file);
  if (!handle) return;
  let buffer = Buffer.allocUnsafe(1 << 20);
  // Bytes at the start of `buffer` after the last newline read so far (a line not yet ended).
  let carried = 0;
  try {
    for (;;) {
      if (signal?.aborted) throw cancelled();
      if (carried === buffer.length) {
        // A line longer than the buffer: a bigger one.
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger);
        buffer = bigger;
      }
      const { bytesRead } = await handle.read(buffer, carried, buffer.length - carried, null);
      const end = carried + bytesRead;
      if (bytesRead === 0) {
        if (carried > 0) eachLine(decode(buffer.subarray(0, carried)) + '\n', each);
        return;
      }
      const cut = buffer.subarray(0, end).lastIndexOf(10) + 1;
      if (cut > 0) eachLine(decode(buffer.subarray(0, cut)), each);
      // The unended line moves to the start (copyWithin handles the overlap).
      buffer.copyWithin(0, cut, end);
      carried = end - cut;
    }
  } finally {
    await handle.close();
  }
}

function decode(bytes: Buffer): string {
  return bytes.toString('latin1');
}

const NOT_ASCII = /[\u0080-\u00ff]/;

/** Each line of `text` (Latin-1, ending with a newline), decoded, without its `\r\n` or `\n`. */
function eachLine(text: string, each: (line: string) => void): void {
  let from = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
    const line = text.slice(from, nl > from && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl);
    each(NOT_ASCII.test(line) ? Buffer.from(line, 'latin1').toString('utf8') : line);
    from = nl + 1;
  }
}

/** A JSON string that is its text between the quotes (no escapes, no control characters). */
// eslint-disable-next-line no-control-regex -- JSON refuses raw control characters in a string: such a line goes to JSON.parse and is skipped.
const PLAIN_JSON_STRING = /^"[^"\\\u0000-\u001f]*"$/;

/**
 * One checksum list line (`hash \t size \t mtimeMs \t ino \t JSON(path)`, see treeSums.ts) added
 * as parseSumLine and shortHash read it, fields found in place: a line that parseSumLine refuses
 * (not 5 fields, a path that is not JSON) is skipped the same way.
 */
function addSumLine(b: CatalogBuilder, line: string): void {
  const t1 = line.indexOf('\t');
  const t2 = t1 < 0 ? -1 : line.indexOf('\t', t1 + 1);
  const t3 = t2 < 0 ? -1 : line.indexOf('\t', t2 + 1);
  const t4 = t3 < 0 ? -1 : line.indexOf('\t', t3 + 1);
  if (t4 < 0 || line.indexOf('\t', t4 + 1) >= 0) return;
  const field = line.slice(t4 + 1);
  let path: string;
  if (PLAIN_JSON_STRING.test(field)) {
    path = field.slice(1, -1);
  } else {
    try {
      path = JSON.parse(field) as string;
    } catch {
      return;
    }
  }
  const link = line.startsWith('link:');
  b.addWithHashText(path, link ? 'symlink' : 'file', Number(line.slice(t1 + 1, t2)), Number(line.slice(t2 + 1, t3)), Number(line.slice(t3 + 1, t4)), line, link ? 5 : 0, t1);
}

async function fromWalk(host: RingHost, root: string, signal?: AbortSignal): Promise<SlotCatalog> {
  const b = new CatalogBuilder();
  const add = (e: { path: string; kind: string; size: number; mtimeMs: number; ino: number }) => {
    if (e.kind === 'file' || e.kind === 'symlink') b.addEntry(e.path, { kind: e.kind, size: e.size, mtimeMs: e.mtimeMs, ino: e.ino, hash: null });
  };
  if (host instanceof SshHost) {
    // rsync --list-only on the server gives no inodes: identity falls back to size and time there.
    for (const e of await host.walk(root, signal)) add({ ...e, ino: 0 });
  } else {
    for await (const e of walkTree(root, signal)) add(e);
  }
  await yieldWhenDue();
  return b.build();
}
