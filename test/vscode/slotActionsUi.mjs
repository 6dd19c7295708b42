/* global window, document -- these run in the page (Playwright evaluates them in the browser) */
// The slot actions of issue 18 as a user meets them, in the window the UI journeys (ui.mjs) left
// open, on the ring they made: palette, right-clicks, the dialogs, the keyboard; what is on screen
// is asserted, the ring on disk checked, and each step saves .test-output/vscode-12<x>-*.png.
//   12a Back Up Now with nothing changed: no slot, "no changes" in the toast and the status bar
//   12b a slot row's menu: Label Slot… (an over-long label is refused in the input), the row shows it
//   12c Restore Whole Slot to Folder…: the picker opens outside the workspace, a folder that is not
//       empty gets a new folder inside it, the files land there
//   12d Verify finds damage and offers the repair; Repair rewrites the file from the source
//   12e Delete Slot…: a modal that says what is lost; the row and the folder go
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { quietNotifications, runCommand, showSlots, step } from './uiSteps.mjs';
import { contextMenu, dialogPath, shot, toast, waitToast } from './ui.mjs';

export const SLOT_ACTIONS_UI_TESTS = 5;

const rows = (page) => page.locator('.part.sidebar .pane-body .monaco-list-row', { hasText: /\d\d:\d\d/ });
const numbered = async (target) => (await readdir(target)).filter((n) => /^\d+$/.test(n)).sort();

