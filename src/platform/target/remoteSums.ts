import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import { ShadowSlotsError } from '../../core/errors';
import { shQuote } from '../../core/posixQuote';
import type { HashedEntry } from '../../core/slotRecord';
import { BatchedWriter } from '../batchedWriter';
import { formatSumLine, readSums, sumsOrderOf, type SumLine } from '../treeSums';
import { compareRsyncOrder } from '../../core/rsyncOrder';
import { comparePaths } from '../treeWalk';
import type { ScriptPart } from './sshConnection';
import { parseRsyncListing, RSYNC_LIST } from './sshListing';
import type { RemoteWalkEntry, SshHost } from './sshHost';

/**
 * Checksums of a slot on a server, in the same file format and walk order as treeSums writes
 * locally, so a ring made remotely verifies locally and vice versa. The slot is listed by rsync
 * on the server, and a file is hashed only when it is not a hard link of the previous slot's
 * (POSIX cannot print inode numbers in bulk, so "the same inode" is "more than one link, and the
 * previous slot's file of that path had this size"; an inode of 0 is recorded, which a local run
 * reading this list treats as "hash again"). Hashes are computed where sshHash.ts says.
 */

type RemoteEntry = RemoteWalkEntry;

function linkHash(entry: RemoteEntry): string {
  return 'link:' + createHash('sha256').update(entry.target).digest('hex');
}

async function hashesOf(host: SshHost, root: string, entries: RemoteEntry[], signal?: AbortSignal): Promise<Map<string, string>> {
  const files = entries.filter((e) => e.kind === 'file').map((e) => e.path);
  const hashes = await host.hashFiles(root, files, signal);
  for (const e of entries) if (e.kind === 'symlink') hashes.set(e.path, linkHash(e));
  return hashes;
}

/** As treeSums.writeSlotSums, for a slot on `host` (outFile and previousSums are server paths). */
export async function writeRemoteSlotSums(host: SshHost, slotRoot: string, outFile: string, previousSums: string | null, signal?: AbortSignal, onGone?: (path: string) => Promise<void> | undefined): Promise<{ files: number; hashed: number }> {
  const entries = (await host.walk(slotRoot, signal)).filter((e) => e.kind !== 'other');
  const previousLocal = previousSums ? await host.staged(previousSums, 'read') : null;
  const reused = new Map<string, string>();
  try {
    const previous = previousLocal ? readSums(previousLocal) : undefined;
    // A list written here (format 2) is in rsync's order, not the walk's: merged in its own order.
    const compare = previousLocal ? await orderOf(previousLocal) : comparePaths;
    let prev = previous ? (await previous.next()).value as SumLine | undefined : undefined;
    for (const entry of compare === comparePaths ? entries : [...entries].sort((a, b) => compare(a.path, b.path))) {
      while (prev && previous && compare(prev.path, entry.path) < 0) {
        await onGone?.(prev.path);
        prev = (await previous.next()).value as SumLine | undefined;
      }
      if (prev && previous && prev.path === entry.path) {
        if (entry.linked && prev.size === entry.size && !prev.hash.startsWith('link:')) reused.set(entry.path, prev.hash);
        prev = (await previous.next()).value as SumLine | undefined;
      }
    }
    for (; prev && previous; prev = (await previous.next()).value as SumLine | undefined) await onGone?.(prev.path);
  } finally {
    if (previousSums) await host.discardStaged(previousSums);
  }
  const fresh = await hashesOf(host, slotRoot, entries.filter((e) => !reused.has(e.path)), signal);
  const local = await host.staged(outFile, 'write');
  const out = await BatchedWriter.open(local, 'write');
  let closed = false;
  try {
    for (const entry of entries) {
      const hash = reused.get(entry.path) ?? fresh.get(entry.path);
      if (hash === undefined) throw new ShadowSlotsError('process', `${entry.path} in ${slotRoot} on ${host.name} could not be hashed (it vanished or cannot be read).`);
      await out.write(formatSumLine({ hash, size: entry.size, mtimeMs: entry.mtimeMs, ino: 0, path: entry.path }));
    }
    closed = true;
    await out.close({ sync: true });
  } catch (error) {
    if (!closed) await out.close().catch(() => undefined);
    await host.discardStaged(outFile);
    throw error;
  }
  await host.publishStaged(outFile);
  return { files: entries.length, hashed: fresh.size };
}

/** How many names one listing script carries (as sshHash.ts's batches). */
const LIST_BATCH_BYTES = 256 * 1024;

/**
 * Size, mtime, kind and hash of named entries of a slot on `host`, for the entries a merge of
 * rsync's list could not carry over (core/slotRecord.ts): a few commands for all of them, not one
 * round trip each. rsync lists exactly those paths (`--files-from`, NUL-separated, so any name
 * comes back whole; each starts with `./`, as rsync skips a line starting with `#` or `;` there as
 * a comment; `--list-only` with `./` as its destination transfers nothing), the files are
 * hashed where sshHash.ts says. A path missing from the result is gone (it vanished from the
 * source before rsync could copy it); inodes are 0, as writeRemoteSlotSums records them.
 */
