// Runs INSIDE the real extension host, after extension.test.ts: a ring on a server over SSH. The
// server is a real OpenSSH sshd on 127.0.0.1 with keys made for this test (test/helpers/sshd.ts),
// stopped and its folder removed in after(), also when a test fails. The engine finds the test's
// client config through SHADOW_SLOTS_SSH_CONFIG, which the harness sets for code-server (the
// engine inherits it): this test writes that file once its sshd runs.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import * as vscode from 'vscode';
import type { ShadowSlotsApi } from '../../../src/extension';
import type { SlotsNode } from '../../../src/ui/slots/slotsTree';
import type { BackupNowOutcome } from '../../../src/ui/backup/backupCommands';
import { startSshd, sshdUnavailable, type TestSshd } from '../../helpers/sshd';
import { waitFor } from './waitFor';

const EXTENSION_ID = 'shadow-slots.shadow-slots';
const NOTE = 'remote note $(x) & \'q\'.txt';

describe('A ring on a server over SSH, in a real VS Code', function () {
  let api: ShadowSlotsApi;
  let workspace: string;
  let sshd: TestSshd | undefined;
  let ring: string | undefined;
  let remoteTarget: string;
  const cleanups: Array<() => Promise<void> | void> = [];

  before(async function () {
    const why = sshdUnavailable();
    const configPath = process.env['SHADOW_SLOTS_SSH_CONFIG'];
    if (why || !configPath) {
      console.log(`remote ring tests skipped: ${why ?? 'SHADOW_SLOTS_SSH_CONFIG is not set for this editor (test/vscode/run.mjs sets it)'}`);
      this.skip();
    }
    api = await vscode.extensions.getExtension<ShadowSlotsApi>(EXTENSION_ID)!.activate();
    workspace = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    sshd = await startSshd({ after: (fn) => cleanups.push(fn) });
    mkdirSync(path.dirname(configPath!), { recursive: true });
    copyFileSync(sshd.configFile, configPath!);
    cleanups.push(() => rmSync(configPath!, { force: true }));
    ring = mkdtempSync(path.join(tmpdir(), 'shadow-slots-e2e-remote-'));
    cleanups.push(() => rmSync(ring!, { recursive: true, force: true }));
    // An existing folder: the engine never creates a missing target (a server's disk may be unmounted).
    remoteTarget = sshd.target(ring);
    writeFileSync(path.join(workspace, NOTE), 'kept on the server\n');
    cleanups.push(() => rmSync(path.join(workspace, NOTE), { force: true }));
    const c = vscode.workspace.getConfiguration('shadowSlots');
    await c.update('snapshot', 'none', vscode.ConfigurationTarget.Workspace);
    await c.update('excludes', ['/.vscode/'], vscode.ConfigurationTarget.Workspace);
    await c.update('target', remoteTarget, vscode.ConfigurationTarget.Workspace);
  });

  after(async function () {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const c = vscode.workspace.getConfiguration('shadowSlots');
    for (const key of ['target', 'snapshot', 'excludes']) await c.update(key, undefined, vscode.ConfigurationTarget.Workspace);
    // Reverse order: the sshd stops before its folder (and the ring) go.
    for (const fn of cleanups.reverse()) await fn();
  });

  it('backs up to an ssh:// target; the Slots view shows slot 0 and names the host', async function () {
    const outcome = await vscode.commands.executeCommand<BackupNowOutcome>('shadowSlots.backupNow');
    assert.equal(outcome.kind, 'done', JSON.stringify(outcome));
    if (outcome.kind === 'done') assert.equal(outcome.result.slot.number, 0);
    // Written by the server's rsync into the ring's folder (the test's sshd runs on this machine).
    assert.ok(readdirSync(path.join(ring!, '0')).includes(NOTE));
    const slots = await waitFor(async () => { const s = (await children()).filter(complete); return s.length === 1 ? s : undefined; });
    assert.equal(slots[0]!.kind === 'slot' ? slots[0]!.slot.number : -1, 0);
    // Copy Path names the server: the slot's folder is not on this computer.
    const note = (await children(slots[0])).find((n) => label(n) === NOTE);
    assert.ok(note, `${NOTE} is in slot 0`);
    assert.equal(await vscode.commands.executeCommand<string>('shadowSlots.copyPath', note), `${sshd!.user}@127.0.0.1:${sshd!.port}:${path.join(ring!, '0', NOTE)}`);
  });

  it('browses slot 0 through the engine and opens a file from it read-only', async function () {
    const [slot] = (await children()).filter(complete);
    const names = (await children(slot)).map(label);
    assert.ok(names.includes(NOTE), names.join(', '));
    assert.ok(names.includes('src'), 'folders of the slot are listed too');
    const file = (await children(slot)).find((n) => label(n) === NOTE)!;
    await vscode.commands.executeCommand('shadowSlots.openSlotFile', file);
    const editor = await waitFor(async () => vscode.window.activeTextEditor?.document.uri.scheme === 'shadow-slots' ? vscode.window.activeTextEditor : undefined);
    assert.equal(editor.document.getText(), 'kept on the server\n');
    assert.equal(editor.document.uri.path, `/0/${NOTE.replace(/\.txt$/, ' (slot 0).txt')}`);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(editor.document.uri, Buffer.from('changed'))), /NoPermissions|permission|read-only|readonly/i);
  });

  it('lists the remote ring again when the Slots view comes into sight (nothing watches a server)', async function () {
    await vscode.commands.executeCommand('workbench.view.explorer');
    // Another machine's run, as the CLI shipped in the .vsix does it, while the view is hidden (of
    // the same unchanged files: a slot all the same, or there would be nothing new to list).
    const cli = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'cli.js');
    const r = spawnSync(process.execPath, [cli, 'backup', '--source', workspace, '--target', remoteTarget, '--snapshot', 'none', '--exclude', '/.vscode/', '--no-skip-unchanged'], { encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
    assert.equal(r.status, 0, r.stderr);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal((await children()).filter(complete).length, 1, 'a hidden view does not list the server');
    await vscode.commands.executeCommand('shadowSlots.slots.focus');
    const slots = await waitFor(async () => { const s = (await children()).filter(complete); return s.length === 2 ? s : undefined; });
    assert.deepEqual(slots.map((n) => n.kind === 'slot' ? n.slot.number : -1), [0, 1]);
  });

  async function children(node?: SlotsNode): Promise<SlotsNode[]> {
    return (await api.slotsTree.getChildren(node)) ?? [];
  }
  function label(node: SlotsNode): string {
    const l = (api.slotsTree.getTreeItem(node) as vscode.TreeItem).label;
    return typeof l === 'string' ? l : l?.label ?? '';
  }
});

function complete(n: SlotsNode): boolean {
  return n.kind === 'slot' && n.slot.number !== null;
}
