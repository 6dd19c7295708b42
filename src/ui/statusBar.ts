import * as vscode from 'vscode';
import { SLOTS_VIEW } from './commandIds';
import type { FeatureModule, Services } from './services';
import { readSettings } from './settings';
import { describeStatus } from './slots/slotNodeData';

/** Scheduled runs of this ring that produced no slot, as the schedule feature reports them. */
export interface MissedRunSource {
  missedFor(target: string): Promise<string[]>;
  readonly onDidChange: vscode.Event<void>;
}

let missedSource: MissedRunSource | undefined;
let missedRuns: string[] = [];
let refreshMissed: () => void = () => undefined;

/** Lets the status bar say "Backup missed" when a schedule implies a newer slot than exists. */
export function attachMissedRuns(source: MissedRunSource): vscode.Disposable {
  missedSource = source;
  refreshMissed();
  const sub = source.onDidChange(() => refreshMissed());
  return new vscode.Disposable(() => { sub.dispose(); missedSource = undefined; missedRuns = []; });
}

/** The status bar item: age of the newest complete slot, or the running backup's progress. */
export const statusBarFeature: FeatureModule = {
  id: 'statusBar',
  activate: (services) => {
    const item = vscode.window.createStatusBarItem('shadowSlots.status', vscode.StatusBarAlignment.Left, 10);
    item.name = 'Shadow Slots';
    item.command = `${SLOTS_VIEW}.focus`;
    const update = () => render(item, services);
    refreshMissed = () => {
      const target = services.ring.listing?.target;
      if (!missedSource || !target) { missedRuns = []; update(); return; }
      void missedSource.missedFor(target).then((m) => { missedRuns = m; update(); }, () => undefined);
    };
    // Ages are relative: re-render every minute even when nothing else happens.
    const timer = setInterval(update, 60_000);
    update();
    item.show();
    return [
      item,
      services.ring.onDidChange(() => refreshMissed()),
      services.backup.onDidChange(update),
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('shadowSlots.staleAfterHours')) update(); }),
      new vscode.Disposable(() => clearInterval(timer)),
    ];
  },
};

function render(item: vscode.StatusBarItem, services: Services): void {
  if (services.backup.isRunning) {
    const p = services.backup.currentProgress;
    item.text = `$(sync~spin) Backup${p?.percentage !== undefined ? ` ${Math.round(p.percentage)}%` : '…'}`;
    item.tooltip = p?.message ? `Backing up: ${p.message}` : 'Backing up…';
    item.backgroundColor = undefined;
    return;
  }
  const view = describeStatus(services.ring.listing, services.backup.lastFailure, readSettings().staleAfterHours, new Date(), missedRuns);
  item.text = view.text;
  item.tooltip = view.tooltip;
  item.backgroundColor = view.severity === 'ok' ? undefined : new vscode.ThemeColor(view.severity === 'error' ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground');
}
