import * as vscode from 'vscode';
import { SLOTS_VIEW } from '../commandIds';
import type { FeatureModule } from '../services';
import { SlotFileSystem } from './slotFileSystem';
import { SlotsTreeProvider } from './slotsTree';
import { registerSlotCommands } from './slotCommands';

/** The Slots view, the read-only slot file system and the commands on slots and their files. */
export function slotsFeature(onTree: (tree: SlotsTreeProvider) => void): FeatureModule {
  return {
    id: 'slots',
    activate: (services) => {
      const tree = new SlotsTreeProvider(services.ring);
      onTree(tree);
      const view = vscode.window.createTreeView(SLOTS_VIEW, { treeDataProvider: tree, showCollapseAll: true });
      return [
        tree,
        view,
        SlotFileSystem.register(),
        ...registerSlotCommands(services),
      ];
    },
  };
}
