import { basename, dirname, join } from 'node:path';
import { ShadowSlotsError } from '../../core/errors';
import { run } from '../runner';

/**
 * btrfs → btrfs without a tree walk (the approach of btrbk): the source is snapshotted read-only,
 * the snapshot is sent incrementally against the previous one (`btrfs send -p`) and received into
 * the target, where it becomes slot 0. The previous source snapshot is kept between runs as the
 * parent ("the latest common snapshot"), recorded in the ring's `send.json`.
 */

/** Source-side snapshots live beside the source subvolume (inside it they would appear, empty, in every slot). */
export const SEND_CONTAINER = '.shadow-slots-send';
/** The received subvolume's name in the target folder until it is renamed to `0` (a read-only subvolume cannot change folders). */
export const RECEIVING_PREFIX = '.shadow-slots-incoming-';

export const btrfsSendArgv = {
  snapshot: (subvolume: string, destination: string) => ['subvolume', 'snapshot', '-r', '--', subvolume, destination],
  send: (snapshot: string, parent: string | null, metadataOnly = false) => ['send', ...(metadataOnly ? ['--no-data'] : []), ...(parent ? ['-p', parent] : []), '--', snapshot],
  receive: (folder: string) => ['receive', '--', folder],
  dump: () => ['receive', '--dump'],
  show: (path: string) => ['subvolume', 'show', '--', path],
  remove: (path: string) => ['subvolume', 'delete', '--', path],
};

export interface SubvolumeInfo {
  uuid: string | null;
  parentUuid: string | null;
  receivedUuid: string | null;
  readOnly: boolean;
}

/** Parses `btrfs subvolume show PATH` (btrfs-progs 5.x/6.x layout; "-" means none). */
export function parseSubvolumeShow(text: string): SubvolumeInfo {
  const field = (name: string) => {
    const m = new RegExp(`^\\s*${name}:\\s*(\\S+)\\s*$`, 'm').exec(text);
    return m && m[1] !== '-' ? m[1]! : null;
  };
  return { uuid: field('UUID'), parentUuid: field('Parent UUID'), receivedUuid: field('Received UUID'), readOnly: /^\s*Flags:\s*.*\breadonly\b/m.test(text) };
}

/** The ring's record of the source-side parent snapshot (`.shadow-slots/send.json`). */
export interface SendState {
  format: 1;
  /** The source subvolume the chain belongs to. */
  source: string;
  /** The snapshot slot 0 was received from: the next run sends against it. */
  parent: { path: string; uuid: string } | null;
  /** Written before a new snapshot is made; settled by the next run whatever happened. */
  pending: { path: string; uuid: string | null } | null;
}

export function parseSendState(text: string): SendState | null {
  try {
    const raw = JSON.parse(text) as Partial<SendState>;
    if (raw.format !== 1 || typeof raw.source !== 'string') return null;
    const snap = (v: unknown) => (typeof v === 'object' && v !== null && typeof (v as { path?: unknown }).path === 'string' ? v : null);
    return { format: 1, source: raw.source, parent: snap(raw.parent) as SendState['parent'], pending: snap(raw.pending) as SendState['pending'] };
  } catch {
    return null;
  }
}

export async function subvolumeInfo(path: string, btrfs = 'btrfs'): Promise<SubvolumeInfo | null> {
  try {
    return parseSubvolumeShow((await run(btrfs, btrfsSendArgv.show(path))).stdout);
  } catch {
    return null;
  }
}

/** Where the source-side snapshots of `subvolume` are kept: beside it, one folder per source. */
export function sendContainer(subvolume: string): string {
  return join(dirname(subvolume), SEND_CONTAINER, basename(subvolume));
}

export async function deleteSubvolume(path: string, btrfs = 'btrfs'): Promise<void> {
  try {
    await run(btrfs, btrfsSendArgv.remove(path), { errorCode: 'snapshot' });
  } catch (error) {
    if ((await subvolumeInfo(path, btrfs)) === null) return; // already gone
    throw new ShadowSlotsError('snapshot', `Could not delete the btrfs subvolume ${path}: ${(error as Error).message}`, { cause: error });
  }
}
