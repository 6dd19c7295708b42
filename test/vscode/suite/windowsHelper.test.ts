// The elevated-helper commands inside a real VS Code on a non-Windows machine: registered (so the
// command list is the same on every platform), and they explain that the helper is a Windows thing
// instead of failing or doing anything.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { HelperCommandOutcome } from '../../../src/ui/windows/helperCommandIds';

describe('Elevated helper commands off Windows', function () {
  it('Set Up and Remove Elevated Helper are registered and say they only apply on Windows', async function () {
    if (process.platform === 'win32') this.skip();
    const ext = vscode.extensions.getExtension('shadow-slots.shadow-slots')!;
    await ext.activate();
    const palette = ext.packageJSON.contributes.menus.commandPalette as Array<{ command: string; when?: string }>;
    for (const id of ['shadowSlots.setUpElevatedHelper', 'shadowSlots.removeElevatedHelper']) {
      assert.ok((await vscode.commands.getCommands(true)).includes(id), `${id} is registered`);
      assert.equal(palette.find((m) => m.command === id)?.when, 'isWindows', `${id} is in the palette only on Windows`);
      const outcome = await vscode.commands.executeCommand<HelperCommandOutcome>(id);
      assert.equal(outcome.kind, 'unavailable', JSON.stringify(outcome));
      assert.match(outcome.kind === 'unavailable' ? outcome.message : '', /only needed and available on Windows/);
    }
  });
});
