import * as vscode from 'vscode';
import type { RingListing } from '../rpc/protocol';
import type { EngineClient } from './engineClient/engineClient';
import { ContextKeys } from './commandIds';
import { readSettings, sourceFolder } from './settings';
import { describeEngineError, engineErrorCode } from './engineErrors';

export type RingViewState = 'noFolder' | 'noTarget' | 'noSlots' | 'ready' | 'error';

/**
 * The ring as last listed by the engine, shared by the tree and the status bar. Refreshes are
 * coalesced: a burst of triggers (backup end + ring.json watcher + settings change) lists once.
 */
export class RingModel implements vscode.Disposable {
  private current: RingListing | undefined;
  private problem: string | undefined;
  private viewState: RingViewState = 'noTarget';
  private pending: Promise<void> | undefined;
  private again = false;
  private forced = false;
  /** What the last `changed` event showed, before space figures; a listing equal to it fires nothing. */
  private shown: string | undefined;
  /** The listing as the engine returned it: space figures are added to a copy, so a relisting compares like with like. */
  private listed: RingListing | undefined;
  private changes = 0;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly engine: EngineClient, private readonly log: vscode.LogOutputChannel) {}

  get listing(): RingListing | undefined { return this.current; }
  get error(): string | undefined { return this.problem; }
  get state(): RingViewState { return this.viewState; }
  /** Counts new listings; it moves as the listing is replaced, so anyone reading both can key caches on it. */
  get generation(): number { return this.changes; }

  /**
   * Lists the ring again; resolves when the listing that reflects this call is in. Listeners hear
   * of it only when something changed: one run writes ring.json several times, and every event
   * rebuilds the tree, collapsing a row the user is expanding. `force` (the Refresh command)
   * re-renders anyway, for the relative times.
   */
  refresh(options: { force?: boolean } = {}): Promise<void> {
    if (options.force) this.forced = true;
    if (this.pending) { this.again = true; return this.pending; }
    this.pending = (async () => {
      try {
        do { this.again = false; await this.load(); } while (this.again);
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }

  private async load(): Promise<void> {
    const settings = readSettings();
    // Built in locals: a space measurement may land on `current` while the engine lists, and an
    // unchanged listing must keep those figures, not put back what was there before it.
    let listed: RingListing | undefined;
    let problem: string | undefined;
    let viewState: RingViewState;
    if (settings.target === '') {
      viewState = sourceFolder() ? 'noTarget' : 'noFolder';
    } else {
      try {
        listed = await this.engine.list(settings.target);
        viewState = listed.slots.length === 0 ? 'noSlots' : 'ready';
      } catch (error) {
        if (engineErrorCode(error) === 'not-found') {
          // A target that does not exist yet simply has no slots: the first backup creates it.
          listed = { target: settings.target, slots: [], busy: false, notes: [] };
          viewState = 'noSlots';
        } else {
          problem = describeEngineError(error);
          viewState = 'error';
          this.log.error(`Listing ${settings.target} failed: ${problem}`);
        }
      }
    }
    const shown = JSON.stringify([viewState, problem, listed]);
    // Same slots as on screen: keep the space figures already measured for them.
    if (shown === this.shown && !this.forced) return;
    this.shown = shown;
    this.listed = listed;
    this.current = listed;
    this.problem = problem;
    this.viewState = viewState;
    if (listed) this.measureSpace(listed);
    this.forced = false;
    this.changes++;
    await vscode.commands.executeCommand('setContext', ContextKeys.state, this.viewState);
    this.changed.fire();
  }

  /**
   * Space per slot comes after the listing: measuring can read slots (seconds on a big ring, the
   * first time), and the rows must not wait for it. Figures from a listing that was replaced
   * meanwhile are dropped.
   */
  private measureSpace(listing: RingListing): void {
    if (!listing.slots.some((s) => s.number !== null)) return;
    void this.engine.slotSpace(listing.target).then((figures) => {
      if (this.listed !== listing) return;
      const byId = new Map(figures.map((f) => [f.id, f]));
      this.current = { ...listing, slots: listing.slots.map((s) => (s.number === null ? s : { ...s, space: byId.get(s.id) ?? null })) };
      this.changes++;
      this.changed.fire();
    }, (error: unknown) => this.log.warn(`Measuring the space of the slots in ${listing.target} failed: ${describeEngineError(error)}`));
  }

  dispose(): void { this.changed.dispose(); }
}
