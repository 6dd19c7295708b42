/**
 * A small seeded PRNG (mulberry32) so a failing fault schedule can be replayed exactly:
 * the suite prints its seed, and SHADOW_SLOTS_SEED=<seed> reruns the same kills.
 */
export interface Rng {
  seed: number;
  next(): number;
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

export function seededRng(seed = seedFromEnv()): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
  };
}

function seedFromEnv(): number {
  const text = process.env['SHADOW_SLOTS_SEED'];
  if (text !== undefined && /^\d+$/.test(text)) return Number(text);
  return Math.floor(Math.random() * 2 ** 31);
}