export async function slotActionsUiTest({ page, workspace, target, tools, outDir }) {
  const results = [];
  const statusItem = page.locator('.statusbar-item', { hasText: /Backup|No backup/ }).first();
  // Only what this step shows counts: earlier journeys said similar things ("Backup complete:", "is damaged").
  const forgetToasts = () => page.evaluate(() => { window.__toasts.length = 0; });
  const journey = async (name, fn) => {
    const ok = await step(results, name, async () => {
      try { await forgetToasts(); await fn(); } catch (error) {
        await shot(page, outDir, `12-failed-${results.length}`).catch(() => undefined);
        for (let i = 0; i < 2; i++) await page.keyboard.press('Escape').catch(() => undefined);
        throw error;
      }
    }, page);
    return ok;
  };
  const backUp = async (re) => {
    await quietNotifications(page);
    await forgetToasts();
    await runCommand(page, 'Shadow Slots: Back Up Now');
    return waitToast(page, re, 120_000);
  };

  await journey('UI 12a: Back Up Now with nothing changed makes no slot; the toast and the status bar say "no changes"', async () => {
    await page.keyboard.press('Escape');
    // A change first, so the ring has a second slot for 12e whatever the earlier journeys did (UI 09
    // leaves a valid filter file when it passes; written here so a failed UI 09 stops nothing).
    await writeFile(join(workspace, '.shadowslots-filter'), '- data/\n');
    await writeFile(join(workspace, 'added-for-12.txt'), 'new\n');
    await backUp(/Backup complete:/);
    const before = await numbered(target);
    const said = await backUp(/No changes since the backup of/);
    if (!/no new slot was made, so the oldest backup was kept/.test(said)) throw new Error(said);
    if (JSON.stringify(await numbered(target)) !== JSON.stringify(before)) throw new Error(`a slot was added: ${await numbered(target)}`);
    await page.locator('.statusbar-item', { hasText: /no changes/ }).first().waitFor({ timeout: 15_000 });
    if (!/Backup (just now|\d+ min ago) · no changes/.test((await statusItem.innerText()).replace(/\s+/g, ' '))) throw new Error(`status bar: ${await statusItem.innerText()}`);
    await shot(page, outDir, '12a-no-changes');
  });

  await journey('UI 12b: a slot row offers Label Slot…, Restore Whole Slot to Folder…, Delete Slot…; an over-long label is refused in the input, a good one shows in the row', async () => {
    await showSlots(page);
    const row = rows(page).first();
    await row.waitFor({ timeout: 20_000 });
    await row.click({ button: 'right' });
    for (const item of ['Label Slot…', 'Restore Whole Slot to Folder…', 'Delete Slot…', 'Verify Slot']) {
      await page.locator('.context-view .action-item', { hasText: item }).first().waitFor({ timeout: 10_000 });
    }
    await shot(page, outDir, '12b-slot-menu');
    await page.keyboard.press('Escape');
    await contextMenu(page, row, 'Label Slot…');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ timeout: 10_000 });
    await input.fill('x'.repeat(101));
    const message = page.locator('.quick-input-widget .quick-input-message');
    await page.waitForFunction(() => /cannot be used: it is longer than 100 characters/.test(document.querySelector('.quick-input-widget .quick-input-message')?.textContent ?? ''), null, { timeout: 10_000 }).catch(async () => {
      throw new Error(`no validation message: ${await message.innerText().catch(() => '')}`);
    });
    await shot(page, outDir, '12b-label-refused');
    await input.fill('before the refactoring');
    await page.keyboard.press('Enter');
    await rows(page).filter({ hasText: 'before the refactoring' }).first().waitFor({ timeout: 15_000 });
    const manifests = join(target, '.shadow-slots', 'manifests');
    const labelled = [];
    for (const f of await readdir(manifests)) if (JSON.parse(await readFile(join(manifests, f), 'utf8')).label === 'before the refactoring') labelled.push(f);
    if (labelled.length !== 1) throw new Error(`manifests with the label: ${labelled}`);
    await shot(page, outDir, '12b-labelled-row');
  });

  await journey('UI 12c: Restore Whole Slot to Folder… opens outside the workspace; a folder that is not empty gets a new folder inside it; the files land there', async () => {
    await contextMenu(page, rows(page).first(), 'Restore Whole Slot to Folder…');
    const box = dialogPath(page);
    await page.waitForFunction(() => /\/$/.test(document.querySelector('.quick-input-widget .quick-input-box input')?.value ?? ''), null, { timeout: 15_000 });
    const start = await box.inputValue();
    if (start.startsWith(workspace)) throw new Error(`the picker opened inside the workspace: ${start}`);
    await shot(page, outDir, '12c-restore-picker');
    await page.waitForTimeout(300);
    await box.fill(`${tools}/`);
    await page.waitForTimeout(500);
    await page.locator('.quick-input-widget .quick-input-action .monaco-button', { hasText: 'Restore Here' }).first().click();
    // tools/ holds the slow rsync: a new folder inside it is proposed.
    await page.waitForFunction(() => /is not empty, and a restore never merges/.test(document.querySelector('.quick-input-widget')?.textContent ?? ''), null, { timeout: 15_000 });
    const proposed = await page.locator('.quick-input-widget .quick-input-box input').inputValue();
    if (!/^ws-ui \d{4}-\d\d-\d\d \d{4}$/.test(proposed)) throw new Error(`proposed folder name: ${proposed}`);
    await shot(page, outDir, '12c-new-folder-name');
    await page.keyboard.press('Enter');
    await waitToast(page, /Restored the backup of .* into /, 60_000);
    const restored = join(tools, proposed);
    const app = await readFile(join(restored, 'src', 'app.ts'), 'utf8');
    if (app !== await readFile(join(target, '0', 'src', 'app.ts'), 'utf8')) throw new Error(`restored app.ts: ${app}`);
    await shot(page, outDir, '12c-restored');
  });

  await journey('UI 12d: Verify names the damage and offers Repair; Repair rewrites the file from the source and the backup is intact again', async () => {
    const good = await readFile(join(target, '0', 'src', 'app.ts'), 'utf8');
    await writeFile(join(target, '0', 'src', 'app.ts'), 'scribbled over\n');
    await contextMenu(page, rows(page).first(), 'Verify Slot');
    const said = await waitToast(page, /is damaged: 1 file \(1 changed\): "src\/app\.ts"/);
    if (!/It can be repaired from the source, whose checksum still matches/.test(said)) throw new Error(said);
    await page.waitForTimeout(800);
    await shot(page, outDir, '12d-verify-offers-repair');
    await toast(page, /is damaged/).locator('.monaco-button', { hasText: 'Repair 1 File' }).click();
    const done = await waitToast(page, /Repaired "src\/app\.ts" from the source/, 60_000);
    if (!/intact again/.test(done)) throw new Error(done);
    if (await readFile(join(target, '0', 'src', 'app.ts'), 'utf8') !== good) throw new Error('the file was not repaired on disk');
    await rows(page).filter({ hasText: /damaged · / }).first().waitFor({ state: 'detached', timeout: 10_000 });
    await shot(page, outDir, '12d-repaired');
  });

  await journey('UI 12e: Delete Slot… asks in a modal that says what is lost; the row and its folder go, the other slot moves up', async () => {
    const before = await numbered(target);
    if (before.length < 2) throw new Error(`needs two slots: ${before}`);
    const count = await rows(page).count();
    await contextMenu(page, rows(page).nth(1), 'Delete Slot…');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 10_000 });
    const text = (await dialog.innerText()).replace(/\s+/g, ' ');
    if (!/Delete the backup of .*\(slot 1\)\?/.test(text) || !/for good; it cannot be undone/.test(text) || !/Files it shares with other backups stay in them/.test(text)) throw new Error(`the confirmation: ${text}`);
    await shot(page, outDir, '12e-delete-confirm');
    await dialog.locator('.monaco-button', { hasText: 'Delete Backup' }).click();
    // How many are left depends on the journeys before this one (UI 12 adds a backup): one fewer than before.
    const left = before.length - 1;
    await waitToast(page, new RegExp(`Deleted the backup of .*\\(slot 1\\)\\. ${left} backups? left\\.`), 60_000);
    await page.waitForFunction((n) => document.querySelectorAll('.part.sidebar .pane-body .monaco-list-row').length < n, count, { timeout: 15_000 }).catch(() => undefined);
    if (JSON.stringify(await numbered(target)) !== JSON.stringify(before.slice(0, -1))) throw new Error(`slots on disk: ${await numbered(target)}`);
    await shot(page, outDir, '12e-deleted');
  });
  return results;
}
