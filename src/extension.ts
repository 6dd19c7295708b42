/**
 * Composition root (DESIGN.md): builds the shared services and activates the feature modules.
 * Nothing else lives here. A new feature (e.g. src/ui/windows/) adds one FeatureModule entry to
 * `features` and declares its commands and settings in package.json (checked by
 * test/unit/ui/commands.test.ts and, inside VS Code, by test/vscode/suite).
 */
import type * as vscode from 'vscode';
import { createServices, type FeatureModule } from './ui/services';
import { slotsFeature } from './ui/slots/slotsFeature';
import { backupFeature } from './ui/backup/backupCommands';
import { type StatusBar, statusBarFeature } from './ui/statusBar';
import { ringWatcherFeature } from './ui/ringWatcher';
import { scheduleFeature } from './ui/schedule/scheduleCommands';
import { filterFeature } from './ui/filters/filterFeature';
import { helperFeature } from './ui/windows/helperFeature';
import type { SlotsTreeProvider } from './ui/slots/slotsTree';
import { historyFeature } from './ui/history/historyFeature';
import type { HistoryView } from './ui/history/historyView';

/** What activate() returns: the Slots tree's data, so tests inside VS Code read what the view shows. */
export interface ShadowSlotsApi {
  readonly slotsTree: SlotsTreeProvider;
  readonly historyView: HistoryView;
}

export function activate(context: vscode.ExtensionContext): ShadowSlotsApi {
  const services = createServices(context);
  let slotsTree: SlotsTreeProvider | undefined;
  let statusBar: StatusBar | undefined;
  let historyView: HistoryView | undefined;
  const features: FeatureModule[] = [
    slotsFeature((tree) => { slotsTree = tree; }),
    backupFeature,
    // Before scheduleFeature, whose callback hands the schedules to the tree and the status bar.
    statusBarFeature((bar) => { statusBar = bar; }),
    ringWatcherFeature,
    scheduleFeature((schedules) => combine(
      slotsTree?.showSchedules(schedules),
      statusBar?.showMissedRuns(schedules),
    )),
    filterFeature,
    helperFeature,
    historyFeature((view) => { historyView = view; }),
  ];
  for (const feature of features) context.subscriptions.push(...feature.activate(services));
  void services.ring.refresh();
  return { slotsTree: slotsTree!, historyView: historyView! };
}

function combine(...items: Array<vscode.Disposable | undefined>): vscode.Disposable {
  return { dispose: () => { for (const d of items) d?.dispose(); } };
}

export function deactivate(): void {
  // Everything (including the engine process) is in context.subscriptions and disposed by VS Code.
}
