import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ShadowSlotsError } from '../core/errors';
import type { Profile } from '../core/profile';
import { compareChanges, SendChangeTracker, type SendChange } from '../core/sendStream';
import { BatchedWriter } from '../platform/batchedWriter';
import { faultPoint } from '../platform/faults';
import type { RingStore } from '../platform/ringStore';
import { localHost } from '../platform/target/localHost';
import { LineSplitter } from '../core/rsyncOutput';
import { run, runPipe } from '../platform/runner';
import { COPY_MARKER_VARIABLE } from '../platform/orphans';
import { subvolumeRoot } from '../platform/snapshot/btrfs';
import {
  btrfsSendArgv, deleteSubvolume, parseSendState, RECEIVING_PREFIX, sendContainer, subvolumeInfo, type SendState,
} from '../platform/target/btrfsSend';

/** How this run copies: btrfs send/receive, or rsync and why (said to the user when it matters). */
export type SendDecision = { use: true; subvolume: string; container: string; parent: { path: string; uuid: string } | null } | { use: false; note: string | null };

function statePath(ring: RingStore): string { return ring.host.join(ring.paths.meta, 'send.json'); }

async function readState(ring: RingStore): Promise<SendState | null> {
  const text = await ring.host.readText(statePath(ring));
  return text === null ? null : parseSendState(text);
}

async function writeState(ring: RingStore, state: SendState): Promise<void> {
  await ring.host.writeTextAtomic(statePath(ring), JSON.stringify(state, null, 2) + '\n');
}

/**
 * Whether this run can send instead of walking the tree: the source is snapshotted with btrfs and
 * is a whole subvolume, the ring is a local btrfs copy-on-write ring, nothing asks for filtering
 * (send copies the subvolume as it is), and the newest slot is the received copy of the parent
 * snapshot kept on the source side (otherwise the chain is broken and rsync takes over).
 */
export async function decideSend(ring: RingStore, profile: Profile, snapshotMethod: string, sourceReal: string, newestSlot: string | null): Promise<SendDecision> {
  if (snapshotMethod !== 'btrfs' || ring.storage.capabilities.kind !== 'btrfs' || ring.host.name !== null) return { use: false, note: null };
  if (profile.excludes.length > 0 || profile.filterFile !== undefined || profile.rsyncArgs.length > 0) {
    return { use: false, note: 'Both source and target are btrfs, but btrfs send cannot apply excludes, filter rules or extra rsync options: copying with rsync.' };
  }
  const subvolume = await subvolumeRoot(sourceReal);
  if (subvolume !== sourceReal) return { use: false, note: `btrfs send copies whole subvolumes; the source is a folder inside ${subvolume}: copying with rsync.` };
  const state = await readState(ring);
  const container = sendContainer(subvolume);
  if (newestSlot === null) return { use: true, subvolume, container, parent: null };
  const parent = state?.source === subvolume ? state.parent : null;
  const slot = await subvolumeInfo(newestSlot);
  if (parent && slot?.receivedUuid === parent.uuid && (await subvolumeInfo(parent.path))?.uuid === parent.uuid) {
    return { use: true, subvolume, container, parent };
  }
  if (state?.parent) {
    // A parent nothing was received from any more only holds space on the source.
    await deleteSubvolume(state.parent.path).catch(() => undefined);
    state.parent = null;
    await writeState(ring, state);
  }
  return { use: false, note: 'The newest slot was not received from a snapshot this ring still keeps on the source side, so btrfs send has no common parent: copying with rsync (send/receive starts again with a new ring).' };
}

/**
 * Settles what an interrupted run left (under the ring's lock, after the rotation was repaired):
 * a pending source snapshot becomes the parent if slot 0 is its received copy, and is deleted
 * otherwise; received subvolumes that never became a slot are deleted (btrbk does not trust
 * `btrfs receive`'s exit code either: a garbled one must not linger).
 */
