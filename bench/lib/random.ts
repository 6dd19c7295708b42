/**
 * A small seeded PRNG (mulberry32): the benchmark's trees and mutations must be identical on every
 * run and every machine, so that two BENCHMARKS.md tables describe the same workload.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    normal: () => {
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
  };
}

/** Derives an independent seed for a sub-stream (e.g. round 7's mutation) from the base seed. */
export function subSeed(seed: number, ...parts: number[]): number {
  let h = seed >>> 0;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x9e3779b1) >>> 0;
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Fills a buffer with seeded bytes, 4 at a time (fast enough for tens of MB). */
export function fillRandom(buf: Buffer, seed: number): Buffer {
  const rng = createRng(seed);
  let i = 0;
  for (; i + 4 <= buf.length; i += 4) buf.writeUInt32LE((rng.next() * 4294967296) >>> 0, i);
  for (; i < buf.length; i++) buf[i] = rng.int(256);
  return buf;
}
