// The static half of "every declared command is registered and every registered command is
// declared" (the other half runs inside VS Code with vscode.commands.getCommands, see
// test/vscode/suite). Catches a renamed id or a forgotten contribution without starting an editor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Commands } from '../../../src/ui/commandIds';

const root = join(import.meta.dirname, '..', '..', '..');

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...await sources(p));
    else if (e.name.endsWith('.ts')) out.push(await readFile(p, 'utf8'));
  }
  return out;
}

test('package.json declares exactly the registered commands', async () => {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  const declared: string[] = pkg.contributes.commands.map((c: { command: string }) => c.command);
  const text = (await sources(join(root, 'src', 'ui'))).join('\n') + await readFile(join(root, 'src', 'extension.ts'), 'utf8');

  const byConstant = [...text.matchAll(/registerCommand\(\s*Commands\.(\w+)/g)].map((m) => m[1]!);
  for (const key of byConstant) assert.ok(key in Commands, `registerCommand(Commands.${key}) is not in commandIds.ts`);
  const registered = new Set([
    ...byConstant.map((k) => Commands[k as keyof typeof Commands]),
    ...[...text.matchAll(/registerCommand\(\s*['"`]([^'"`]+)['"`]/g)].map((m) => m[1]!),
  ]);

  for (const id of Object.values(Commands)) assert.ok(registered.has(id), `${id} is in commandIds.ts but never registered`);
  for (const id of registered) assert.ok(declared.includes(id), `${id} is registered but not declared in package.json contributes.commands`);
  for (const id of declared) {
    // Feature modules with their own id constants (schedule, windows) must at least spell the id.
    assert.ok(registered.has(id) || text.includes(`'${id}'`), `${id} is declared in package.json but no code registers it`);
  }
  assert.equal(new Set(declared).size, declared.length, 'a command is declared twice');
});

test('every declared command has the "Shadow Slots" category, and menus only name declared commands', async () => {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  const declared = new Set<string>(pkg.contributes.commands.map((c: { command: string }) => c.command));
  for (const c of pkg.contributes.commands) assert.equal(c.category, 'Shadow Slots', `${c.command} has no category`);
  for (const [menu, items] of Object.entries(pkg.contributes.menus as Record<string, Array<{ command?: string }>>)) {
    for (const item of items) if (item.command) assert.ok(declared.has(item.command) || item.command.startsWith(`${'shadowSlots.slots'}.`), `${menu} names undeclared ${item.command}`);
  }
  const hidden = new Set(pkg.contributes.menus.commandPalette.filter((m: { when?: string }) => m.when === 'false').map((m: { command: string }) => m.command));
  for (const id of [Commands.openSlotFile, Commands.compareWithWorkspace, Commands.restore, Commands.revealInFileManager, Commands.copyPath]) {
    assert.ok(hidden.has(id), `${id} needs a tree node and must be hidden from the palette`);
  }
  for (const [key, setting] of Object.entries(pkg.contributes.configuration.properties as Record<string, { description?: string; markdownDescription?: string }>)) {
    assert.ok((setting.description ?? setting.markdownDescription ?? '').length > 20, `${key} has no description`);
  }
});
