import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { listRing as engineListRing } from '../../../src/engine/list';
import { describeTree, diffTrees, type TreeModel } from './tree';

export interface ListedSlot {
  number: number | null;
  id: string;
  state: string;
  path: string;
  manifest: { state: string; checksums: string | null; warnings: string[] } | null;
}

export interface Listing {
  target: string;
  slots: ListedSlot[];
  busy: boolean;
  notes: string[];
}

/**
 * What the user sees: the engine's own listing (the function behind `list --json` and the Slots
 * view), called in-process because a CLI start costs most of a second on this machine.
 */
export async function listRing(target: string): Promise<Listing> {
  return JSON.parse(JSON.stringify(await engineListRing(target))) as Listing;
}

export function completeIds(listing: Listing): string[] {
  return listing.slots.filter((s) => s.state === 'complete').sort((a, b) => a.number! - b.number!).map((s) => s.id);
}

export async function numberedFolders(target: string): Promise<number[]> {
  const names = await readdir(target).catch(() => [] as string[]);
  return names.filter((n) => /^(0|[1-9]\d*)$/.test(n)).map(Number).sort((a, b) => a - b);
}

/**
 * The ring contract, checked from outside: complete slots are numbered 0..n-1 without a gap, the
 * folders on disk are exactly those, every complete slot has a `complete` manifest and matches,
 * byte for byte, the model of the source state it was made from; nothing unfinished is numbered.
 * Returns the problems found (empty = all invariants hold).
 */
export async function ringProblems(target: string, listing: Listing, models: Map<string, TreeModel>, expectedOrder?: string[]): Promise<string[]> {
  const problems: string[] = [];
  const complete = listing.slots.filter((s) => s.state === 'complete');
  const numbers = complete.map((s) => s.number).sort((a, b) => (a ?? -1) - (b ?? -1));
  if (numbers.some((n, i) => n !== i)) problems.push(`slot numbers have a gap or duplicate: ${numbers.join(',')}`);
  const onDisk = await numberedFolders(target);
  if (onDisk.join(',') !== numbers.join(',')) problems.push(`numbered folders on disk (${onDisk.join(',')}) differ from the listed complete slots (${numbers.join(',')})`);
  for (const s of listing.slots) {
    if (s.state === 'complete') {
      if (s.number === null) problems.push(`${s.id} is complete without a number`);
      if (s.manifest?.state !== 'complete') problems.push(`slot ${s.number} (${s.id}) is listed complete but its manifest says ${s.manifest?.state ?? 'nothing'}`);
      const model = models.get(s.id);
      if (!model) { problems.push(`slot ${s.number} has an id no completed copy produced: ${s.id}`); continue; }
      const diff = diffTrees(model, await describeTree(join(target, String(s.number))));
      if (diff.length > 0) problems.push(`slot ${s.number} (${s.id}) differs from its source state: ${diff.join('; ')}`);
    } else if (s.number !== null) {
      problems.push(`unfinished ${s.id} (${s.state}) carries slot number ${s.number}`);
    }
  }
  if (expectedOrder) {
    const got = complete.sort((a, b) => a.number! - b.number!).map((s) => s.id);
    if (got.join(' ') !== expectedOrder.join(' ')) problems.push(`ring is [${got.join(', ')}], expected [${expectedOrder.join(', ')}]`);
  }
  return problems;
}
