import { createHash } from 'node:crypto';
import { ShadowSlotsError } from '../../core/errors';
import { shQuote } from '../../core/posixQuote';
import type { SshConnection } from './sshConnection';
import { parseSha256Lines } from './sshListing';

/**
 * SHA-256 of files of a server, two ways (measured in docs/targets.md):
 * - on the server, by its `sha256sum` (GNU coreutils, busybox, FreeBSD 13+): file contents never
 *   cross the network; many files per command;
 * - here, when the server has none: each file is streamed over the connection (a channel of the
 *   same master, `cat`) into Node's hash. No temporary copy, constant memory, any file size.
 * Both give the same hashes; a file that cannot be read is left out of the result.
 */

/** How many names one script carries (a few hundred kilobytes at most). */
const BATCH_BYTES = 256 * 1024;

export async function hashOnServer(conn: SshConnection, root: string, paths: readonly string[], signal?: AbortSignal): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  for (let start = 0; start < paths.length;) {
    let end = start;
    for (let size = 0; end < paths.length && (end === start || size < BATCH_BYTES); end++) size += paths[end]!.length + 3;
    const batch = paths.slice(start, end);
    // Relative names after `cd`: what sha256sum prints is exactly what parseSha256Lines expects.
    const r = await conn.exec(`cd -- ${shQuote(root)} || exit 2\nsha256sum -- ${batch.map(shQuote).join(' ')}`, signal ? { signal } : {});
    if (r.status !== 0 && r.status !== 1) throw new ShadowSlotsError('process', `Hashing files in ${root} on ${conn.label} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    for (const [name, hash] of parseSha256Lines(r.stdout, batch)) hashes.set(name, hash);
    start = end;
  }
  return hashes;
}

/** Streams at once (a server's default MaxSessions is 10; the master holds one). */
const STREAMS = 4;

export async function hashHere(conn: SshConnection, root: string, paths: readonly string[], signal?: AbortSignal): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++]!;
      const hash = createHash('sha256');
      // Exit 3: not a regular file any more (a symlink swapped in is not followed).
      const r = await conn.streamThrough(`cd -- ${shQuote(root)} || exit 2\np=${shQuote(path)}\n{ [ -f "$p" ] && [ ! -L "$p" ]; } || exit 3\nexec cat -- "$p"`, (chunk) => hash.update(chunk), signal);
      if (r.status === 0) hashes.set(path, hash.digest('hex'));
      if (signal?.aborted) throw new ShadowSlotsError('cancelled', `Hashing files in ${root} was cancelled.`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(STREAMS, paths.length) }, worker));
  return hashes;
}
