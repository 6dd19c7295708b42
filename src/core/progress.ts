import { formatBytes, formatEta, formatRate, plural } from './format';

/** Phases of a backup, in order; reported with every progress event. */
export const PHASES = ['preflight', 'lock', 'repair', 'snapshot', 'copy', 'rotate', 'manifest', 'release', 'finalize', 'done'] as const;
export type Phase = (typeof PHASES)[number];

export interface ProgressEvent {
  phase: Phase;
  message: string;
  /** 0–100 while copying, as rsync estimates it; null where unknown. */
  percent: number | null;
  bytes: number;
  files: number;
  /** Bytes per second as rsync reports it. */
  rate: number | null;
  etaSeconds: number | null;
}

/**
 * The one-line text of a single progress event, without rate or time left: one event cannot tell
 * whether those are meaningful yet (ProgressTracker can). Used where events arrive without
 * history (the engine's work-done report, the Windows helper's state file).
 */
export function progressDetail(e: ProgressEvent): string {
  return e.phase === 'copy' ? `${Math.floor(e.percent ?? 0)}% · ${plural(e.files, 'file')}, ${formatBytes(e.bytes)}` : e.message;
}

/** What a backup's progress shows right now. */
export interface ProgressView {
  /** 0–100 while copying, undefined before. */
  percent: number | undefined;
  /** e.g. "42% · 1,234 files, 120 MB · 12.3 MB/s · about 2 min left" */
  text: string;
  /** Smoothed bytes per second; undefined until it means something. */
  rate: number | undefined;
  /** Seconds left; undefined unless the estimate is meaningful. */
  etaSeconds: number | undefined;
}

export interface ProgressTrackerOptions {
  /** Time constant of the rate's exponential smoothing (default 5 s). */
  smoothingMs?: number;
  /** No rate is shown before the copy ran this long (default 1 s): "0 B/s" after 0.3 s says nothing. */
  rateAfterMs?: number;
  /** No time left is shown before the copy ran this long (default 3 s). */
  etaAfterMs?: number;
  /** A time left below this is not shown (default 5 s): the bar is nearly full, and the estimate is noise. */
  minEtaSeconds?: number;
}

/**
 * Turns a backup's progress events into what people read: the rate is measured from the bytes
 * copied over time (not rsync's instantaneous figure) and smoothed exponentially; the time left
 * comes from that rate and rsync's percentage, and is shown only once the copy has run a while,
 * is between 1 % and 99 %, and has more than a few seconds to go. One tracker per backup run.
 */
export class ProgressTracker {
  private readonly tau: number;
  private readonly rateAfter: number;
  private readonly etaAfter: number;
  private readonly minEta: number;
  private start: { t: number; bytes: number } | undefined;
  private last: { t: number; bytes: number } | undefined;
  private rate: number | undefined;

  constructor(options: ProgressTrackerOptions = {}) {
    this.tau = options.smoothingMs ?? 5000;
    this.rateAfter = options.rateAfterMs ?? 1000;
    this.etaAfter = options.etaAfterMs ?? 3000;
    this.minEta = options.minEtaSeconds ?? 5;
  }

  /** Feeds one event seen at `nowMs` (any monotonic clock) and returns what to show. */
  update(e: ProgressEvent, nowMs: number): ProgressView {
    if (e.phase !== 'copy') return { percent: e.phase === 'preflight' || e.phase === 'lock' || e.phase === 'repair' || e.phase === 'snapshot' ? undefined : 100, text: e.message, rate: undefined, etaSeconds: undefined };
    this.sample(e.bytes, nowMs);
    const elapsed = nowMs - this.start!.t;
    const percent = e.percent === null ? undefined : Math.max(0, Math.min(100, e.percent));
    const rate = elapsed >= this.rateAfter && this.rate !== undefined && this.rate > 0 ? this.rate : undefined;
    let eta: number | undefined;
    if (rate !== undefined && percent !== undefined && elapsed >= this.etaAfter && percent >= 1 && percent < 99) {
      // rsync's percentage is of the bytes it knows about; the rest follows from what is copied so far.
      const remaining = e.bytes * (100 - percent) / percent;
      const seconds = remaining / rate;
      if (seconds >= this.minEta) eta = seconds;
    }
    const parts = [`${Math.floor(percent ?? 0)}%`, `${plural(e.files, 'file')}, ${formatBytes(e.bytes)}`];
    if (rate !== undefined) parts.push(formatRate(rate));
    if (eta !== undefined) parts.push(`${formatEta(eta)} left`);
    return { percent, text: parts.join(' · '), rate, etaSeconds: eta };
  }

  private sample(bytes: number, t: number): void {
    if (!this.start) { this.start = { t, bytes }; this.last = { t, bytes }; return; }
    const last = this.last!;
    const dt = t - last.t;
    // Events can come in bursts: a rate over a few milliseconds is noise.
    if (dt < 200) return;
    const elapsed = t - this.start.t;
    if (elapsed <= this.tau || this.rate === undefined) {
      // Until one time constant has passed, the plain average since the start is the best estimate.
      this.rate = (bytes - this.start.bytes) / (elapsed / 1000);
    } else {
      const instant = (bytes - last.bytes) / (dt / 1000);
      const alpha = 1 - Math.exp(-dt / this.tau);
      this.rate += alpha * (instant - this.rate);
    }
    this.last = { t, bytes };
  }
}
