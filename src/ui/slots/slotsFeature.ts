import * as vscode from 'vscode';
import { homedir } from 'node:os';
import { SLOTS_VIEW } from '../commandIds';
import type { FeatureModule } from '../services';
import { SlotFileSystem } from './slotFileSystem';
import { SlotsTreeProvider } from './slotsTree';
import { registerSlotCommands } from './slotCommands';
import { registerFolderCommands } from './folderCommands';
import { readSettings } from '../settings';
import { tildePath } from './slotNodeData';

/** The Slots view, the read-only slot file system and the commands on slots and their files. */
export function slotsFeature(onTree: (tree: SlotsTreeProvider) => void): FeatureModule {
  return {
    id: 'slots',
    activate: (services) => {
      const tree = new SlotsTreeProvider(services.ring, services.clock, services.verifyMarks, services.engine);
      onTree(tree);
      const view = vscode.window.createTreeView(SLOTS_VIEW, { treeDataProvider: tree, showCollapseAll: true });
      // Where the ring is, always in sight next to the view's title (the full path in the tooltip of each slot).
      const describe = () => {
        const target = services.ring.listing?.target ?? readSettings().target;
        view.description = target ? tildePath(target, homedir()) : undefined;
      };
      describe();
      return [
        tree,
        view,
        services.ring.onDidChange(describe),
        SlotFileSystem.register(services.engine),
        ...registerSlotCommands(services),
        ...registerFolderCommands(services),
      ];
    },
  };
}
