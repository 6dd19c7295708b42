import * as vscode from 'vscode';
import type { RingListing } from '../rpc/protocol';
import type { EngineClient } from './engine/engineClient';
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
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly engine: EngineClient, private readonly log: vscode.LogOutputChannel) {}

  get listing(): RingListing | undefined { return this.current; }
  get error(): string | undefined { return this.problem; }
  get state(): RingViewState { return this.viewState; }

  /** Lists the ring again; resolves when the listing that reflects this call is in. */
  refresh(): Promise<void> {
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
    this.problem = undefined;
    if (settings.target === '') {
      this.current = undefined;
      this.viewState = sourceFolder() ? 'noTarget' : 'noFolder';
    } else {
      try {
        this.current = await this.engine.list(settings.target);
        this.viewState = this.current.slots.length === 0 ? 'noSlots' : 'ready';
      } catch (error) {
        if (engineErrorCode(error) === 'not-found') {
          // A target that does not exist yet simply has no slots: the first backup creates it.
          this.current = { target: settings.target, slots: [], busy: false, notes: [] };
          this.viewState = 'noSlots';
        } else {
          this.current = undefined;
          this.problem = describeEngineError(error);
          this.viewState = 'error';
          this.log.error(`Listing ${settings.target} failed: ${this.problem}`);
        }
      }
    }
    await vscode.commands.executeCommand('setContext', ContextKeys.state, this.viewState);
    this.changed.fire();
  }

  dispose(): void { this.changed.dispose(); }
}
