// Copy-on-write rings in the real VS Code (issues 13, 14): a target on a loop-mounted btrfs makes
// read-only subvolume slots, one on a zfs-fuse pool makes snapshots mounted as read-only clones;
// the Slots view shows them like any other, with what each holds, and opens their files through
// the engine. Runs after extension.test.ts (file order) and leaves the settings as it found them.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import * as vscode from 'vscode';
import type { ShadowSlotsApi } from '../../../src/extension';
import type { SlotsNode } from '../../../src/ui/slots/slotsTree';
import type { BackupNowOutcome } from '../../../src/ui/backup/backupCommands';
import { makeZfsPool, startZfsDaemon, stopZfsDaemon, zfsUnavailable, type ZfsPool } from '../../helpers/zfsPool';

function sh(command: string, args: string[]): void {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${r.stderr || r.error}`);
}

/** Why a btrfs loop file system cannot be made here, or null. */
function btrfsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'loop mounts need root';
  if (!readFileSync('/proc/filesystems', 'utf8').includes('btrfs')) return 'no btrfs in this kernel';
  return spawnSync('mkfs.btrfs', ['-V']).status === 0 ? null : 'mkfs.btrfs is not installed';
}

/**
 * Two backups of a changed file into `ring`, then what a person sees: the tooltip of slot 0 says how
 * slots are stored and (after the listing) the space they hold; slot 1 lists the file and opens
 * the older version, read through the engine.
 */
async function twoBackupsSeenInTheView(api: ShadowSlotsApi, workspace: string, ring: string, storedAs: RegExp, spaceMethod: RegExp): Promise<void> {
  const c = vscode.workspace.getConfiguration('shadowSlots');
  await c.update('snapshot', 'none', vscode.ConfigurationTarget.Workspace);
  await c.update('excludes', ['/.vscode/'], vscode.ConfigurationTarget.Workspace);
  assert.equal(await vscode.commands.executeCommand<string>('shadowSlots.configureTarget', vscode.Uri.file(ring)), ring);
  for (const content of ['first\n', 'second\n']) {
    writeFileSync(path.join(workspace, 'cow-note.txt'), content);
    const outcome = await vscode.commands.executeCommand<BackupNowOutcome>('shadowSlots.backupNow');
    assert.equal(outcome.kind, 'done', JSON.stringify(outcome));
  }
  assert.ok(existsSync(path.join(ring, '1')), 'two slots');
  const tooltipOf = (node: SlotsNode) => ((api.slotsTree.getTreeItem(node) as vscode.TreeItem).tooltip as vscode.MarkdownString).value;
  // The view lists the ring again after the run (watcher, coalesced), and space is measured after
  // that listing (it reads the slots): the second slot, then its figures, appear a moment later.
  // zfs-fuse answers ZFS's space questions slowly on a loaded machine (20 s was not always enough).
  let tooltip = '';
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    const roots = (await api.slotsTree.getChildren()) ?? [];
    const slot0 = roots.find((n) => n.kind === 'slot' && n.slot.number === 0);
    tooltip = slot0 ? tooltipOf(slot0) : '';
    if (roots.some((n) => n.kind === 'slot' && n.slot.number === 1) && /freed if deleted now/.test(tooltip)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.match(tooltip, storedAs);
  assert.match(tooltip, spaceMethod);
  const roots = (await api.slotsTree.getChildren()) ?? [];
  const slot1 = roots.find((n) => n.kind === 'slot' && n.slot.number === 1);
  assert.ok(slot1, 'the view lists slot 1');
  const files = (await api.slotsTree.getChildren(slot1)) ?? [];
  const labelOf = (n: SlotsNode) => { const l = (api.slotsTree.getTreeItem(n) as vscode.TreeItem).label; return typeof l === 'string' ? l : l?.label ?? ''; };
  const note = files.find((n) => labelOf(n) === 'cow-note.txt');
  assert.ok(note, `slot 1 lists the file (read through the engine); it shows ${JSON.stringify(files.map(labelOf))}`);
  await vscode.commands.executeCommand('shadowSlots.openSlotFile', note);
  const editor = vscode.window.activeTextEditor;
  assert.equal(editor?.document.getText(), 'first\n', 'the older slot still has the older version');
  assert.equal(editor?.document.uri.scheme, 'shadow-slots');
}

/** Puts the settings this file changes back, and closes what it opened. */
async function restoreSettings(): Promise<void> {
  const c = vscode.workspace.getConfiguration('shadowSlots');
  for (const key of ['snapshot', 'excludes']) await c.update(key, undefined, vscode.ConfigurationTarget.Workspace);
  await c.update('targets', undefined, vscode.ConfigurationTarget.Global);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

describe('A copy-on-write ring in a real VS Code', function () {
  let api: ShadowSlotsApi;
  let workspace: string;
  let dir: string | undefined;
  let mounted = false;

  before(async function () {
    const why = btrfsUnavailable();
    if (why) { console.log(`skipped: ${why}`); this.skip(); }
    api = await vscode.extensions.getExtension<ShadowSlotsApi>('shadow-slots.shadow-slots')!.activate();
    workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    dir = mkdtempSync(path.join(tmpdir(), 'shadow-slots-e2e-btrfs-'));
    sh('truncate', ['-s', '320M', path.join(dir, 'fs.img')]);
    sh('mkfs.btrfs', ['-q', path.join(dir, 'fs.img')]);
    mkdirSync(path.join(dir, 'mnt'));
    sh('mount', ['-o', 'loop', path.join(dir, 'fs.img'), path.join(dir, 'mnt')]);
    mounted = true;
    mkdirSync(path.join(dir, 'mnt', 'ring'));
  });

  after(async function () {
    await restoreSettings();
    if (mounted) spawnSync('umount', [path.join(dir!, 'mnt')]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('backs up into read-only btrfs subvolumes; the Slots view says how each slot is stored and what it holds, and opens its files', async function () {
    await twoBackupsSeenInTheView(api, workspace, path.join(dir!, 'mnt', 'ring'), /Stored as: btrfs copy-on-write snapshots/,
      /Space: .* freed if deleted now; .* shared with other slots \(btrfs filesystem du \(whole extents\)\)/);
  });
});

describe('A ZFS ring in a real VS Code (zfs-fuse)', function () {
  let api: ShadowSlotsApi;
  let workspace: string;
  let dir: string | undefined;
  let pool: ZfsPool | undefined;
  let startedDaemon = false;

  before(async function () {
    const why = zfsUnavailable();
    if (why) { console.log(`skipped: ${why}`); this.skip(); }
    api = await vscode.extensions.getExtension<ShadowSlotsApi>('shadow-slots.shadow-slots')!.activate();
    workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    startedDaemon = startZfsDaemon();
    dir = mkdtempSync(path.join(tmpdir(), 'shadow-slots-e2e-zfs-'));
    pool = makeZfsPool(dir, 256);
    mkdirSync(path.join(pool.mountPoint, 'ring'));
  });

  after(async function () {
    await restoreSettings();
    pool?.cleanup();
    // Only the daemon this test started; pools of this process are destroyed first.
    if (startedDaemon) stopZfsDaemon();
    if (dir && !readFileSync('/proc/mounts', 'utf8').includes(dir)) rmSync(dir, { recursive: true, force: true });
  });

  it('backs up into ZFS snapshots mounted as read-only clones; the Slots view says so, shows ZFS\'s own space figures, and opens a file from slot 1', async function () {
    await twoBackupsSeenInTheView(api, workspace, path.join(pool!.mountPoint, 'ring'), /Stored as: ZFS copy-on-write snapshots/,
      /Space: .* freed if deleted now; .* shared with other slots \(ZFS accounting/);
  });
});
