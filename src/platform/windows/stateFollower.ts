import { readFile, watch } from 'node:fs/promises';
import * as path from 'node:path';
import { isTerminal, parseHelperState, toProgressEvent, type HelperState } from '../../core/windows/helperState';
import type { ProgressEvent } from '../../core/progress';

export interface FollowOptions {
  /** Only states of a run that started at or after this instant count (the previous run's file may still be there). */
  notBefore: Date;
  onProgress?: (event: ProgressEvent, state: HelperState) => void;
  signal?: AbortSignal;
  /** Poll interval; a directory watch wakes the follower earlier where it works. Default 500 ms. */
  intervalMs?: number;
  /** Give up when no state of this run appeared within this time (the task did not start). Default 60 s. */
  startTimeoutMs?: number;
}

export class HelperDidNotStart extends Error {
  constructor(file: string, ms: number) {
    super(`The elevated helper wrote no progress to ${file} within ${Math.round(ms / 1000)} s.`);
    this.name = 'HelperDidNotStart';
  }
}

/**
 * Follows the helper's progress.json until its run ends, emitting the engine's ProgressEvent for
 * every change. The file is replaced atomically, but a read can still meet a missing file (between
 * runs) or, on a share, a torn one: both are skipped and read again on the next tick.
 */
export async function followHelperState(file: string, options: FollowOptions): Promise<HelperState> {
  const interval = options.intervalMs ?? 500;
  const startTimeout = options.startTimeoutMs ?? 60_000;
  const started = Date.now();
  const notBefore = options.notBefore.getTime() - 2000; // the helper's clock is the same machine's; allow rounding
  let lastKey = '';
  let seen = false;
  const watcher = new AbortController();
  const abort = () => watcher.abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  let wake: (() => void) | undefined;
  void (async () => {
    try {
      for await (const _ of watch(path.dirname(file), { signal: watcher.signal })) wake?.();
    } catch {
      // No watch support (network share) or aborted: polling alone is enough.
    }
  })();
  try {
    for (;;) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      const state = await readState(file);
      if (state && Date.parse(state.startedAt) >= notBefore) {
        seen = true;
        const key = `${state.runId}|${state.updatedAt}|${state.status}|${state.phase}|${state.bytes}|${state.files}`;
        if (key !== lastKey) {
          lastKey = key;
          options.onProgress?.(toProgressEvent(state), state);
        }
        if (isTerminal(state)) return state;
      }
      if (!seen && Date.now() - started > startTimeout) throw new HelperDidNotStart(file, startTimeout);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, interval);
        function done() { clearTimeout(timer); wake = undefined; resolve(); }
        wake = done;
      });
    }
  } finally {
    options.signal?.removeEventListener('abort', abort);
    watcher.abort();
  }
}

async function readState(file: string): Promise<HelperState | undefined> {
  try {
    return parseHelperState(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}
