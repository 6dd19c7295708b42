import { setFlagsFromString } from 'node:v8';

/**
 * Keeps the engine's processes small. A backup streams rsync's output and then walks every file
 * of the new slot: a steady flow of short-lived objects, for which V8 grows its young generation
 * to 32–64 MB and lets the old one run far ahead of what is live (~10 MB). Peak resident size of a
 * 200,000-file backup (VmHWM, 2 runs each): 105–109 MB without these flags, 94–96 MB with the
 * growth factor alone, 71–72 MB with both (BENCHMARKS.md). Both are read when V8 decides to grow a
 * space, so setting them at start-up takes effect, unlike the heap-size flags, which only the
 * command line can set. The engine's work is waiting on rsync and the disk, not JIT-bound.
 *
 * Without inlining, the optimizing compiler's working memory (malloc'd on its background thread,
 * never returned) stays small: peak 62.9–63.4 MB against 64.9–65.9 MB for a 200,000-file backup,
 * and the same CPU time within the noise (1.6–1.8 s user either way, issue 16).
 */
export function keepHeapSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--optimize-for-size');
  setFlagsFromString('--no-turbo-inlining');
}
