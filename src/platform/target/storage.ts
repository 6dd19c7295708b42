import type { RingEntry, RotationStep, StepStatus } from '../../core/ring';
import type { SlotSpace, TargetCapabilities } from '../../core/target';
import type { RingHost } from './host';
import type { RingPaths } from '../../core/layout';

/** What a run needs to start copying: where rsync writes, and the kind's own rsync arguments. */
export interface IncomingPlan {
  /** The in-progress slot on the ring's host (`.shadow-slots/incoming/<id>`). */
  path: string;
  /** e.g. `--link-dest=<slot 0>`, or `--inplace --no-whole-file`; placed before the filters. */
  rsyncArgs: string[];
  /** The complete slot the new one is built on (linked against, or snapshotted from). */
  baseId: string | null;
  notes: string[];
}

/** The newest complete slot, which a new run builds on. */
export interface BaseSlot {
  entry: RingEntry;
  path: string;
}

/**
 * How one kind of target stores slots. The generic ring (RingStore: journal, ring.json,
 * manifests, repair) asks the kind for the parts that differ: making the in-progress slot,
 * carrying out one rotation step, deleting dropped slots, measuring space. Every step must be
 * idempotent to replay from the journal after a crash at any instant.
 */
export interface SlotStorage {
  readonly capabilities: TargetCapabilities;
  /** Creates the in-progress slot for run `id`; `base` is the newest complete slot, if any. */
  createIncoming(id: string, base: BaseSlot | null): Promise<IncomingPlan>;
  /** Lets rsync continue an interrupted run's in-progress slot under a new id. */
  resumeIncoming(oldId: string, newId: string, base: BaseSlot | null): Promise<IncomingPlan>;
  /** Moves an abandoned in-progress slot to the trash (deleted with the dropped slots). */
  discardIncoming(id: string): Promise<void>;
  /** Whether a rotation step still has to run. */
  stepStatus(step: RotationStep): Promise<StepStatus>;
  applyStep(step: RotationStep): Promise<void>;
  /** Runs after every (re)played rotation: e.g. makes the new slot 0 read-only. Idempotent. */
  settleNewest(): Promise<void>;
  /** Deletes everything in the trash, each entry on its own. */
  purgeTrash(): Promise<{ removed: string[]; failed: string[] }>;
  /** Space per slot, as exact as this kind can measure it; never a guess shown as a fact. */
  space(entries: RingEntry[], cache: SpaceCache): Promise<SlotSpace[]>;
}

/** Where space figures are remembered between calls (they depend only on a slot and its neighbours). */
export interface SpaceCache {
  get(key: string): Promise<SlotSpace | null>;
  put(key: string, value: SlotSpace): Promise<void>;
}

/** What every kind is built from: the host, the ring's paths on it, and where slot N lives. */
export interface StorageContext {
  host: RingHost;
  paths: RingPaths;
  slotPath(number: number): string;
  incomingPath(id: string): string;
  trashPath(id: string): string;
}
