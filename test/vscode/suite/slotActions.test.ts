// The slot actions of issue 18 inside a real VS Code: each runs through its command (what the
// context menu calls, with the dialog's answer passed in) against the real engine and rsync, and
// the test checks the ring on disk afterwards. Runs after extension.test.js, with a ring of its own.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as vscode from 'vscode';
import { waitFor } from './waitFor';
import type { ShadowSlotsApi } from '../../../src/extension';
import type { SlotsNode } from '../../../src/ui/slots/slotsTree';
import type { BackupNowOutcome } from '../../../src/ui/backup/backupCommands';
import type { DeleteSlotResult, LabelResult, RepairResult, RestoreResult } from '../../../src/rpc/protocol';

const EXTENSION_ID = 'shadow-slots.shadow-slots';

describe('Slot actions in a real VS Code', function () {
  let api: ShadowSlotsApi;
  let workspace: string;
  let target: string;
  let scratch: string;

  before(async function () {
    api = await vscode.extensions.getExtension<ShadowSlotsApi>(EXTENSION_ID)!.activate();
    workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    target = mkdtempSync(path.join(tmpdir(), 'shadow-slots-e2e-actions-'));
    scratch = mkdtempSync(path.join(tmpdir(), 'shadow-slots-e2e-restore-'));
    const c = vscode.workspace.getConfiguration('shadowSlots');
    await c.update('snapshot', 'none', vscode.ConfigurationTarget.Workspace);
    await c.update('excludes', ['/.vscode/'], vscode.ConfigurationTarget.Workspace);
    assert.equal(await vscode.commands.executeCommand<string>('shadowSlots.configureTarget', vscode.Uri.file(target)), target);
    writeFileSync(path.join(workspace, 'actions.txt'), 'day 1\n');
    for (const day of [1, 2, 3]) {
      writeFileSync(path.join(workspace, 'actions.txt'), `day ${day}\n`);
      const outcome = await vscode.commands.executeCommand<BackupNowOutcome>('shadowSlots.backupNow');
      assert.equal(outcome.kind, 'done', JSON.stringify(outcome));
    }
    await waitFor(async () => ((await slots()).length === 3 ? true : undefined));
  });

  after(async function () {
    const c = vscode.workspace.getConfiguration('shadowSlots');
    for (const key of ['target', 'snapshot', 'excludes', 'skipUnchanged']) await c.update(key, undefined, vscode.ConfigurationTarget.Workspace);
    await c.update('targets', undefined, vscode.ConfigurationTarget.Global);
    rmSync(path.join(workspace, 'actions.txt'), { force: true });
    for (const dir of [target, scratch]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('Back Up Now with nothing changed makes no slot (the oldest is kept); with shadowSlots.skipUnchanged off it makes one', async function () {
    const before = numbered();
    const outcome = await vscode.commands.executeCommand<BackupNowOutcome>('shadowSlots.backupNow');
    assert.equal(outcome.kind, 'done', JSON.stringify(outcome));
    if (outcome.kind === 'done') assert.equal(outcome.result.outcome, 'unchanged');
    assert.deepEqual(numbered(), before, 'no slot was added');
    assert.equal(readFileSync(path.join(target, '2', 'actions.txt'), 'utf8'), 'day 1\n', 'the oldest slot is still there');
    const c = vscode.workspace.getConfiguration('shadowSlots');
    await c.update('skipUnchanged', false, vscode.ConfigurationTarget.Workspace);
    try {
      const forced = await vscode.commands.executeCommand<BackupNowOutcome>('shadowSlots.backupNow');
      assert.equal(forced.kind === 'done' ? forced.result.outcome : forced.kind, 'complete');
      assert.deepEqual(numbered(), ['0', '1', '2', '3']);
    } finally {
      await c.update('skipUnchanged', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await waitFor(async () => ((await slots()).length === 4 ? true : undefined));
  });

  it('Label Slot… stores the label in the slot\'s manifest and the row shows it; an unsafe label changes nothing', async function () {
    const [, second] = await slots();
    const id = second!.kind === 'slot' ? second!.slot.id : '';
    const labelled = await vscode.commands.executeCommand<LabelResult | undefined>('shadowSlots.labelSlot', second, 'before the refactoring');
    assert.equal(labelled?.label, 'before the refactoring');
    assert.equal(manifest(id)['label'], 'before the refactoring');
    const row = await waitFor(async () => {
      const r = (await slots()).find((n) => n.kind === 'slot' && n.slot.id === id);
      const item = r && api.slotsTree.getTreeItem(r) as vscode.TreeItem;
      return item && String(item.label).includes('before the refactoring') ? item : undefined;
    });
    assert.match(String(row.label), /^\d\d:\d\d \u00b7 before the refactoring$/);
    const refused = await vscode.commands.executeCommand<LabelResult | undefined>('shadowSlots.labelSlot', await slotWithId(id), 'two\nlines');
    assert.equal(refused, undefined);
    assert.equal(manifest(id)['label'], 'before the refactoring', 'the refused label was not stored');
  });

  it('Delete Slot… deletes the backup for good; the older ones move down, keeping their labels', async function () {
    const all = await slots();
    const ids = all.map((n) => (n.kind === 'slot' ? n.slot.id : ''));
    const result = await vscode.commands.executeCommand<DeleteSlotResult | undefined>('shadowSlots.deleteSlot', all[0], { confirmed: true });
    assert.equal(result?.remaining, 3);
    assert.deepEqual(numbered(), ['0', '1', '2']);
    assert.ok(!existsSync(path.join(target, '.shadow-slots', 'manifests', `${ids[0]}.json`)), 'its manifest went with it');
    assert.equal(manifest(ids[1]!)['label'], 'before the refactoring');
    const ring = JSON.parse(readFileSync(path.join(target, '.shadow-slots', 'ring.json'), 'utf8')) as { entries: Array<{ number: number; id: string }> };
    assert.deepEqual(ring.entries.map((e) => [e.number, e.id]), [[0, ids[1]], [1, ids[2]], [2, ids[3]]]);
    await waitFor(async () => ((await slots()).length === 3 ? true : undefined));
  });

  it('Restore Whole Slot to Folder… copies the backup into a new folder; a folder inside the workspace is refused and nothing is written', async function () {
    const oldest = (await slots())[2]!;
    const into = path.join(scratch, 'restored project');
    const restored = await vscode.commands.executeCommand<RestoreResult | undefined>('shadowSlots.restoreSlotTo', oldest, vscode.Uri.file(into));
    assert.deepEqual(restored?.restored, [into]);
    assert.equal(readFileSync(path.join(into, 'actions.txt'), 'utf8'), 'day 1\n');
    assert.equal(readFileSync(path.join(into, 'src', 'main.ts'), 'utf8'), readFileSync(path.join(target, '2', 'src', 'main.ts'), 'utf8'));
    const inside = path.join(workspace, 'restored-here');
    assert.equal(await vscode.commands.executeCommand('shadowSlots.restoreSlotTo', oldest, vscode.Uri.file(inside)), undefined);
    assert.ok(!existsSync(inside), 'nothing was written into the workspace');
    const busy = path.join(scratch, 'busy');
    mkdirSync(busy);
    writeFileSync(path.join(busy, 'mine.txt'), 'keep\n');
    assert.equal(await vscode.commands.executeCommand('shadowSlots.restoreSlotTo', oldest, vscode.Uri.file(busy)), undefined);
    assert.deepEqual(readdirSync(busy), ['mine.txt'], 'a folder with something in it is never merged into');
  });

  it('Verify offers a repair for damage; Repair Damaged Files… rewrites the file from the source and Verify is clean again', async function () {
    const damaged = path.join(target, '0', 'actions.txt');
    const good = readFileSync(damaged, 'utf8');
    writeFileSync(damaged, 'scribbled over\n');
    const newest = (await slots())[0]!;
    const verify = await vscode.commands.executeCommand<{ ok: boolean; changed: string[] } | undefined>('shadowSlots.verifySlot', newest);
    assert.deepEqual(verify?.changed, ['actions.txt']);
    const marked = await waitFor(async () => {
      const n = (await slots())[0]!;
      return (api.slotsTree.getTreeItem(n) as vscode.TreeItem).contextValue === 'slot:complete:damaged' ? n : undefined;
    });
    const repaired = await vscode.commands.executeCommand<RepairResult | undefined>('shadowSlots.repairSlot', marked, { confirmed: true });
    assert.equal(repaired?.repaired, 1, JSON.stringify(repaired));
    assert.deepEqual(repaired?.files[0]?.from, { kind: 'source', path: path.join(workspace, 'actions.txt') });
    assert.equal(readFileSync(damaged, 'utf8'), good);
    const again = await vscode.commands.executeCommand<{ ok: boolean } | undefined>('shadowSlots.verifySlot', (await slots())[0]);
    assert.equal(again?.ok, true);
    const item = api.slotsTree.getTreeItem((await slots())[0]!) as vscode.TreeItem;
    assert.equal(item.contextValue, 'slot:complete', 'the damage mark is gone');
  });

  function numbered(): string[] {
    return readdirSync(target).filter((n) => /^\d+$/.test(n)).sort();
  }
  function manifest(id: string): Record<string, unknown> {
    return JSON.parse(readFileSync(path.join(target, '.shadow-slots', 'manifests', `${id}.json`), 'utf8')) as Record<string, unknown>;
  }
  async function slots(): Promise<SlotsNode[]> {
    return ((await api.slotsTree.getChildren()) ?? []).filter((n) => n.kind === 'slot' && n.slot.number !== null);
  }
  async function slotWithId(id: string): Promise<SlotsNode> {
    return waitFor(async () => (await slots()).find((n) => n.kind === 'slot' && n.slot.id === id));
  }
});
