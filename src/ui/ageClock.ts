import * as vscode from 'vscode';
import type { RingModel } from './ringModel';
import { nextRedrawDelay, slotTime } from './slots/slotNodeData';

/** Past the boundary, so the redraw lands on the new side of it ("1 min ago", not "just now" again). */
const MARGIN_MS = 250;
/** Timers further out than this are re-armed (a sleeping laptop stretches long timers). */
const LONGEST_WAIT_MS = 15 * 60_000;

/**
 * One clock for every relative time on screen (slot rows and the status bar): it ticks exactly
 * when a displayed age would read differently — every minute while the newest slot is minutes
 * old, every hour once it is hours old, and at local midnight (Today → Yesterday) — and everyone
 * redraws with the tick's time, so the tree and the status bar never disagree about a slot.
 */
export class AgeClock implements vscode.Disposable {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly ticked = new vscode.EventEmitter<Date>();
  /** Fires with the time everyone draws with. */
  readonly onDidTick = this.ticked.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly ring: RingModel) {
    this.sub = ring.onDidChange(() => this.arm());
    this.arm();
  }

  /** The time relative ages are drawn from right now. */
  now(): Date {
    return new Date();
  }

  private times(): number[] {
    return (this.ring.listing?.slots ?? []).map((s) => slotTime(s)?.getTime()).filter((t): t is number => t !== undefined && Number.isFinite(t));
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const delay = nextRedrawDelay(this.times(), new Date());
    if (!Number.isFinite(delay)) return;
    const wait = Math.min(delay + MARGIN_MS, LONGEST_WAIT_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (wait > delay) this.ticked.fire(this.now());
      this.arm();
    }, wait);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.sub.dispose();
    this.ticked.dispose();
  }
}
