import { invalid } from '../core/errors';
import { labelProblem, MAX_LABEL_LENGTH } from '../core/label';
import type { LabelResult } from '../rpc/protocol';
import { changeRing, type SlotRef } from './ringChange';

export interface LabelOptions extends SlotRef {
  /** The new label; null (or empty) removes it. */
  label: string | null;
}

/** Checks a label from the user: a clear reason for anything that cannot be shown safely everywhere. */
export function validateLabel(label: unknown): string | null {
  if (label === null || label === '') return null;
  if (typeof label !== 'string') throw invalid(`A label must be text, got ${typeof label}.`);
  const problem = labelProblem(label);
  if (problem) throw invalid(`The label ${JSON.stringify(label.length > 120 ? `${label.slice(0, 120)}…` : label)} cannot be used: ${problem}.`, `Use up to ${MAX_LABEL_LENGTH} characters of ordinary text (letters, digits, spaces, punctuation, emoji). Nothing was changed.`);
  return label;
}

/**
 * Labels a complete slot ("before the refactoring"). The label is a field of the slot's manifest,
 * written through the ring's host under the ring's lock, so it follows the slot through every
 * rotation (manifests are named by id, not by number) and is deleted with it.
 */
export async function labelSlot(options: LabelOptions): Promise<LabelResult> {
  const label = validateLabel(options.label);
  return changeRing(options, 'label a slot', async (ring, slot) => {
    const manifest = await ring.writeLabel(slot.entry.id, label);
    return { number: slot.entry.number, id: slot.entry.id, label: manifest.label ?? null };
  });
}
