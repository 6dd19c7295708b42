import * as vscode from 'vscode';
import type { BackupResult } from '../../rpc/protocol';
import type { EngineClient, BackupProgress } from '../engineClient/engineClient';
import { ContextKeys } from '../commandIds';
import { describeEngineError, engineErrorCode, engineErrorDetails } from '../engineErrors';
import { ProgressTracker } from '../../core/progress';

export type BackupOutcome =
  | { kind: 'done'; result: BackupResult }
  | { kind: 'cancelled' }
  | { kind: 'failed'; message: string; code: string | undefined; details?: Record<string, unknown> | undefined };

const LAST_FAILURE_KEY = 'shadowSlots.lastFailure';

/** Runs one backup in place of the engine request (the Windows elevated helper, src/ui/windows); it may still call the engine. */
export type BackupRunner = (profile: Parameters<EngineClient['backup']>[0], onProgress: (p: BackupProgress) => void, token: vscode.CancellationToken) => Promise<BackupResult | null>;

/**
 * At most one backup per window at a time, its progress for the status bar, and whether the last
 * run failed (kept across restarts, so a failed nightly backup is still red the next morning).
 */
export class BackupController implements vscode.Disposable {
  private running: { cts: vscode.CancellationTokenSource; promise: Promise<BackupOutcome> } | undefined;
  private progress: BackupProgress | undefined;
  private runner: BackupRunner | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly engine: EngineClient, private readonly state: vscode.Memento) {}

  get isRunning(): boolean { return this.running !== undefined; }
  get currentProgress(): BackupProgress | undefined { return this.progress; }
  get lastFailure(): string | undefined { return this.state.get<string>(LAST_FAILURE_KEY); }

  /** Starts a backup; throws if one is already running (callers say so to the user). */
  start(profile: Parameters<EngineClient['backup']>[0], onProgress: (p: BackupProgress) => void): Promise<BackupOutcome> {
    if (this.running) throw new Error('A backup is already running.');
    const cts = new vscode.CancellationTokenSource();
    const promise = this.run(profile, onProgress, cts.token);
    this.running = { cts, promise };
    void vscode.commands.executeCommand('setContext', ContextKeys.backupRunning, true);
    this.changed.fire();
    void promise.finally(() => {
      cts.dispose();
      this.running = undefined;
      this.progress = undefined;
      void vscode.commands.executeCommand('setContext', ContextKeys.backupRunning, false);
      this.changed.fire();
    });
    return promise;
  }

  /** Back Up Now goes through `runner` until the returned Disposable is disposed. */
  useRunner(runner: BackupRunner): vscode.Disposable {
    this.runner = runner;
    return new vscode.Disposable(() => { if (this.runner === runner) this.runner = undefined; });
  }

  cancel(): boolean {
    if (!this.running) return false;
    this.running.cts.cancel();
    return true;
  }

  private async run(profile: Parameters<EngineClient['backup']>[0], onProgress: (p: BackupProgress) => void, token: vscode.CancellationToken): Promise<BackupOutcome> {
    try {
      const backup: BackupRunner = this.runner ?? ((p, report, t) => this.engine.backup(p, report, t));
      // Rate and time left come from the run's history, not from one event (see ProgressTracker).
      const tracker = new ProgressTracker();
      const result = await backup(profile, (p) => {
        const view = p.event ? tracker.update(p.event, performance.now()) : undefined;
        const shown: BackupProgress = view ? { message: view.text, percentage: view.percent, event: p.event! } : p;
        this.progress = shown;
        onProgress(shown);
        this.changed.fire();
      }, token);
      if (result === null || token.isCancellationRequested) return { kind: 'cancelled' };
      await this.state.update(LAST_FAILURE_KEY, result.outcome === 'partial' ? 'the last backup was only partial' : undefined);
      return { kind: 'done', result };
    } catch (error) {
      const code = engineErrorCode(error);
      if (token.isCancellationRequested || code === 'cancelled' || error instanceof vscode.CancellationError) return { kind: 'cancelled' };
      const message = describeEngineError(error);
      // A run refused before it started (bad settings, an invalid filter rule) changed nothing and is
      // answered on the spot: the status bar keeps the age of the last real backup.
      if (code !== 'invalid-input') await this.state.update(LAST_FAILURE_KEY, message);
      return { kind: 'failed', message, code, details: engineErrorDetails(error) };
    }
  }

  dispose(): void {
    this.running?.cts.cancel();
    this.changed.dispose();
  }
}
