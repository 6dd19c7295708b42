// Runs INSIDE a real VS Code after extension.test.ts (files run in name order): change marks, ghost
// rows, the File History in Slots view and Find in Slots, on a ring of two real backups.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as vscode from 'vscode';
import { waitFor } from './waitFor';
import type { ShadowSlotsApi } from '../../../src/extension';
import type { SlotsNode } from '../../../src/ui/slots/slotsTree';
import type { HistoryNode } from '../../../src/ui/history/historyView';
import type { BackupNowOutcome } from '../../../src/ui/backup/backupCommands';

describe('What changed: marks, ghosts, file history and find, in a real VS Code', function () {
  let api: ShadowSlotsApi;
  let workspace: string;
  let target: string;
  let hist: string;

  before(async function () {
    api = await vscode.extensions.getExtension<ShadowSlotsApi>('shadow-slots.shadow-slots')!.activate();
    workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    hist = path.join(workspace, 'hist');
    mkdirSync(hist, { recursive: true });
    target = mkdtempSync(path.join(tmpdir(), 'shadow-slots-e2e-changes-'));
    const c = vscode.workspace.getConfiguration('shadowSlots');
    await c.update('snapshot', 'none', vscode.ConfigurationTarget.Workspace);
    await c.update('excludes', ['/.vscode/'], vscode.ConfigurationTarget.Workspace);
    assert.equal(await vscode.commands.executeCommand<string>('shadowSlots.configureTarget', vscode.Uri.file(target)), target);
    writeFileSync(path.join(hist, 'a.txt'), 'version 1\n');
    writeFileSync(path.join(hist, 'gone.txt'), 'bye\n');
    writeFileSync(path.join(hist, 'removed for good & co.md'), 'old notes\n');
    await backup();
    writeFileSync(path.join(hist, 'a.txt'), 'version 2, longer\n');
    writeFileSync(path.join(hist, 'new.txt'), 'hello\n');
    rmSync(path.join(hist, 'gone.txt'));
    rmSync(path.join(hist, 'removed for good & co.md'));
    await backup();
    await waitFor(async () => (api.slotsTree.getChildren() as Promise<SlotsNode[]>).then((r) => (r.filter((n) => n.kind === 'slot').length === 2 ? r : undefined)));
  });

  after(async function () {
    await vscode.commands.executeCommand('shadowSlots.showAllFiles');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const c = vscode.workspace.getConfiguration('shadowSlots');
    for (const key of ['snapshot', 'excludes']) await c.update(key, undefined, vscode.ConfigurationTarget.Workspace);
    await c.update('targets', undefined, vscode.ConfigurationTarget.Global);
    if (hist) rmSync(hist, { recursive: true, force: true });
    if (target) rmSync(target, { recursive: true, force: true });
  });

  it('marks a changed file M and an added one A ("changed since slot 1 (date)"), the folder above them, and shows the deleted file as a struck-through ghost marked D', async function () {
    const rows = await histRows();
    const byPath = new Map(rows.map((n) => [(n as Extract<SlotsNode, { kind: 'entry' }>).view.relPath, n]));
    assert.deepEqual([...byPath.keys()].sort(), ['hist/a.txt', 'hist/gone.txt', 'hist/new.txt', 'hist/removed for good & co.md']);
    const a = await decoration(byPath.get('hist/a.txt')!);
    assert.equal(a?.badge, 'M');
    assert.match(String(a?.tooltip), /^changed since slot 1 \(\d{4}-\d\d-\d\d \d\d:\d\d\)$/);
    assert.equal((await decoration(byPath.get('hist/new.txt')!))?.badge, 'A');
    const ghost = byPath.get('hist/gone.txt')!;
    assert.equal((await decoration(ghost))?.badge, 'D');
    const item = api.slotsTree.getTreeItem(ghost) as vscode.TreeItem;
    assert.equal(item.label, [...'gone.txt'].map((c) => `${c}\u0336`).join(''));
    assert.match(String(item.description), /^deleted/);
    const [slot0] = await slots();
    const folder = (await children(slot0)).find((n) => n.kind === 'entry' && n.view.relPath === 'hist')!;
    assert.match(String((await decoration(folder))?.tooltip), /changes below since slot 1 .*: 1 added, 1 changed, 2 deleted/);
    const unchanged = (await children(slot0)).find((n) => n.kind === 'entry' && n.view.relPath === 'notes.txt');
    assert.ok(unchanged, 'notes.txt is in the slot');
    assert.equal(await decoration(unchanged), undefined, 'an unchanged file has no mark');
  });

  it('"Show Only Changes" lists only what the backup changed; "Show All Files" lists everything again', async function () {
    const [slot0] = await slots();
    await vscode.commands.executeCommand('shadowSlots.showOnlyChanges');
    assert.deepEqual((await children(slot0)).map(relPath), ['hist']);
    await vscode.commands.executeCommand('shadowSlots.showAllFiles');
    assert.ok((await children(slot0)).map(relPath).includes('notes.txt'));
  });

  it('a ghost opens from the older slot and restores back into the workspace', async function () {
    const ghost = (await histRows()).find((n) => relPath(n) === 'hist/gone.txt')!;
    await vscode.commands.executeCommand('shadowSlots.openSlotFile', ghost);
    const doc = await waitFor(async () => vscode.window.activeTextEditor?.document);
    assert.equal(doc.getText(), 'bye\n');
    assert.match(doc.uri.path, /^\/1\/hist\/gone \(slot 1\)\.txt$/);
    const done = await vscode.commands.executeCommand<{ restored: string[] } | undefined>('shadowSlots.restore', ghost, { confirmed: true });
    assert.ok(done);
    assert.equal(readFileSync(path.join(hist, 'gone.txt'), 'utf8'), 'bye\n');
  });

  it('File History in Slots lists each version once, newest first, and a click opens the diff with the previous version', async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const nodes = await vscode.commands.executeCommand<HistoryNode[]>('shadowSlots.showFileHistory', vscode.Uri.file(path.join(hist, 'a.txt')));
    assert.deepEqual(nodes.map((n) => [n.row.kind, n.row.slot, n.row.olderSlot]), [['version', 0, 1], ['version', 1, null]]);
    assert.match(nodes[0]!.row.description, /^(just now|\d+ min ago) \u00b7 18 bytes \u00b7 same as today$/);
    assert.doesNotMatch(nodes[1]!.row.description, /same as today/);
    const item = api.historyView.getTreeItem(nodes[0]!);
    assert.ok(item.command);
    await vscode.commands.executeCommand(item.command.command, ...(item.command.arguments ?? []));
    const tab = await waitFor(async () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputTextDiff));
    assert.equal(tab.label, 'a.txt (slot 1) \u2194 a.txt (slot 0)');
    const input = tab.input as vscode.TabInputTextDiff;
    assert.equal(new TextDecoder().decode(await vscode.workspace.fs.readFile(input.original)), 'version 1\n');
    assert.equal(new TextDecoder().decode(await vscode.workspace.fs.readFile(input.modified)), 'version 2, longer\n');
  });

  it('Find in Slots finds a file the workspace no longer has, and opens its history', async function () {
    assert.equal(existsSync(path.join(hist, 'removed for good & co.md')), false);
    const picked = vscode.commands.executeCommand<HistoryNode[] | undefined>('shadowSlots.findInSlots', 'removed good');
    let settled: HistoryNode[] | undefined | null = null;
    void picked.then((v) => { settled = v; });
    // Accept as soon as the engine's answer is in the quick pick (accepting an empty list does nothing).
    await waitFor(async () => {
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      await new Promise((r) => setTimeout(r, 200));
      return settled === null ? undefined : true;
    });
    const nodes = (await picked)!;
    assert.ok(nodes, 'the history opened');
    assert.equal(api.historyView.shown?.path, 'hist/removed for good & co.md');
    assert.deepEqual(nodes.map((n) => [n.row.kind, n.row.label === 'deleted' ? 'deleted' : n.row.slot]), [['gap', 'deleted'], ['version', 1]]);
  });

  async function backup(): Promise<void> {
    const outcome = await vscode.commands.executeCommand<BackupNowOutcome>('shadowSlots.backupNow');
    assert.equal(outcome.kind, 'done', JSON.stringify(outcome));
  }
  async function children(node?: SlotsNode): Promise<SlotsNode[]> {
    return (await api.slotsTree.getChildren(node)) ?? [];
  }
  async function slots(): Promise<SlotsNode[]> {
    return (await children()).filter((n) => n.kind === 'slot');
  }
  async function histRows(): Promise<SlotsNode[]> {
    const [slot0] = await slots();
    const folder = (await children(slot0)).find((n) => relPath(n) === 'hist');
    assert.ok(folder, 'hist/ is in slot 0');
    return children(folder);
  }
  function relPath(n: SlotsNode): string {
    return n.kind === 'entry' ? n.view.relPath : '';
  }
  async function decoration(n: SlotsNode): Promise<vscode.FileDecoration | undefined> {
    const uri = (api.slotsTree.getTreeItem(n) as vscode.TreeItem).resourceUri;
    assert.ok(uri, 'the row has a slot URI');
    return (await api.slotsTree.changes!.provideFileDecoration(uri)) ?? undefined;
  }
});
