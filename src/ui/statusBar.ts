import * as vscode from 'vscode';
import { SLOTS_VIEW } from './commandIds';
import type { FeatureModule, Services } from './services';
import { readSettings } from './settings';
import { describeStatus } from './slots/slotNodeData';

/** The status bar item: age of the newest complete slot, or the running backup's progress. */
export const statusBarFeature: FeatureModule = {
  id: 'statusBar',
  activate: (services) => {
    const item = vscode.window.createStatusBarItem('shadowSlots.status', vscode.StatusBarAlignment.Left, 10);
    item.name = 'Shadow Slots';
    item.command = `${SLOTS_VIEW}.focus`;
    const update = () => render(item, services);
    // Ages are relative: re-render every minute even when nothing else happens.
    const timer = setInterval(update, 60_000);
    update();
    item.show();
    return [
      item,
      services.ring.onDidChange(update),
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
  const view = describeStatus(services.ring.listing, services.backup.lastFailure, readSettings().staleAfterHours, new Date());
  item.text = view.text;
  item.tooltip = view.tooltip;
  item.backgroundColor = view.severity === 'ok' ? undefined : new vscode.ThemeColor(view.severity === 'error' ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground');
}
