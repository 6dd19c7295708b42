/**
 * Seeded randomness so a failing fault schedule can be replayed exactly: the suite prints its
 * seed, and SHADOW_SLOTS_SEED=<seed> reruns the same kills. The generator is the benchmark's
 * (mulberry32), so one implementation serves both.
 */
import { createRng } from '../../../bench/lib/random';

export interface Rng {
  seed: number;
  next(): number;
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

export function seededRng(seed = seedFromEnv()): Rng {
  const rng = createRng(seed);
  return {
    seed,
    next: rng.next,
    int: (min, max) => min + rng.int(max - min + 1),
    pick: (items) => items[rng.int(items.length)]!,
  };
}

function seedFromEnv(): number {
  const text = process.env['SHADOW_SLOTS_SEED'];
  if (text !== undefined && /^\d+$/.test(text)) return Number(text);
  return Math.floor(Math.random() * 2 ** 31);
}
