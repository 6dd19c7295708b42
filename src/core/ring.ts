import { RING_FORMAT, SLOT_FOLDER_PATTERN, SLOT_ID_PATTERN } from './layout';

/** Which slot id sits in which numbered folder. Persisted as `.shadow-slots/ring.json`. */
export interface RingState {
  format: number;
  /** Entries ordered by slot number; numbers are contiguous from 0 after any completed rotation. */
  entries: RingEntry[];
}

export interface RingEntry {
  number: number;
  id: string;
}

/** One rename of a rotation. Every step is idempotent to replay (see `stepStatus`). */
export type RotationStep =
  | { kind: 'drop'; from: number; id: string }         // `<from>` → `.shadow-slots/trash/<id>`
  | { kind: 'move'; from: number; to: number; id: string } // `<from>` → `<to>`
  | { kind: 'promote'; id: string };                   // `.shadow-slots/incoming/<id>` → `0`

export interface RotationPlan {
  steps: RotationStep[];
  final: RingState;
  dropped: string[];
}

export function emptyRing(): RingState {
  return { format: RING_FORMAT, entries: [] };
}

/**
 * Plans putting a new complete slot at 0 and shifting the others up, dropping those beyond the
 * capacity. Gaps left by an adopted or damaged ring are closed. The order of steps guarantees
 * that no rename ever targets an occupied folder, so replaying the plan after a crash is safe.
 */
export function planRotation(ring: RingState, capacity: number, newId: string): RotationPlan {
  if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`invalid capacity ${capacity}`);
  const sorted = [...ring.entries].sort((a, b) => a.number - b.number);
  const keep = sorted.slice(0, capacity - 1);
  const drop = sorted.slice(capacity - 1);
  const steps: RotationStep[] = [];
  for (const e of [...drop].reverse()) steps.push({ kind: 'drop', from: e.number, id: e.id });

  // keep[i] goes to i + 1. keep[i].number >= i, so a slot moves up by one only when no gap lies
  // below it (a prefix); slots above a gap move down or stay. Down-moves ascending first, then
  // up-moves descending, never collide.
  const firstGap = keep.findIndex((e, i) => e.number !== i);
  const prefixEnd = firstGap === -1 ? keep.length : firstGap;
  for (let i = prefixEnd; i < keep.length; i++) {
    const e = keep[i]!;
    if (e.number !== i + 1) steps.push({ kind: 'move', from: e.number, to: i + 1, id: e.id });
  }
  for (let i = prefixEnd - 1; i >= 0; i--) {
    const e = keep[i]!;
    steps.push({ kind: 'move', from: e.number, to: i + 1, id: e.id });
  }
  steps.push({ kind: 'promote', id: newId });
  const final: RingState = {
    format: RING_FORMAT,
    entries: [{ number: 0, id: newId }, ...keep.map((e, i) => ({ number: i + 1, id: e.id }))],
  };
  return { steps, final, dropped: drop.map((e) => e.id) };
}

/** What deleting one slot does to the ring: the same step kinds as a rotation, without a promote. */
export interface RemovalPlan {
  /** A `drop` of the slot, then `move`s that close the gap (and any other gap). */
  steps: RotationStep[];
  final: RingState;
  removed: RingEntry;
}

/**
 * Plans deleting the slot numbered `number`: it is dropped to the trash first (a rename, so the
 * slow delete of its tree happens after the ring is consistent again), then every slot above it
 * moves down by one. Moves run in ascending order, so each one targets the folder the step before
 * it emptied and no rename ever hits an occupied folder; replaying the plan after a crash is as
 * safe as replaying a rotation. Gaps an adopted or damaged ring had are closed on the way.
 */
export function planRemoval(ring: RingState, number: number): RemovalPlan {
  const sorted = [...ring.entries].sort((a, b) => a.number - b.number);
  const removed = sorted.find((e) => e.number === number);
  if (!removed) throw new Error(`no slot ${number} in the ring`);
  const keep = sorted.filter((e) => e !== removed);
  const steps: RotationStep[] = [{ kind: 'drop', from: removed.number, id: removed.id }];
  // keep[i].number >= i (distinct, sorted, non-negative): every move goes down or nowhere.
  for (const [i, e] of keep.entries()) if (e.number !== i) steps.push({ kind: 'move', from: e.number, to: i, id: e.id });
  return { steps, final: { format: RING_FORMAT, entries: keep.map((e, i) => ({ number: i, id: e.id })) }, removed };
}

export type StepStatus = 'pending' | 'done' | 'missing';

/** Whether a step still has to run, judged only by which of its two paths exist. */
export function stepStatus(sourceExists: boolean, destinationExists: boolean): StepStatus {
  if (destinationExists) return 'done';
  if (sourceExists) return 'pending';
  return 'missing';
}

/** Parses ring.json, rejecting anything that is not exactly the documented shape. */
export function parseRingState(text: string): RingState {
  const raw: unknown = JSON.parse(text);
  if (!isObject(raw) || raw['format'] !== RING_FORMAT || !Array.isArray(raw['entries'])) {
    throw new Error('ring.json has an unknown format');
  }
  const seenNumbers = new Set<number>();
  const seenIds = new Set<string>();
  const entries = raw['entries'].map((e: unknown) => {
    if (!isObject(e) || typeof e['number'] !== 'number' || !Number.isInteger(e['number']) || e['number'] < 0
      || typeof e['id'] !== 'string' || !SLOT_ID_PATTERN.test(e['id'])) {
      throw new Error('ring.json has an invalid entry');
    }
    if (seenNumbers.has(e['number']) || seenIds.has(e['id'])) throw new Error('ring.json lists a slot twice');
    seenNumbers.add(e['number']); seenIds.add(e['id']);
    return { number: e['number'], id: e['id'] };
  });
  return { format: RING_FORMAT, entries: entries.sort((a, b) => a.number - b.number) };
}

export function serializeRingState(ring: RingState): string {
  return JSON.stringify({ format: ring.format, entries: ring.entries }, null, 2) + '\n';
}

/** Numbered slot folders found in a target, in slot order (used to adopt seed rings). */
export function slotNumbersFromNames(names: string[]): number[] {
  return names.filter((n) => SLOT_FOLDER_PATTERN.test(n)).map(Number).sort((a, b) => a - b);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
