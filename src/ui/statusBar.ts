import * as vscode from 'vscode';
import { Commands, SLOTS_VIEW } from './commandIds';
import type { FeatureModule, Services } from './services';
import { readSettings } from './settings';
import { describeStatus } from './slots/slotNodeData';

/** Scheduled runs of this ring that produced no slot, as the schedule feature reports them. */
export interface MissedRunSource {
  missedFor(target: string): Promise<string[]>;
  readonly onDidChange: vscode.Event<void>;
}

/** The status bar item: age of the newest complete slot, or the running backup's progress. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('shadowSlots.status', vscode.StatusBarAlignment.Left, 10);
  private readonly subscriptions: vscode.Disposable[];
  private missedSource: MissedRunSource | undefined;
  private missedRuns: string[] = [];
  /** Numbers the missed-run queries: only the newest one's answer is shown, whatever order they end in. */
  private missedQuery = 0;
  private disposed = false;

  constructor(private readonly services: Services) {
    this.item.name = 'Shadow Slots';
    this.item.command = `${SLOTS_VIEW}.focus`;
    this.subscriptions = [
      services.ring.onDidChange(() => this.refreshMissed()),
      services.backup.onDidChange(() => this.render()),
      // The age is relative: redrawn by the same clock as the slot rows, so both always agree.
      services.clock.onDidTick((now) => this.render(now)),
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('shadowSlots.staleAfterHours')) this.render(); }),
    ];
    this.render();
    this.item.show();
  }

  /** Lets the status bar say "Backup missed" when a schedule implies a newer slot than exists. */
  showMissedRuns(source: MissedRunSource): vscode.Disposable {
    this.missedSource = source;
    const sub = source.onDidChange(() => this.refreshMissed());
    this.refreshMissed();
    return new vscode.Disposable(() => {
      sub.dispose();
      if (this.missedSource !== source) return;
      this.missedSource = undefined;
      this.refreshMissed();
    });
  }

  private refreshMissed(): void {
    const query = ++this.missedQuery;
    const source = this.missedSource;
    const target = this.services.ring.listing?.target;
    if (!source || !target) this.missedRuns = [];
    // The new listing shows at once; the scheduler queries behind missed runs can take seconds.
    this.render();
    if (!source || !target) return;
    const settle = (missed: string[]) => {
      if (query !== this.missedQuery) return;
      this.missedRuns = missed;
      this.render();
    };
    // A failed query cannot say a run was missed: show none rather than an old answer.
    source.missedFor(target).then(settle, () => settle([]));
  }

  private render(now = this.services.clock.now()): void {
    if (this.disposed) return;
    const { item, services } = this;
    if (services.backup.isRunning) {
      const p = services.backup.currentProgress;
      item.text = `$(sync~spin) Backup${p?.percentage !== undefined ? ` ${Math.floor(p.percentage)}%` : '…'}`;
      item.tooltip = p?.message ? `Backing up: ${p.message}\nClick to open the Slots view; Cancel Backup is in its title bar.` : 'Backing up…';
      item.command = `${SLOTS_VIEW}.focus`;
      item.backgroundColor = undefined;
      return;
    }
    const settings = readSettings();
    const view = describeStatus({
      listing: services.ring.listing, configured: settings.target !== '', target: settings.target, lastFailure: services.backup.lastFailure,
      staleAfterHours: settings.staleAfterHours, now, missedRuns: this.missedRuns,
    });
    item.text = view.text;
    item.tooltip = view.tooltip;
    item.command = view.action === 'configure' ? Commands.configureTarget : `${SLOTS_VIEW}.focus`;
    item.backgroundColor = view.severity === 'ok' ? undefined : new vscode.ThemeColor(view.severity === 'error' ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground');
  }

  dispose(): void {
    this.disposed = true;
    for (const d of this.subscriptions) d.dispose();
    this.item.dispose();
  }
}

export function statusBarFeature(onStatusBar: (bar: StatusBar) => void): FeatureModule {
  return {
    id: 'statusBar',
    activate: (services) => {
      const bar = new StatusBar(services);
      onStatusBar(bar);
      return [bar];
    },
  };
}