export async function hashRemoteEntries(host: SshHost, root: string, wanted: ReadonlyMap<string, 'file' | 'symlink'>, signal?: AbortSignal): Promise<Map<string, HashedEntry>> {
  const names = [...wanted.keys()];
  const listed: RemoteEntry[] = [];
  /** Every path rsync listed, whatever its kind (one of another kind now is not the entry asked for). */
  const seen = new Set<string>();
  if (names.length === 0) return new Map();
  for (let start = 0; start < names.length;) {
    let end = start;
    for (let size = 0; end < names.length && (end === start || size < LIST_BATCH_BYTES); end++) size += names[end]!.length + 4;
    const batch = names.slice(start, end);
    // Exit 23: some paths are not there (vanished): the others are listed all the same.
    const r = await host.connection.exec(`cd -- ${shQuote(root)} || exit 2\nprintf '%s\\000' ${batch.map((name) => shQuote(`./${name}`)).join(' ')} | ${RSYNC_LIST} --files-from=- --from0 -- ./ ./`, signal ? { signal } : {});
    if (r.status !== 0 && r.status !== 23) throw new ShadowSlotsError('process', `Listing new files in ${root} on ${host.name} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    for (const e of parseRsyncListing(r.stdout)) {
      seen.add(e.path);
      // --files-from also lists the folders on the way (implied by its --relative).
      if (e.kind !== 'file' && e.kind !== 'symlink') continue;
      if (wanted.get(e.path) !== e.kind) continue;
      listed.push({ path: e.path, kind: e.kind, size: e.size, mtimeMs: e.mtimeMs, target: e.target ?? '', linked: false });
    }
    start = end;
  }
  await refuseUnlisted(host, root, names.filter((name) => !seen.has(name)), signal);
  const hashes = await hashesOf(host, root, listed, signal);
  const result = new Map<string, HashedEntry>();
  for (const e of listed) {
    const hash = hashes.get(e.path);
    if (hash === undefined) throw new ShadowSlotsError('process', `${e.path} in ${root} on ${host.name} could not be hashed (it cannot be read).`);
    result.set(e.path, { hash, size: e.size, mtimeMs: e.mtimeMs, ino: 0 });
  }
  return result;
}

/**
 * rsync exits 23 for a path that vanished and for one it could not read (permission denied, an I/O
 * error) alike: a path left out of its listing counts as gone only if the server's shell cannot
 * find it either. One that is there is an error, never a deletion in the change log.
 */
async function refuseUnlisted(host: SshHost, root: string, unlisted: string[], signal?: AbortSignal): Promise<void> {
  for (let start = 0; start < unlisted.length; start += 500) {
    const batch = unlisted.slice(start, start + 500).map((name) => shQuote(`./${name}`)).join(' ');
    const r = await host.connection.exec(`cd -- ${shQuote(root)} || exit 2\nfor p in ${batch}; do if [ -e "$p" ] || [ -L "$p" ]; then printf '%s\\000' "$p"; fi; done`, signal ? { signal } : {});
    if (r.status !== 0) throw new ShadowSlotsError('process', `Checking new files in ${root} on ${host.name} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const there = r.stdout.split('\0').filter((p) => p.startsWith('./'));
    if (there.length > 0) {
      throw new ShadowSlotsError('process', `${JSON.stringify(there[0]!.slice(2))} in ${root} on ${host.name} could not be listed (${there.length} such entr${there.length === 1 ? 'y' : 'ies'}): it is there, but rsync on the server could not read it (permissions, or an I/O error).`);
    }
  }
}

/**
 * Makes a checksum list on the server from a patch (slotDraft.ts's playDraft with `sumsAs:
 * 'patch'`: `l LINE`, `c N` copy and `s N` skip lines of the previous list) and the server's own
 * copy of the previous list, which was read into the patch here: only new lines travel. POSIX awk;
 * `ENVIRON` because `-v` would read backslashes in the path as escapes. Exit 3: the previous
 * list ends too early.
 */
const PATCH_AWK = [
  'BEGIN { p = ENVIRON["P"] }',
  '/^c / { n = substr($0, 3) + 0; while (n-- > 0) { if ((getline line < p) <= 0) exit 3; print line }; next }',
  '/^s / { n = substr($0, 3) + 0; while (n-- > 0 && (getline line < p) > 0) ; next }',
  '/^l / { print substr($0, 3); next }',
  '{ exit 5 }',
].join('\n');

/**
 * Whether a file can be a here-document's body ending in `end`: empty or ending in a newline, and
 * no line of it is the end word. Read in chunks; a line split between two is carried over.
 */
export async function hereDocumentBody(file: string, end: string): Promise<boolean> {
  let carry = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8' })) {
    const lines = (carry + (chunk as string)).split('\n');
    carry = lines.pop()!;
    if (lines.includes(end)) return false;
  }
  return carry === '';
}

