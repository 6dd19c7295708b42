import * as vscode from 'vscode';
import type { FindResult } from '../../core/slotHistory';
import { describeEngineError } from '../engineErrors';
import { foundRow, type FoundRow } from './historyData';

/** What the quick pick needs of the engine. */
export interface Finder {
  findInSlots(target: string, pattern: string, source: string | null, token?: vscode.CancellationToken): Promise<FindResult>;
}

/**
 * `Shadow Slots: Find in Slots…`: a quick pick that asks the engine on every keystroke (the
 * request before is cancelled: only the newest answer is drawn) and resolves with the path the
 * user picks, undefined when dismissed. `initial` fills the box (the tests type through it).
 */
export function findInSlotsPick(finder: Finder, target: string, source: string | null, initial = ''): Promise<string | undefined> {
  const pick = vscode.window.createQuickPick<vscode.QuickPickItem & { row: FoundRow }>();
  pick.title = 'Find in Slots';
  pick.placeholder = 'Part of a path: every word must match (files the workspace no longer has too)';
  pick.matchOnDescription = true;
  let asked: vscode.CancellationTokenSource | undefined;
  const search = async (pattern: string) => {
    asked?.cancel();
    const mine = new vscode.CancellationTokenSource();
    asked = mine;
    if (pattern.trim() === '') { pick.items = []; pick.busy = false; return; }
    pick.busy = true;
    try {
      const found = await finder.findInSlots(target, pattern, source, mine.token);
      if (mine.token.isCancellationRequested) return;
      // The engine already matched and ranked: the quick pick must not filter its answer again.
      pick.items = found.results.map((f) => { const row = foundRow(f); return { label: row.label, description: row.description, detail: row.detail, alwaysShow: true, row }; });
      pick.title = `Find in Slots \u2014 ${found.total} of ${found.paths} paths in ${found.slots} slots${found.total > found.results.length ? ` (first ${found.results.length})` : ''}`;
    } catch (error) {
      if (mine.token.isCancellationRequested) return;
      pick.items = [];
      pick.title = `Find in Slots \u2014 ${describeEngineError(error)}`;
    } finally {
      if (asked === mine) pick.busy = false;
    }
  };
  return new Promise((resolve) => {
    pick.onDidChangeValue((v) => void search(v));
    pick.onDidAccept(() => {
      const chosen = pick.selectedItems[0];
      if (!chosen) return;
      resolve(chosen.row.path);
      pick.hide();
    });
    pick.onDidHide(() => { asked?.cancel(); resolve(undefined); pick.dispose(); });
    pick.value = initial;
    pick.show();
    if (initial !== '') void search(initial);
  });
}
