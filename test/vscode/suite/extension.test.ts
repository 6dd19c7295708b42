// Runs INSIDE a real VS Code extension host (code-server here, VS Code desktop with test-cli):
// drives the installed extension through the VS Code API, against the real engine and rsync.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import * as vscode from 'vscode';
import type { ShadowSlotsApi } from '../../../src/extension';
import type { SlotsNode } from '../../../src/ui/slots/slotsTree';
import type { BackupNowOutcome } from '../../../src/ui/backup/backupCommands';

const EXTENSION_ID = 'shadow-slots.shadow-slots';
const today = (() => { const d = new Date(); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`; })();

describe('Shadow Slots in a real VS Code', function () {
  let api: ShadowSlotsApi;
  let workspace: string;
  let target: string;

  before(async function () {
    const ext = vscode.extensions.getExtension<ShadowSlotsApi>(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is installed`);
    api = await ext.activate();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder is open');
    workspace = folder.uri.fsPath;
    writeFileSync(path.join(workspace, 'notes.txt'), 'version 1\n');
    mkdirSync(path.join(workspace, 'src', 'deep'), { recursive: true });
    writeFileSync(path.join(workspace, 'src', 'main.ts'), 'export const answer = 42;\n');
    writeFileSync(path.join(workspace, 'src', 'deep', 'data file & co.json'), '{"a": 1}\n');
    target = mkdtempSync(path.join(tmpdir(), 'shadow-slots-e2e-target-'));
  });

  after(async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const c = vscode.workspace.getConfiguration('shadowSlots');
    for (const key of ['target', 'snapshot', 'excludes', 'slots', 'filterFile']) await c.update(key, undefined, vscode.ConfigurationTarget.Workspace);
    await c.update('targets', undefined, vscode.ConfigurationTarget.Global);
    if (target) rmSync(target, { recursive: true, force: true });
  });

  it('registers every command package.json declares, and declares every command it registers', async function () {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const declared = (ext.packageJSON.contributes.commands as Array<{ command: string }>).map((c) => c.command).sort();
    // VS Code itself derives `<view id>.*` commands (focus, resetViewLocation…) from the view.
    const registered = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith('shadowSlots.') && !c.startsWith('shadowSlots.slots.')).sort();
    assert.deepEqual(registered, declared);
    assert.ok(declared.length >= 12);
  });

  it('shows the "no target" welcome state before a target is configured', async function () {
    await vscode.commands.executeCommand('shadowSlots.refresh');
    assert.deepEqual(await children(), []);
  });

  it('configures a target through the command (validated by the engine, then saved per folder in the user settings, not in .vscode/settings.json)', async function () {
    await vscode.workspace.getConfiguration('shadowSlots').update('snapshot', 'none', vscode.ConfigurationTarget.Workspace);
    // The settings file lands in the workspace; keep it out of the slots so assertions stay exact.
    await vscode.workspace.getConfiguration('shadowSlots').update('excludes', ['/.vscode/'], vscode.ConfigurationTarget.Workspace);
    const saved = await vscode.commands.executeCommand<string>('shadowSlots.configureTarget', vscode.Uri.file(target));
    assert.equal(saved, target);
    const c = vscode.workspace.getConfiguration('shadowSlots');
    assert.deepEqual(c.inspect<Record<string, string>>('targets')?.globalValue, { [workspace]: target });
    assert.equal(c.inspect<string>('target')?.workspaceValue, undefined, 'nothing about the target in the folder\'s own settings');
    assert.doesNotMatch(readFileSync(path.join(workspace, '.vscode', 'settings.json'), 'utf8'), /shadowSlots\.target/);
    assert.deepEqual(await children(), [], 'an empty target has no slots yet');
  });

  it('refuses the workspace itself as the target and keeps the previous setting', async function () {
    const saved = await vscode.commands.executeCommand<string | undefined>('shadowSlots.configureTarget', vscode.Uri.file(workspace));
    assert.equal(saved, undefined);
    assert.deepEqual(vscode.workspace.getConfiguration('shadowSlots').get('targets'), { [workspace]: target });
  });

  it('backs up now; a second Back Up Now while it runs says so instead of starting another', async function () {
    // Commands run in the order they are called; the first reserves the run before it awaits anything.
    const first = vscode.commands.executeCommand<BackupNowOutcome>('shadowSlots.backupNow');
    const second = await vscode.commands.executeCommand<BackupNowOutcome>('shadowSlots.backupNow');
    const outcome = await first;
    assert.equal(outcome.kind, 'done', JSON.stringify(outcome));
    assert.equal(second.kind, 'already-running');
    if (outcome.kind !== 'done') return;
    assert.equal(outcome.result.slot.number, 0);
    assert.equal(readFileSync(path.join(target, '0', 'notes.txt'), 'utf8'), 'version 1\n');
  });

  it('shows slot 0 in the tree by today\'s time, its changes, age and the live-copy marker; the full time in the tooltip', async function () {
    const roots = await waitFor(async () => { const r = await children(); return r.length > 0 ? r : undefined; });
    const item = api.slotsTree.getTreeItem(roots[0]!) as vscode.TreeItem;
    assert.match(String(item.label), /^\d\d:\d\d$/);
    assert.equal(item.contextValue, 'slot:complete');
    assert.match(String(item.description), /just now|min ago/);
    assert.match(String(item.description), /\+\d+/);
    assert.match(String(item.description), /live copy/);
    const tooltip = (item.tooltip as vscode.MarkdownString).value;
    assert.match(tooltip, /Snapshot: none/);
    assert.match(tooltip, new RegExp(`\\*\\*${today} \\d\\d:\\d\\d\\*\\*`));
  });

  it('expands a slot lazily into folders first, then files', async function () {
    const [slot] = await children();
    const level1 = await children(slot);
    assert.deepEqual(level1.map(label), ['src', 'notes.txt']);
    assert.deepEqual(level1.map((n) => (api.slotsTree.getTreeItem(n) as vscode.TreeItem).contextValue), ['slotFolder', 'slotFile']);
    const src = level1[0]!;
    const level2 = await children(src);
    assert.deepEqual(level2.map(label), ['deep', 'main.ts']);
    const deep = await children(level2[0]);
    assert.deepEqual(deep.map(label), ['data file & co.json']);
  });

  it('opens a file from a slot read-only, with the slot in its URI', async function () {
    const file = await fileNode('notes.txt');
    await vscode.commands.executeCommand('shadowSlots.openSlotFile', file);
    const editor = await waitFor(async () => vscode.window.activeTextEditor?.document.uri.scheme === 'shadow-slots' ? vscode.window.activeTextEditor : undefined);
    assert.equal(editor.document.getText(), 'version 1\n');
    assert.equal(editor.document.uri.path, '/0/notes (slot 0).txt');
    assert.equal(vscode.window.tabGroups.activeTabGroup.activeTab?.label, 'notes (slot 0).txt', 'the tab says which slot');
    assert.equal(editor.document.languageId, 'plaintext');
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(editor.document.uri, Buffer.from('changed'))), /NoPermissions|permission|read-only|readonly/i);
    assert.equal(readFileSync(path.join(target, '0', 'notes.txt'), 'utf8'), 'version 1\n', 'the slot is untouched');
  });

  it('compares a slot file with the workspace (slot left, current right)', async function () {
    writeFileSync(path.join(workspace, 'notes.txt'), 'version 2\n');
    await vscode.commands.executeCommand('shadowSlots.compareWithWorkspace', await fileNode('notes.txt'));
    const input = await waitFor(async () => { const i = vscode.window.tabGroups.activeTabGroup.activeTab?.input; return i instanceof vscode.TabInputTextDiff ? i : undefined; });
    assert.equal(input.original.scheme, 'shadow-slots');
    assert.equal(input.original.path, '/0/notes (slot 0).txt');
    assert.equal(input.modified.fsPath, path.join(workspace, 'notes.txt'));
    assert.match(vscode.window.tabGroups.activeTabGroup.activeTab!.label, new RegExp(`${today} \\d\\d:\\d\\d \\u00b7 slot 0`));
  });

  it('Compare with Slot… offers only slots whose version differs, and opens the diff', async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('shadowSlots.compareWithSlot', vscode.Uri.file(path.join(workspace, 'notes.txt')), 0);
    const input = await waitFor(async () => { const i = vscode.window.tabGroups.activeTabGroup.activeTab?.input; return i instanceof vscode.TabInputTextDiff ? i : undefined; });
    assert.equal(input.original.path, '/0/notes (slot 0).txt');
    // main.ts did not change since slot 0: no slot offers a different version.
    await assert.rejects(Promise.resolve(vscode.commands.executeCommand('shadowSlots.compareWithSlot', vscode.Uri.file(path.join(workspace, 'src', 'main.ts')), 0)), /no different version/);
  });

  it('restores a file into the workspace and keeps the current version aside; Undo puts it back, says so, and the open diff stays open', async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('shadowSlots.compareWithWorkspace', await fileNode('notes.txt'));
    await waitFor(async () => (vscode.window.tabGroups.activeTabGroup.activeTab?.input instanceof vscode.TabInputTextDiff ? true : undefined));
    const result = await vscode.commands.executeCommand<{ restored: string[]; keptAside: string | null; message: string; undo?: () => Promise<string> } | undefined>('shadowSlots.restore', await fileNode('notes.txt'), { confirmed: true });
    assert.ok(result, 'restore returned a result');
    assert.equal(readFileSync(path.join(workspace, 'notes.txt'), 'utf8'), 'version 1\n');
    assert.match(result.message, new RegExp(`^Restored "notes\\.txt" from the backup of ${today} \\d\\d:\\d\\d \\(slot 0\\)\\. The version it replaced was kept aside\\.$`));
    assert.ok(result.keptAside, 'the replaced version was kept aside');
    assert.ok(findFileWithContent(result.keptAside, 'version 2\n'), `the previous content is in ${result.keptAside}`);
    const said = await result.undo!();
    assert.equal(said, 'Undid the restore: "notes.txt" is back to the version it had before; the restored one is still in the backup.');
    assert.equal(readFileSync(path.join(workspace, 'notes.txt'), 'utf8'), 'version 2\n');
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.fsPath === path.join(workspace, 'notes.txt')), 'the diff editor is still open');
    // Back to the restored state for the tests below.
    await vscode.commands.executeCommand('shadowSlots.restore', await fileNode('notes.txt'), { confirmed: true });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('verifies slot 0 against its manifest', async function () {
    const [slot] = await children();
    const result = await vscode.commands.executeCommand<{ ok: boolean; checked: number } | undefined>('shadowSlots.verifySlot', slot);
    assert.ok(result);
    assert.equal(result.ok, true);
    assert.ok(result.checked >= 3);
  });

  it('Cancel Backup stops a running backup and leaves the ring as it was', async function () {
    const [before] = await children();
    const slotId = before && before.kind === 'slot' ? before.slot.id : undefined;
    writeFileSync(path.join(workspace, 'changed-after-slot-0.txt'), 'new\n');
    // Same ordering guarantee as above: the cancel reaches the run the first command reserved.
    const running = vscode.commands.executeCommand<BackupNowOutcome>('shadowSlots.backupNow');
    await vscode.commands.executeCommand('shadowSlots.cancelBackup');
    const outcome = await running;
    assert.equal(outcome.kind, 'cancelled', JSON.stringify(outcome));
    await vscode.commands.executeCommand('shadowSlots.refresh');
    const after = (await children()).filter((n) => n.kind === 'slot' && n.slot.number !== null);
    assert.equal(after.length, 1, 'no new slot');
    assert.equal(after[0]!.kind === 'slot' ? after[0]!.slot.id : undefined, slotId);
  });

  it('refreshes by itself when another process (the CLI) adds a slot to the ring', async function () {
    assert.equal((await children()).filter((n) => n.kind === 'slot' && n.slot.number !== null).length, 1);
    // The CLI shipped in the .vsix, as a scheduled run would start it: the view learns of the new
    // slot only through its watcher on <target>/.shadow-slots/ring.json.
    const cli = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'cli.js');
    const r = spawnSync(process.execPath, [cli, 'backup', '--source', workspace, '--target', target, '--snapshot', 'none', '--exclude', '/.vscode/'], { encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    assert.equal(r.status, 0, r.stderr);
    const slots = await waitFor(async () => {
      const s = (await children()).filter((n) => n.kind === 'slot' && n.slot.number !== null);
      return s.length === 2 ? s : undefined;
    }, 30_000);
    assert.deepEqual(slots.map((n) => n.kind === 'slot' ? n.slot.number : -1), [0, 1]);
  });

  it('rebuilds the tree only when the listing changed; the Refresh command always does', async function () {
    // The CLI run of the test before writes ring.json several times; let its last watcher events land first.
    await vscode.commands.executeCommand('shadowSlots.refresh');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await api.slotsTree.getChildren();
    let rebuilds = 0;
    // Whole-tree rebuilds only: the age clock redraws single slot rows (an element) when their age text changes.
    const sub = api.slotsTree.onDidChangeTreeData((e) => { if (e === undefined) rebuilds++; });
    try {
      // Any change under shadowSlots.* lists the ring again; this one leaves the listing as it was.
      // (One backup writes ring.json several times: each rebuild collapsed a row being expanded.)
      const c = vscode.workspace.getConfiguration('shadowSlots');
      await c.update('staleAfterHours', 48, vscode.ConfigurationTarget.Workspace);
      await c.update('staleAfterHours', undefined, vscode.ConfigurationTarget.Workspace);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(rebuilds, 0, 'an unchanged listing does not rebuild the tree');
      await vscode.commands.executeCommand('shadowSlots.refresh');
      assert.ok(rebuilds >= 1, 'Refresh re-renders (relative times move on)');
    } finally {
      sub.dispose();
    }
  });

  it('an invalid setting fails Back Up Now with the engine\'s validation message, and writes nothing', async function () {
    const c = vscode.workspace.getConfiguration('shadowSlots');
    await c.update('slots', 5000, vscode.ConfigurationTarget.Workspace);
    try {
      const before = readdirSync(target).sort();
      const outcome = await vscode.commands.executeCommand<BackupNowOutcome>('shadowSlots.backupNow');
      assert.equal(outcome.kind, 'failed', JSON.stringify(outcome));
      if (outcome.kind === 'failed') assert.match(outcome.message, /slot count 5000 is not a whole number from 1 to 1000/);
      assert.deepEqual(readdirSync(target).sort(), before);
    } finally {
      await c.update('slots', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('copies a slot file\'s path on disk', async function () {
    const p = await vscode.commands.executeCommand<string>('shadowSlots.copyPath', await fileNode('notes.txt'));
    assert.equal(p, path.join(target, '0', 'notes.txt'));
    assert.equal(await vscode.env.clipboard.readText(), p);
  });

  it('a .shadowslots-filter file gets the engine\'s diagnostics and quick fixes; an invalid rule stops Back Up Now with the engine\'s diagnostic and its place; Preview Backup renders what each rule decides', async function () {
    const filterFile = path.join(workspace, '.shadowslots-filter');
    writeFileSync(filterFile, '- /src/deep/\n-notes.txt\n');
    try {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(filterFile));
      assert.equal(doc.languageId, 'shadowslots-filter');
      await vscode.window.showTextDocument(doc);
      const diagnostics = await waitFor(async () => {
        const d = vscode.languages.getDiagnostics(doc.uri).filter((x) => x.severity === vscode.DiagnosticSeverity.Error);
        return d.length > 0 ? d : undefined;
      }, 30_000);
      assert.equal(diagnostics[0]!.range.start.line, 1, 'the error is on the bad line');
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, diagnostics[0]!.range, vscode.CodeActionKind.QuickFix.value);
      assert.ok(actions.some((a) => a.title === 'Insert a space after "-"'), JSON.stringify(actions.map((a) => a.title)));
      const before = readdirSync(target).sort();
      const refused = await vscode.commands.executeCommand<BackupNowOutcome>('shadowSlots.backupNow');
      assert.equal(refused.kind, 'failed', JSON.stringify(refused));
      if (refused.kind === 'failed') {
        assert.match(refused.message, /^\.shadowslots-filter, line 2: invalid modifier 'n'/);
        assert.doesNotMatch(refused.message, /exclude\.c|shadow-slots filter check/, 'the engine\'s diagnostic, not rsync\'s line or a pointer to the CLI');
        assert.deepEqual(refused.details?.['filterRule'], { file: filterFile, line: 1, character: 1 });
      }
      assert.deepEqual(readdirSync(target).sort(), before);
      // A valid file: the preview runs rsync's dry run with it (the engine reads the settings' profile).
      writeFileSync(filterFile, '- /src/deep/\n- *.nothing\n');
      writeFileSync(path.join(workspace, 'new-file.txt'), 'new\n');
      const shown = await vscode.commands.executeCommand<{ html: string; model: { groups: Array<{ id: string; title: string; count: number }> } } | undefined>('shadowSlots.previewBackup');
      assert.ok(shown, 'Preview Backup returned what it shows');
      assert.match(shown.html, /Preview of the next backup of/);
      assert.match(shown.html, /new-file\.txt/);
      assert.match(shown.html, /line 1: - \/src\/deep\/<\/a><\/td><td>excludes 1 file/);
      assert.match(shown.html, /Deciding nothing now: .*line 2: - \*\.nothing/);
      const excluded = shown.model.groups.find((g) => g.id.startsWith('excluded-'));
      assert.ok(excluded, JSON.stringify(shown.model.groups));
      assert.equal(excluded.title, 'No longer backed up: excluded by line 1: - /src/deep/');
      const tab = await waitFor(async () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label.startsWith('Preview Backup')));
      assert.ok(tab.input instanceof vscode.TabInputWebview, `shown in a webview, not an unsaved document: ${JSON.stringify(tab.input)}`);
      assert.ok(!vscode.workspace.textDocuments.some((d) => d.isUntitled), 'no untitled document');
    } finally {
      rmSync(filterFile, { force: true });
      rmSync(path.join(workspace, 'new-file.txt'), { force: true });
    }
  });

  it('Compare with Workspace on a file deleted from the workspace names every backup that has it', async function () {
    const slots = (await children()).filter((n) => n.kind === 'slot' && n.slot.number !== null);
    assert.ok(slots.length >= 2, 'two slots hold notes.txt');
    const kept = readFileSync(path.join(workspace, 'notes.txt'));
    rmSync(path.join(workspace, 'notes.txt'));
    try {
      const said = vscode.commands.executeCommand<string>('shadowSlots.compareWithWorkspace', await fileNode('notes.txt'));
      const message = await said;
      assert.match(message, new RegExp(`^"notes\\.txt" is no longer in the workspace; 2 backups have it: ${today} \\d\\d:\\d\\d \\(slot 0\\) and ${today} \\d\\d:\\d\\d \\(slot 1\\)\\.$`));
    } finally {
      writeFileSync(path.join(workspace, 'notes.txt'), kept);
    }
  });

  it('Compare Folder with Slot… opens one multi-file diff of what differs; Restore Folder from Slot… restores it and keeps the current one aside', async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const src = vscode.Uri.file(path.join(workspace, 'src'));
    writeFileSync(path.join(workspace, 'src', 'main.ts'), 'export const answer = 43;\n');
    writeFileSync(path.join(workspace, 'src', 'added.ts'), 'new\n');
    const diff = await vscode.commands.executeCommand<{ changed: string[]; onlyInSlot: string[]; onlyInWorkspace: string[] }>('shadowSlots.compareFolderWithSlot', src, 0);
    assert.deepEqual(diff, { changed: ['main.ts'], onlyInSlot: [], onlyInWorkspace: ['added.ts'], truncated: false });
    const tab = await waitFor(async () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => /^src: backup of /.test(t.label)));
    assert.match(tab.label, /1 changed file, 0 only in the backup, 1 new/);
    const restored = await vscode.commands.executeCommand<{ keptAside: string | null } | undefined>('shadowSlots.restoreFolderFromSlot', src, 0, { confirmed: true });
    assert.ok(restored?.keptAside);
    assert.equal(readFileSync(path.join(workspace, 'src', 'main.ts'), 'utf8'), 'export const answer = 42;\n');
    assert.ok(findFileWithContent(restored.keptAside, 'new\n'), 'files added since went aside with the folder');
    rmSync(restored.keptAside, { recursive: true, force: true });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Verify names a damaged file, marks the slot in the view and explains the hard links (run last: it damages slot 0)', async function () {
    const damaged = path.join(target, '0', 'src', 'deep', 'data file & co.json');
    writeFileSync(damaged, '{"a": 2}\n');
    const [slot] = await children();
    const result = await vscode.commands.executeCommand<{ ok: boolean; changed: string[] } | undefined>('shadowSlots.verifySlot', slot);
    assert.ok(result);
    assert.equal(result.ok, false);
    assert.deepEqual(result.changed, ['src/deep/data file & co.json']);
    const [after] = await children();
    const item = api.slotsTree.getTreeItem(after!) as vscode.TreeItem;
    assert.match(String(item.description), /^damaged \u00b7 /);
    assert.match((item.tooltip as vscode.MarkdownString).value, /found 1 file that differ.*`src\/deep\/data file & co\.json`/);
  });

  async function children(node?: SlotsNode): Promise<SlotsNode[]> {
    return (await api.slotsTree.getChildren(node)) ?? [];
  }
  function label(node: SlotsNode): string {
    const l = (api.slotsTree.getTreeItem(node) as vscode.TreeItem).label;
    return typeof l === 'string' ? l : l?.label ?? '';
  }
  async function fileNode(name: string): Promise<SlotsNode> {
    const [slot] = await children();
    const node = (await children(slot)).find((n) => label(n) === name);
    assert.ok(node, `${name} is in slot 0`);
    return node;
  }
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function findFileWithContent(dir: string, content: string): string | undefined {
  if (!statSync(dir).isDirectory()) return readFileSync(dir, 'utf8') === content ? dir : undefined;
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) { const f = findFileWithContent(p, content); if (f) return f; }
    else if (readFileSync(p, 'utf8') === content) return p;
  }
  return undefined;
}