/** The server's copy of the previous list is not the one the patch was made from (see publishPatchedSums). */
export class PatchRefusedError extends Error {}

/**
 * Writes a new slot's checksum list (from a patch against `previousSums`, a server path) and its
 * change log on the server in one command, each atomically and durably (a temp name that a repair
 * removes, fsync, rename). The list made there must have exactly `bytes` bytes, as the one made
 * here from the same patch; if not, nothing is written and PatchRefusedError is thrown (the
 * caller sends the whole list instead).
 */
export async function publishPatchedSums(host: SshHost, o: { previousSums: string | null; sumsPath: string; patchFile: string; bytes: number; changeLogPath: string; changeLogFile: string }, signal?: AbortSignal): Promise<void> {
  const end = `SHADOW_SLOTS_END_${randomBytes(8).toString('hex')}`;
  // Here-documents: every line is ours (`l `, `c `, `+ "`…, JSON-quoted paths), never the end word.
  for (const file of [o.patchFile, o.changeLogFile]) {
    if (!(await hereDocumentBody(file, end))) throw new PatchRefusedError('The checksum list or change log cannot be sent as a here-document.');
  }
  const tag = () => randomBytes(4).toString('hex');
  // The two files travel as they are, read as they are sent: a first backup's list is tens of MB.
  const script: ScriptPart[] = [
    [
      `f=${shQuote(o.sumsPath)}`,
      `t="$f.tmp-$$-${tag()}"`,
      `l=${shQuote(o.changeLogPath)}`,
      `u="$l.tmp-$$-${tag()}"`,
      `P=${shQuote(o.previousSums ?? '')} awk ${shQuote(PATCH_AWK)} > "$t" <<'${end}' || { rm -f -- "$t"; exit 3; }`,
      '',
    ].join('\n'),
    { file: o.patchFile },
    [
      end,
      `s=$(wc -c < "$t") && [ "$(( $s ))" = ${o.bytes} ] || { rm -f -- "$t"; exit 4; }`,
      `cat > "$u" <<'${end}' || { rm -f -- "$t" "$u"; exit 1; }`,
      '',
    ].join('\n'),
    { file: o.changeLogFile },
    [
      end,
      'sync -- "$t" "$u" 2>/dev/null',
      'mv -f -- "$t" "$f" || { rm -f -- "$t" "$u"; exit 1; }',
      'mv -f -- "$u" "$l" || { rm -f -- "$u"; exit 1; }',
      `sync -- ${shQuote(posix.dirname(o.sumsPath))} ${shQuote(posix.dirname(o.changeLogPath))} 2>/dev/null`,
      'exit 0',
    ].join('\n'),
  ];
  const r = await host.connection.exec(script, signal ? { signal } : {});
  if (r.status === 3 || r.status === 4) throw new PatchRefusedError(`The server's copy of the previous checksum list is not the one merged here (${r.status === 3 ? 'it is shorter' : 'the list made from it has another size'}).`);
  if (r.status !== 0) throw new ShadowSlotsError('process', `Writing ${o.sumsPath} on ${host.name} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
}

/** What verify reports: files hashed and compared, and the paths that differ. */
export interface RemoteVerifyCounts {
  checked: number;
  missing: string[];
  changed: string[];
  extra: string[];
}

/** Re-hashes every file of a slot on `host` (on the server) and compares with its recorded sums. */
export async function verifyRemoteSlot(host: SshHost, root: string, sumsFile: string, signal?: AbortSignal, maxListed = 100): Promise<RemoteVerifyCounts> {
  const entries = (await host.walk(root, signal)).filter((e) => e.kind !== 'other');
  const hashes = await hashesOf(host, root, entries, signal);
  const result: RemoteVerifyCounts = { checked: 0, missing: [], changed: [], extra: [] };
  const push = (list: string[], p: string) => { if (list.length < maxListed) list.push(p); };
  const local = await host.staged(sumsFile, 'read');
  try {
    const recorded = readSums(local);
    const compare = await orderOf(local);
    let want = (await recorded.next()).value as SumLine | undefined;
    for (const actual of compare === comparePaths ? entries : [...entries].sort((a, b) => compare(a.path, b.path))) {
      while (want && compare(want.path, actual.path) < 0) {
        push(result.missing, want.path);
        want = (await recorded.next()).value as SumLine | undefined;
      }
      if (want && want.path === actual.path) {
        result.checked++;
        if (hashes.get(actual.path) !== want.hash) push(result.changed, actual.path);
        want = (await recorded.next()).value as SumLine | undefined;
      } else {
        push(result.extra, actual.path);
      }
    }
    for (; want; want = (await recorded.next()).value as SumLine | undefined) push(result.missing, want.path);
  } finally {
    await host.discardStaged(sumsFile);
  }
  return result;
}

/** How a checksum list is ordered: the walk's (written on a server, or before format 2) or rsync's. */
async function orderOf(list: string): Promise<(a: string, b: string) => number> {
  return (await sumsOrderOf(list)) === 'rsync' ? compareRsyncOrder : comparePaths;
}