export async function settleSendState(ring: RingStore): Promise<string[]> {
  const notes: string[] = [];
  const state = await readState(ring);
  if (state?.pending) {
    const pending = state.pending;
    const slot0 = await subvolumeInfo(ring.slotPath(0));
    const info = await subvolumeInfo(pending.path);
    if (info && pending.uuid !== null && slot0?.receivedUuid === pending.uuid) {
      if (state.parent && state.parent.path !== pending.path) await deleteSubvolume(state.parent.path);
      state.parent = { path: pending.path, uuid: pending.uuid };
    } else if (info) {
      await deleteSubvolume(pending.path);
      notes.push('Deleted a source snapshot an interrupted btrfs send left behind.');
    }
    state.pending = null;
    await writeState(ring, state);
  }
  if (state) {
    // The container is ours: anything in it but the parent is a snapshot a killed run could not
    // delete any more (e.g. the old parent, between recording the new one and deleting it).
    const container = sendContainer(state.source);
    for (const entry of await localHost.list(container)) {
      const path = join(container, entry.name);
      if (entry.kind === 'folder' && path !== state.parent?.path) {
        await deleteSubvolume(path);
        notes.push(`Deleted ${entry.name}, a source snapshot no send needs any more.`);
      }
    }
  }
  for (const entry of await ring.host.list(ring.target)) {
    if (!entry.name.startsWith(RECEIVING_PREFIX) || entry.kind !== 'folder') continue;
    await deleteSubvolume(ring.host.join(ring.target, entry.name));
    notes.push(`Deleted ${entry.name}, a received copy an interrupted run did not finish.`);
  }
  return notes;
}

export interface SendResult {
  /** The snapshot that was sent (kept as the next parent once the slot is in the ring). */
  snapshot: { path: string; uuid: string };
  /** Where the received subvolume is until the rotation renames it to `0`. */
  received: string;
  changes: SendChange[];
  /** Paths whose times alone the stream set (SendChangeTracker.retimed): finalize stats them again. */
  retimed: string[];
  /** Bytes of the send stream (data and metadata of what changed). */
  bytes: number;
  command: string[];
}

/**
 * The run's read-only source snapshot, beside the source subvolume; recorded in `send.json` as
 * pending before it exists, so a crash at any instant leaves nothing nobody cleans up.
 */
export async function snapshotForSend(ring: RingStore, decision: Extract<SendDecision, { use: true }>, id: string, signal?: AbortSignal): Promise<{ path: string; uuid: string }> {
  const path = join(decision.container, `${RECEIVING_PREFIX}${id}`);
  const state: SendState = (await readState(ring)) ?? { format: 1, source: decision.subvolume, parent: null, pending: null };
  if (state.source !== decision.subvolume) { state.source = decision.subvolume; state.parent = null; }
  state.pending = { path, uuid: null };
  await writeState(ring, state);
  faultPoint('send:journaled');
  await mkdir(decision.container, { recursive: true });
  await run('btrfs', btrfsSendArgv.snapshot(decision.subvolume, path), { errorCode: 'snapshot', ...(signal ? { signal } : {}) });
  const uuid = (await subvolumeInfo(path))?.uuid;
  if (!uuid) throw new ShadowSlotsError('snapshot', `btrfs made no readable snapshot at ${path}.`);
  state.pending = { path, uuid };
  await writeState(ring, state);
  return { path, uuid };
}

