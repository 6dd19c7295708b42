import * as vscode from 'vscode';
import type { FeatureModule } from './services';
import { readSettings, SECTION } from './settings';
import { META_DIR, RING_FILE } from '../core/layout';
import { looksRemote } from '../core/remoteTarget';

/**
 * Keeps the Slots view current when the ring changes outside this window (a scheduled run, the
 * CLI, another window): watches `<target>/.shadow-slots/ring.json`. The target is usually outside
 * the workspace, so the pattern needs a Uri base; VS Code then watches that folder on its own.
 * A ring on a server has nothing to watch here: the Slots view lists it again while it is visible
 * (slots/remoteRefresh.ts).
 */
export const ringWatcherFeature: FeatureModule = {
  id: 'ringWatcher',
  activate: (services) => {
    let watcher: vscode.FileSystemWatcher | undefined;
    let watched: string | undefined;
    const rewatch = () => {
      const target = readSettings().target;
      if (target === watched && watcher) return;
      watcher?.dispose();
      watcher = undefined;
      watched = target;
      if (target === '' || looksRemote(target)) return;
      watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(target), `${META_DIR}/${RING_FILE}`));
      const refresh = () => void services.ring.refresh();
      watcher.onDidCreate(refresh); watcher.onDidChange(refresh); watcher.onDidDelete(refresh);
    };
    rewatch();
    return [
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(SECTION)) return;
        rewatch();
        void services.ring.refresh();
      }),
      // A watcher made before the target existed may see nothing; renew it once the ring exists.
      services.engine.onRingChanged(() => { watcher?.dispose(); watcher = undefined; rewatch(); void services.ring.refresh(); }),
      new vscode.Disposable(() => watcher?.dispose()),
    ];
  },
};