/** Sends the snapshot into the target and checks what arrived; the change log comes from a metadata-only pass. */
export async function sendIntoRing(ring: RingStore, decision: Extract<SendDecision, { use: true }>, snapshot: { path: string; uuid: string }, changeLog: string, signal: AbortSignal | undefined, marker: string, onSpawn?: (pid: number) => Promise<void>): Promise<SendResult> {
  const snapshotPath = snapshot.path;
  const uuid = snapshot.uuid;
  const name = snapshotPath.slice(snapshotPath.lastIndexOf('/') + 1);
  const parentPath = decision.parent?.path ?? null;
  const send = { command: 'btrfs', argv: btrfsSendArgv.send(snapshotPath, parentPath) };
  const receive = { command: 'btrfs', argv: btrfsSendArgv.receive(ring.target) };
  let bytes = 0;
  try {
    bytes = (await runPipe(send, receive, { errorCode: 'rsync', env: { [COPY_MARKER_VARIABLE]: marker }, ...(signal ? { signal } : {}), ...(onSpawn ? { onSpawn } : {}) })).bytes;
  } catch (error) {
    if ((error as ShadowSlotsError).code === 'cancelled') throw new ShadowSlotsError('cancelled', 'The backup was cancelled; the ring is unchanged.');
    if (/No space left|ENOSPC/i.test(String((error as Error).message))) {
      throw new ShadowSlotsError('target-full', `The target is full: btrfs receive stopped (${(error as Error).message}).`, { hint: 'Previous slots are intact. Free space on the target or keep fewer slots; the next run sends again.' });
    }
    throw new ShadowSlotsError('rsync', `btrfs send/receive failed: ${(error as Error).message}; the ring is unchanged.`, { hint: 'The next run tries again (and falls back to rsync when the parent snapshot is gone).', cause: error });
  }
  const received = ring.host.join(ring.target, name);
  const info = await subvolumeInfo(received);
  if (!info || !info.readOnly || info.receivedUuid !== uuid || (parentPath !== null && info.parentUuid === null)) {
    // Older btrfs-progs returned 0 after a failed stream: trust only what the subvolume says.
    await deleteSubvolume(received).catch(() => undefined);
    throw new ShadowSlotsError('rsync', `btrfs receive reported success but ${received} is not a complete received copy (${info ? `read-only ${info.readOnly}, received UUID ${info.receivedUuid ?? 'none'}` : 'missing'}); it was deleted and the ring is unchanged.`);
  }
  const { changes, retimed } = await streamChanges(snapshotPath, parentPath, changeLog, signal);
  return { snapshot, received, changes, retimed, bytes, command: ['btrfs', ...send.argv, '|', 'btrfs', ...receive.argv] };
}

/** The change log of a received slot: `btrfs receive --dump` of a metadata-only send of the same pair. */
async function streamChanges(snapshot: string, parent: string | null, changeLog: string, signal?: AbortSignal): Promise<{ changes: SendChange[]; retimed: string[] }> {
  const tracker = new SendChangeTracker();
  const splitter = new LineSplitter();
  // The dump is small (metadata of what changed); its lines are fed as they arrive.
  await runPipe({ command: 'btrfs', argv: btrfsSendArgv.send(snapshot, parent, true) }, { command: 'btrfs', argv: btrfsSendArgv.dump() }, {
    errorCode: 'rsync',
    onStdout: (chunk) => splitter.push(chunk, (line) => tracker.feed(line)),
    ...(signal ? { signal } : {}),
  });
  splitter.end((line) => tracker.feed(line));
  const changes = await settleFolders(tracker.changes(), snapshot, parent);
  const log = await BatchedWriter.open(changeLog, 'write');
  try {
    for (const c of changes) log.append(`${c.change === 'created' ? '+' : c.change === 'changed' ? '~' : '-'} ${JSON.stringify(c.path)}\n`);
  } finally {
    await log.close();
  }
  return { changes, retimed: tracker.retimed() };
}

/**
 * A folder moved with nothing inside it touched is a bare "rename" in the stream, like a file:
 * the snapshots on either side tell which it was, so the log names it with its `/` and it is not
 * counted as a file. Every created or deleted entry not already known as a folder is lstat'ed
 * (the tracker does not keep which of them came from a rename): one lstat per change, against the
 * hash finalize computes for each created file anyway, never a walk of the tree.
 */
async function settleFolders(changes: SendChange[], snapshot: string, parent: string | null): Promise<SendChange[]> {
  const settled: SendChange[] = [];
  for (const c of changes) {
    const side = c.change === 'created' ? snapshot : c.change === 'deleted' ? parent : null;
    const isFolder = !c.folder && side !== null && (await lstat(join(side, c.path)).catch(() => null))?.isDirectory() === true;
    settled.push(isFolder ? { ...c, path: `${c.path}/`, folder: true } : c);
  }
  return settled.sort(compareChanges);
}

/**
 * After slot 0 is the received copy: the sent snapshot becomes the parent of the next run and
 * the previous parent is deleted. A crash before this is settled by `settleSendState`.
 */
export async function keepAsParent(ring: RingStore, sent: { path: string; uuid: string }): Promise<void> {
  const state = await readState(ring);
  if (!state) return;
  const old = state.parent;
  state.parent = sent;
  state.pending = null;
  await writeState(ring, state);
  faultPoint('send:parent-kept');
  if (old && old.path !== sent.path) await deleteSubvolume(old.path);
}
