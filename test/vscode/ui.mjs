/* global window, document, MutationObserver -- these run in the page (Playwright evaluates them in the browser) */
// The UI test: what a new user sees, driven only through the palette, clicks and the keyboard
// (no internal hooks), in headless Chromium against code-server. Each journey asserts what is on
// screen and saves .test-output/vscode-<nn>-<journey>.png:
//   01 status bar before any target → 02 Configure Backup Target: the picker opens outside the
//   workspace, the workspace is refused with the reason and the picker reopens, the answer says
//   where the ring is → 03 Back Up Now on a slow copy: progress text (units, plurals, time left)
//   → 04 Explorer: Compare with Slot… (the backup's time, the file's time labelled), a folder's
//   Compare/Restore Folder with Slot… → 05 the slot row fits the default sidebar width → 06 a
//   slot file opens read-only → 07 Compare with Workspace, Restore…, Undo (says what it did, the
//   diff stays open) → 08 Verify names a damaged file and marks the slot → 09 an invalid filter
//   rule stops Back Up Now with the engine's diagnostic; Go to Rule; a quick fix → 10 Preview
//   Backup rendered → 11 ages move on by themselves, tree and status bar agreeing → 12 change
//   marks (M, A, a struck-through D ghost) after a second backup; Find in Slots finds the deleted
//   file and opens its File History. The window stays open for the schedule journeys (scheduleUi.mjs).
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand, showSlots, step } from './uiSteps.mjs';

export const UI_TESTS = 12;

/** A journey that needs an earlier one: reported as not run (a failure) when that one failed. */
async function after(ok, results, name, fn, page) {
  if (!ok) { skipped(results, name, 'an earlier journey it builds on failed'); return false; }
  return step(results, name, page ? closingOnFailure(page, fn, name) : fn, page);
}

/** Where a failed journey's screen is saved (vscode-failed-<journey>.png); set by uiTest. */
let failureShots = null;

/** Closes whatever a failed journey left open (a menu, a quick input), so the next one starts clean. */
function closingOnFailure(page, fn, name) {
  return async () => {
    try {
      await fn();
    } catch (error) {
      const journey = /^UI (\w+)/.exec(name)?.[1] ?? 'journey';
      if (failureShots) await page.screenshot({ path: join(failureShots, `vscode-failed-${journey}.png`) }).catch(() => undefined);
      for (let i = 0; i < 2; i++) await page.keyboard.press('Escape').catch(() => undefined);
      throw error;
    }
  };
}

function skipped(results, name, why) {
  results.push({ name, error: new Error(`not run: ${why}`) });
}

/** Where the fixture puts the throttled rsync; the harness names it in the user settings. */
export function slowRsyncPath(tools) { return join(tools, 'slow-rsync'); }

/**
 * The workspace (no target configured: the journey configures it) and an rsync that copies at
 * 2 MB/s, set as `shadowSlots.rsyncPath` in the user settings as a user could (the harness writes
 * them; see slowRsyncPath): the first backup of 24 MB takes about 12 s, long enough for a rate and a
 * time left to mean something.
 */
async function fixture(workspace, target, tools) {
  await mkdir(target, { recursive: true });
  await mkdir(tools, { recursive: true });
  const slowRsync = slowRsyncPath(tools);
  await writeFile(slowRsync, '#!/bin/sh\nexec rsync --bwlimit=2000 "$@"\n');
  await chmod(slowRsync, 0o755);
  await mkdir(join(workspace, '.vscode'), { recursive: true });
  await writeFile(join(workspace, '.vscode', 'settings.json'), JSON.stringify({
    'shadowSlots.snapshot': 'none', 'shadowSlots.excludes': ['/.vscode/'],
    // No user systemd bus here: the schedule wizard (scheduleUi.mjs) registers a crontab line.
    'shadowSlots.schedule.platform': 'cron',
  }, null, 2));
  await writeFile(join(workspace, 'README.md'), '# A project\n\nBacked up by Shadow Slots.\n');
  await mkdir(join(workspace, 'src'), { recursive: true });
  await writeFile(join(workspace, 'src', 'app.ts'), 'export const hello = "world";\n');
  const data = join(workspace, 'data');
  await mkdir(data, { recursive: true });
  const block = 'x'.repeat(16 * 1000);
  await Promise.all(Array.from({ length: 1500 }, (_, i) => writeFile(join(data, `file-${i}.txt`), `${i}\n${block}`)));
}

const toastTexts = (page) => page.evaluate(() => window.__toasts);

export async function waitToast(page, re, timeout = 30_000) {
  await page.waitForFunction((src) => window.__toasts.some((t) => new RegExp(src).test(t)), re.source, { timeout }).catch(async () => {
    throw new Error(`no notification matching ${re}; seen: ${JSON.stringify(await toastTexts(page))}`);
  });
  return (await toastTexts(page)).find((t) => re.test(t));
}

/** The visible toast matching `re` (a locator), for clicking its buttons. */
export const toast = (page, re) => page.locator('.notifications-toasts .notification-toast', { hasText: re }).first();

export async function contextMenu(page, row, item) {
  const entry = page.locator('.context-view .action-item', { hasText: item }).first();
  const menu = page.locator('.context-view .monaco-menu');
  // A menu can close by itself when the row under it is redrawn, and one still being laid out can
  // swallow a click: open it again then, and click again while it stays open.
  for (let attempt = 1; ; attempt++) {
    try {
      await row.click({ button: 'right' });
      await entry.waitFor({ timeout: 10_000 });
      await entry.hover({ timeout: 3000 });
      await entry.click({ timeout: 3000 });
    } catch (error) {
      if (attempt === 3) throw error;
      await page.keyboard.press('Escape');
      continue;
    }
    // Clicked: never open the menu again (the command could run twice), only click once more if it stayed open.
    if (!(await menu.waitFor({ state: 'hidden', timeout: 3000 }).then(() => true, () => false))) await entry.click({ timeout: 3000 }).catch(() => undefined);
    return;
  }
}

export async function shot(page, outDir, name, locator) {
  await (locator ?? page).screenshot({ path: join(outDir, `vscode-${name}.png`) });
}

/** Hover text of whatever is under the mouse (VS Code's custom hovers). */
async function hoverText(page, locator) {
  const hover = page.locator('.workbench-hover, .monaco-hover').filter({ hasText: /\S/ }).last();
  // A hover opens when the mouse arrives: start from elsewhere each time (a busy machine can miss one).
  for (let attempt = 1; ; attempt++) {
    await page.mouse.move(700, 450);
    await locator.hover();
    try {
      await hover.waitFor({ state: 'visible', timeout: 4000 });
      return (await hover.innerText()).replace(/\s+/g, ' ');
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

/** The simple file dialog code-server shows for showOpenDialog: its path box. */
export const dialogPath = (page) => page.locator('.quick-input-widget .quick-input-box input');

async function chooseFolder(page, folder, okLabel, notIn) {
  const box = dialogPath(page);
  // The dialog fills in its start folder itself once it has listed it: type over it only then.
  await page.waitForFunction((not) => {
    const v = document.querySelector('.quick-input-widget .quick-input-box input')?.value ?? '';
    return /\/$/.test(v) && !(not && v.startsWith(not));
  }, notIn, { timeout: 15_000 });
  await page.waitForTimeout(300);
  await box.fill(`${folder}/`);
  // The dialog lists the folder once it navigated there; then its OK button takes that folder.
  await page.waitForTimeout(500);
  await page.locator('.quick-input-widget .quick-input-action .monaco-button', { hasText: okLabel }).first().click();
}

const pad = (n) => String(n).padStart(2, '0');

export async function uiTest({ browser, url, workspace, target, tools, outDir }) {
  const results = [];
  failureShots = outDir;
  await fixture(workspace, target, tools);
  const page = await browser.newPage();
  // Notifications can come and go between two polls; record every toast text as it renders.
  await page.addInitScript(() => {
    window.__toasts = [];
    const seen = new Set();
    const record = () => {
      for (const t of document.querySelectorAll('.notifications-toasts .notification-toast, .notifications-center .notification-list-item')) {
        const text = (t.innerText ?? t.textContent ?? '').replace(/\s+/g, ' ').trim();
        if (text && !seen.has(text)) { seen.add(text); window.__toasts.push(text); }
      }
    };
    new MutationObserver(record).observe(document, { subtree: true, childList: true, characterData: true });
  });
  const sidebar = page.locator('.part.sidebar');
  // The only slot: a live copy (the fixture's snapshot setting), "HH:MM live copy · <age> · +<added>".
  const slotRow = page.locator('.part.sidebar .monaco-list-row', { hasText: /\d\d:\d\d\s*(damaged · )?live copy · / }).first();
  const statusItem = page.locator('.statusbar-item', { hasText: /Backup|No backup/ }).first();
  try {
    await page.goto(`${url}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    // The installed extension's contributions register once the extension host is up (10–20 s
    // here); a palette opened before that never lists its commands.
    await page.locator('.activitybar [aria-label^="Shadow Slots"]').first().waitFor({ timeout: 90_000 });

    const before = await step(results, 'UI 01: before any target the status bar says so and its tooltip points to Configure Backup Target', async () => {
      await statusItem.waitFor({ timeout: 30_000 });
      const text = (await statusItem.innerText()).trim();
      if (!/No backup target/.test(text)) throw new Error(`status bar reads "${text}"`);
      const tip = await hoverText(page, statusItem);
      if (!/no backup target is configured yet/.test(tip) || /Back Up Now/.test(tip)) throw new Error(`tooltip: ${tip}`);
      await shot(page, outDir, '01-status-before-target');
    });

    const configured = await after(before, results, 'UI 02: Configure Backup Target opens outside the workspace; the workspace is refused with the reason and the picker reopens; the answer says where the ring is', async () => {
      await statusItem.click(); // its command now: Configure Backup Target
      const box = dialogPath(page);
      await page.waitForFunction(() => /\/$/.test(document.querySelector('.quick-input-widget .quick-input-box input')?.value ?? ''), null, { timeout: 15_000 });
      const start = await box.inputValue();
      if (start.startsWith(workspace)) throw new Error(`the picker opened inside the workspace: ${start}`);
      await shot(page, outDir, '02a-picker-outside-workspace');
      await chooseFolder(page, workspace, 'Use as Backup Target');
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ timeout: 15_000 });
      const said = (await dialog.innerText()).replace(/\s+/g, ' ');
      if (!/cannot be the backup target/.test(said) || !/inside|itself|contain/i.test(said)) throw new Error(`the refusal does not say why: ${said}`);
      await shot(page, outDir, '02b-refused-with-reason');
      await dialog.locator('.monaco-button', { hasText: 'Choose Another Folder' }).click();
      await chooseFolder(page, target, 'Use as Backup Target', workspace);
      const message = await waitToast(page, /will be kept in/);
      if (!message.includes(target) || !/not in \.vscode\/settings\.json/.test(message)) throw new Error(`the answer does not say where the ring is and where the choice went: ${message}`);
      await showSlots(page);
      // And the status bar's tooltip keeps saying it.
      const tip = await hoverText(page, statusItem);
      if (!tip.includes(`Slots are kept in ${target}`)) throw new Error(`status bar tooltip: ${tip}`);
      await shot(page, outDir, '02c-target-configured');
      await page.mouse.move(700, 450);
    }, page);

    const backedUp = await after(configured, results, 'UI 03: Back Up Now on a slow copy: the progress shows percent, files, MB and MB/s in one unit system, a time left only once it means something; the summary names the slot by its time', async () => {
      await runCommand(page, 'Shadow Slots: Back Up Now');
      let shotTaken = false;
      const deadline = Date.now() + 120_000;
      for (;;) {
        const toasts = await toastTexts(page);
        if (!shotTaken && toasts.some((t) => /left/.test(t) && /Backing up/.test(t))) {
          await shot(page, outDir, '03a-progress', page.locator('.notifications-toasts'));
          shotTaken = true;
        }
        // "Backup complete:" (the summary), not the progress line's last phase ("…: Backup complete").
        if (toasts.some((t) => /Backup complete:|Backup complete with|Backup failed|Backup partial|Backup cancelled|Backup not started/.test(t))) break;
        if (Date.now() > deadline) throw new Error(`no summary within 120 s: ${JSON.stringify(toasts)}`);
        await page.waitForTimeout(200);
      }
      const toasts = await toastTexts(page);
      const progress = toasts.filter((t) => /Backing up ws-ui/.test(t) && /\d+% ·/.test(t));
      if (progress.length === 0) throw new Error(`no progress text: ${JSON.stringify(toasts)}`);
      const bad = toasts.filter((t) => /MiB|KiB|GiB| KB\b|\b1 files\b|0 ms left|0 B\/s/.test(t));
      if (bad.length > 0) throw new Error(`mixed units, a wrong plural or a meaningless estimate: ${JSON.stringify(bad)}`);
      if (!progress.some((t) => /\d+% · [\d,]+ files, [\d.]+ (kB|MB) · [\d.]+ (kB|MB)\/s · about \d+ (s|min) left/.test(t))) throw new Error(`no progress line with a rate and a time left: ${JSON.stringify(progress)}`);
      if (!shotTaken) throw new Error('the time left was never on screen');
      const summary = toasts.find((t) => /Backup complete:/.test(t));
      const now = new Date();
      const today = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
      if (!summary || !new RegExp(`Backup complete: ${today} \\d\\d:\\d\\d \\(slot 0\\) in [\\d.]+ s\\. \\+150\\d, [\\d.]+ MB copied\\.`).test(summary)) throw new Error(`summary: ${summary}; all: ${JSON.stringify(toasts)}`);
    }, page);

    await after(backedUp, results, 'UI 04: in the Explorer, Compare with Slot… labels the backup\'s time and the file\'s own time; a folder offers Compare Folder with Slot… and Restore Folder from Slot…, and the compare opens one multi-file diff', async () => {
      await writeFile(join(workspace, 'src', 'app.ts'), 'export const hello = "edited";\n');
      await writeFile(join(workspace, 'README.md'), '# A project\n\nEdited after the backup.\n');
      const explorer = page.locator('.part.sidebar .composite.title', { hasText: 'Explorer' });
      if (!(await explorer.isVisible().catch(() => false))) await page.locator('.activitybar [aria-label^="Explorer"]').first().click();
      const readme = page.locator('.part.sidebar .explorer-folders-view .monaco-list-row', { hasText: 'README.md' }).first();
      await readme.waitFor({ timeout: 10_000 });
      await contextMenu(page, readme, 'Compare with Slot…');
      const now = new Date();
      const today = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
      const entry = page.locator('.quick-input-list .monaco-list-row', { hasText: `Backup of ${today}` }).first();
      await entry.waitFor({ timeout: 15_000 }).catch(async (e) => {
        await shot(page, outDir, '04-failed');
        throw new Error(`${e.message}\nnotifications: ${JSON.stringify((await toastTexts(page)).slice(-3))}`);
      });
      const text = (await entry.innerText()).replace(/\s+/g, ' ');
      if (!/slot 0/.test(text) || !/file modified \d{4}-\d\d-\d\d \d\d:\d\d · \d+ bytes/.test(text)) throw new Error(`the picker entry reads "${text}"`);
      await shot(page, outDir, '04a-compare-with-slot-picker');
      await page.keyboard.press('Escape');
      const src = page.locator('.part.sidebar .explorer-folders-view .monaco-list-row', { hasText: /^\s*src\s*$/ }).first();
      await src.click({ button: 'right' });
      for (const item of ['Compare Folder with Slot…', 'Restore Folder from Slot…']) {
        await page.locator('.context-view .action-item', { hasText: item }).first().waitFor({ timeout: 10_000 });
      }
      await shot(page, outDir, '04b-folder-menu');
      await page.locator('.context-view .action-item', { hasText: 'Compare Folder with Slot…' }).first().click();
      await page.locator('.quick-input-list .monaco-list-row', { hasText: today }).first().waitFor({ timeout: 15_000 });
      await page.keyboard.press('Enter');
      await page.locator('.tabs-container .tab', { hasText: /src: backup of .* ↔ workspace \(1 changed file, 0 only in the backup, 0 new\)/ }).first().waitFor({ timeout: 15_000 });
      // Both sides of app.ts are on screen: the backup's line and the edited one.
      for (const line of ['hello = "world"', 'hello = "edited"']) {
        await page.locator('.monaco-editor .view-lines', { hasText: line }).first().waitFor({ timeout: 20_000 });
      }
      await shot(page, outDir, '04c-folder-compare');
      // Back to the Slots view for the rest: it stays on screen from here on (UI 11 watches its ages).
      await showSlots(page);
    }, page);

    const rowOk = await after(backedUp, results, 'UI 05: the slot row fits the default sidebar width (time, state, changes, age); the tooltip has the rest and says "live copy" once', async () => {
      await showSlots(page);
      await slotRow.waitFor({ timeout: 20_000 });
      const text = (await slotRow.innerText()).replace(/\s+/g, ' ');
      // innerText joins the label and its description without a space.
      if (!/^\d\d:\d\d\s*live copy · (just now|1 min ago) · \+150\d$/.test(text.trim())) throw new Error(`the row reads "${text}"`);
      const clipped = await slotRow.evaluate((row) => [...row.querySelectorAll('.monaco-icon-label-container, .label-description, .monaco-icon-name-container')].some((e) => e.scrollWidth > e.clientWidth + 1));
      if (clipped) throw new Error(`the row is cut off at the default sidebar width (${(await sidebar.boundingBox())?.width} px): ${text}`);
      const tip = await hoverText(page, slotRow.locator('.monaco-icon-label').first());
      if (!/live copy \(no snapshot\)/.test(tip)) throw new Error(`tooltip: ${tip}`);
      const warnings = tip.split(/without a snapshot|could change while/i).length - 1;
      if (warnings > 1) throw new Error(`the tooltip repeats the live-copy warning: ${tip}`);
      await shot(page, outDir, '05-slot-row-default-width');
      await page.mouse.move(700, 450);
    }, page);

    const opened = await after(rowOk, results, 'UI 06: a file opened from slot 0 shows its content read-only, the slot in its tab title', async () => {
      await slotRow.click();
      const file = page.locator('.part.sidebar .monaco-list-row', { hasText: 'README.md' }).first();
      const deadline = Date.now() + 20_000;
      while (!(await file.isVisible())) {
        if (Date.now() > deadline) throw new Error('slot 0 did not show its files within 20 s');
        if ((await slotRow.getAttribute('aria-expanded')) === 'false') await slotRow.click();
        await page.waitForTimeout(250);
      }
      await file.click();
      const tab = page.locator('.tabs-container .tab', { hasText: 'README (slot 0).md' }).first();
      await tab.waitFor({ timeout: 20_000 });
      await page.locator('.monaco-editor .view-lines', { hasText: 'Backed up by Shadow Slots.' }).first().waitFor({ timeout: 20_000 });
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.type('EDIT');
      const text = await page.locator('.monaco-editor .view-lines').first().textContent();
      if (text.includes('EDIT')) throw new Error('the slot file accepted typing');
      await shot(page, outDir, '06-slot-file-read-only');
    }, page);

    await after(opened, results, 'UI 07: Compare with Workspace, then Restore…: the toast says what happened; Undo puts the edit back, says so, and the diff editor stays open', async () => {
      await writeFile(join(workspace, 'README.md'), '# A project\n\nEdited after the backup.\n');
      const file = page.locator('.part.sidebar .monaco-list-row', { hasText: 'README.md' }).first();
      await contextMenu(page, file, 'Compare with Workspace');
      const diffTab = page.locator('.tabs-container .tab', { hasText: /README\.md .*↔/ }).first();
      await diffTab.waitFor({ timeout: 15_000 });
      await contextMenu(page, file, 'Restore…');
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ timeout: 10_000 });
      await dialog.locator('.monaco-button', { hasText: 'Overwrite and Restore' }).click();
      const done = await waitToast(page, /Restored "README\.md" from the backup of/);
      if (!/\(slot 0\)\. The version it replaced was kept aside\./.test(done)) throw new Error(done);
      if (/Reveal Previous Version/.test(done) || !/Open Previous Version/.test(done)) throw new Error(`offers Reveal Previous Version where it cannot show anything (code-server), not Open Previous Version: ${done}`);
      await toast(page, /Restored "README\.md"/).locator('.monaco-button', { hasText: 'Undo Restore' }).click();
      const undone = await waitToast(page, /Undid the restore/);
      if (!/"README\.md" is back to the version it had before/.test(undone)) throw new Error(undone);
      await page.waitForTimeout(1000);
      if (!(await diffTab.isVisible())) throw new Error('the diff editor was closed by Undo');
      await page.locator('.monaco-diff-editor .modified .view-lines', { hasText: 'Edited after the backup.' }).first().waitFor({ timeout: 10_000 });
      await shot(page, outDir, '07-restore-undo-diff-open');
    }, page);

    await after(rowOk, results, 'UI 08: Verify Slot names the damaged file, explains the hard links, and marks the slot in the view; once repaired, Verify clears the mark', async () => {
      await writeFile(join(target, '0', 'src', 'app.ts'), 'export const hello = "damaged";\n');
      await slotRow.click({ button: 'right' });
      await page.locator('.context-view .action-item', { hasText: 'Verify Slot' }).first().waitFor({ timeout: 10_000 });
      // In a browser the OS file manager cannot be shown: the entry is hidden rather than doing nothing.
      const menu = (await page.locator('.context-view').innerText()).replace(/\s+/g, ' ');
      if (/Reveal in File Manager/.test(menu)) throw new Error(`the menu offers Reveal in File Manager in code-server: ${menu}`);
      // Clicked through contextMenu: the row redrawn after the damage was written can close this
      // menu under the click (a CI run lost the Verify so, with no toast at all).
      await page.keyboard.press('Escape');
      await contextMenu(page, slotRow, 'Verify Slot');
      const said = await waitToast(page, /is damaged: 1 file \(1 changed\): "src\/app\.ts"/);
      if (!/same damage shows in every backup/.test(said)) throw new Error(said);
      await page.locator('.part.sidebar .monaco-list-row', { hasText: /damaged · / }).first().waitFor({ timeout: 10_000 });
      await page.waitForTimeout(800); // the "Verifying…" progress toast fades out
      await shot(page, outDir, '08-verify-damaged');
      // Repaired by hand: a second Verify finds the slot intact and the mark goes.
      await writeFile(join(target, '0', 'src', 'app.ts'), 'export const hello = "world";\n');
      await contextMenu(page, page.locator('.part.sidebar .monaco-list-row', { hasText: /damaged · / }).first(), 'Verify Slot');
      await waitToast(page, /is intact: [\d,]+ files match/);
      await page.locator('.part.sidebar .monaco-list-row', { hasText: /damaged · / }).first().waitFor({ state: 'detached', timeout: 10_000 });
    }, page);

    const filterFile = join(workspace, '.shadowslots-filter');
    const fixed = await after(backedUp, results, 'UI 09: an invalid rule stops Back Up Now with the engine\'s diagnostic and Go to Rule; the quick fix inserts the missing space', async () => {
      await writeFile(filterFile, '-data/\n');
      await runCommand(page, 'Shadow Slots: Back Up Now');
      const said = await waitToast(page, /Backup not started: \.shadowslots-filter, line 1: invalid modifier 'd'/);
      if (/exclude\.c|filter check/.test(said)) throw new Error(`rsync's error or a pointer to the CLI: ${said}`);
      await toast(page, /Backup not started/).locator('.monaco-button', { hasText: 'Go to Rule' }).click();
      await page.locator('.tabs-container .tab', { hasText: '.shadowslots-filter' }).first().waitFor({ timeout: 15_000 });
      await page.locator('.statusbar-item', { hasText: /Ln 1, Col 2/ }).first().waitFor({ timeout: 10_000 });
      await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 30_000 });
      await page.keyboard.press('Control+.');
      const fix = page.locator('.action-widget .monaco-list-row', { hasText: 'Insert a space after "-"' }).first();
      await fix.waitFor({ timeout: 15_000 });
      await shot(page, outDir, '09a-quick-fix-offered');
      await fix.click();
      await page.locator('.monaco-editor .view-lines', { hasText: '- data/' }).first().waitFor({ timeout: 10_000 });
      await page.keyboard.press('Control+S');
      await page.waitForTimeout(500);
      await shot(page, outDir, '09b-quick-fix-applied');
    }, page);

    await after(fixed, results, 'UI 10: Preview Backup renders the next backup grouped by what decides each item, with counts, folders collapsed', async () => {
      await runCommand(page, 'Shadow Slots: Preview Backup');
      await page.locator('.tabs-container .tab', { hasText: 'Preview Backup: ws-ui' }).first().waitFor({ timeout: 60_000 });
      let frame;
      const deadline = Date.now() + 30_000;
      while (!frame) {
        for (const f of page.frames()) {
          if (await f.locator('h1', { hasText: 'Preview of the next backup' }).count().catch(() => 0)) frame = f;
        }
        if (Date.now() > deadline) throw new Error('the preview page did not render');
        if (!frame) await page.waitForTimeout(300);
      }
      const body = (await frame.locator('body').innerText()).replace(/\s+/g, ' ');
      if (!/What the rules decide/.test(body) || !/line 1: - data\/ excludes 1,500 files \([\d.]+ MB\) and 1 folder/.test(body)) throw new Error(`rules: ${body.slice(0, 800)}`);
      if (!/No longer backed up: excluded by line 1: - data\/ \(1,500\)/.test(body)) throw new Error(`groups: ${body.slice(0, 1200)}`);
      const open = await frame.locator('details[open]').count();
      if (open > 0) throw new Error(`${open} folders are expanded; they should start collapsed`);
      await frame.locator('summary', { hasText: 'data/' }).first().click();
      const names = await frame.locator('details[open] li.file').allInnerTexts();
      if (names[0] !== 'file-0.txt' || names[1] !== 'file-1.txt' || names[2] !== 'file-2.txt' || names.indexOf('file-10.txt') < names.indexOf('file-9.txt')) throw new Error(`not in natural order: ${names.slice(0, 12)}`);
      await shot(page, outDir, '10-preview-rendered');
    }, page);


    await after(backedUp, results, 'UI 11: ages move on by themselves: a slot made 59 min 52 s ago turns from "59 min ago" into "1 h ago" in its row and in the status bar at once, with nothing clicked', async () => {
      // The slot's manifest says it was made nearly an hour ago, so the next change of its age
      // text comes in seconds rather than after the hour it would take a real slot.
      const manifests = join(target, '.shadow-slots', 'manifests');
      const [file] = (await readdir(manifests)).filter((f) => f.endsWith('.json'));
      const manifest = JSON.parse(await readFile(join(manifests, file), 'utf8'));
      const ended = Date.now() - (60 * 60_000 - 8_000);
      manifest.startedAt = new Date(ended - 12_000).toISOString();
      manifest.endedAt = new Date(ended).toISOString();
      await writeFile(join(manifests, file), JSON.stringify(manifest, null, 2));
      await runCommand(page, 'Shadow Slots: Refresh Slots');
      await showSlots(page);
      const ageOf = (s) => /(just now|\d+ min ago|\d+ h ago)/.exec(s)?.[1];
      const read = async () => ({ status: (await statusItem.innerText()).trim(), row: (await slotRow.innerText()).replace(/\s+/g, ' ') });
      // The refresh reaches the status bar and the tree a moment apart.
      let before = await read();
      for (let i = 0; i < 25 && (ageOf(before.status) !== '59 min ago' || ageOf(before.row) !== '59 min ago'); i++) {
        await page.waitForTimeout(200);
        before = await read();
      }
      if (ageOf(before.status) !== '59 min ago' || ageOf(before.row) !== '59 min ago') throw new Error(`before the hour: ${JSON.stringify(before)}`);
      await page.waitForTimeout(Math.max(0, ended + 60 * 60_000 + 1_500 - Date.now()));
      const after = await read();
      if (ageOf(after.status) !== '1 h ago' || ageOf(after.row) !== '1 h ago') throw new Error(`the ages did not move on together: ${JSON.stringify(after)}`);
      await shot(page, outDir, '11-ages-moved-on');
    }, page);

    // After `configured`, not `backedUp`: UI 03 also judges the progress text, and its slot is what counts here.
    await after(configured, results, 'UI 12: after a second backup the Slots view marks the changed file M, the added one A and shows the deleted one struck through with D; Find in Slots finds the deleted file and opens its File History', async () => {
      // Files open in editors get VS Code's own read-only badge, which hides any other letter.
      await runCommand(page, 'View: Close All Editors');
      await writeFile(join(workspace, 'src', 'app.ts'), 'export const hello = "journey 12, a new version";\n');
      await writeFile(join(workspace, 'src', 'added.ts'), 'export const added = true;\n');
      await rm(join(workspace, 'README.md'), { force: true });
      const done = (await toastTexts(page)).filter((t) => /Backup complete/.test(t)).length;
      await runCommand(page, 'Shadow Slots: Back Up Now');
      await page.waitForFunction((n) => window.__toasts.filter((t) => /Backup complete/.test(t)).length > n, done, { timeout: 120_000 });
      await showSlots(page);
      // Only slot 0 open: an earlier journey left another slot expanded (rows are kept by slot id).
      await page.locator('.part.sidebar .pane-header', { hasText: 'Slots' }).first().hover();
      await page.locator('.part.sidebar .action-label[aria-label^="Collapse All"]').first().click();
      await page.locator('.part.sidebar .monaco-list-row', { hasText: /\d\d:\d\d\s*live copy · (just now|\d+ min ago)/ }).first().click();
      const row = (text) => page.locator('.part.sidebar .monaco-list-row', { hasText: text }).first();
      const ghost = row([...'README.md'].map((c) => `${c}\u0336`).join(''));
      await ghost.waitFor({ timeout: 20_000 });
      await row(/^\s*src\s*$/).click();
      await row('added.ts').waitFor({ timeout: 20_000 });
      // The decoration's letter is drawn by CSS (::after) on the row's label.
      const badge = (r) => r.evaluate((el) => [...el.querySelectorAll('*')].map((e) => window.getComputedStyle(e, '::after').content).filter((c) => c && c !== 'none' && c !== 'normal').join(' '));
      // Decorations arrive after the rows (the engine answers for each folder): wait for them.
      let marks;
      for (const deadline = Date.now() + 20_000; ;) {
        marks = { app: await badge(row('app.ts')), added: await badge(row('added.ts')), readme: await badge(ghost) };
        if (/"M"/.test(marks.app) && /"A"/.test(marks.added) && /"D"/.test(marks.readme)) break;
        if (Date.now() > deadline) throw new Error(`marks: ${JSON.stringify(marks)}`);
        await page.waitForTimeout(250);
      }
      const tip = await hoverText(page, row('app.ts').locator('.monaco-icon-label').first());
      if (!/changed since slot 1 \(\d{4}-\d\d-\d\d \d\d:\d\d\)/.test(tip)) throw new Error(`tooltip: ${tip}`);
      await page.mouse.move(700, 450);
      await shot(page, outDir, '12a-change-marks');
      await runCommand(page, 'Shadow Slots: Find in Slots…');
      await page.locator('.quick-input-widget input').fill('READ');
      const found = page.locator('.quick-input-list .monaco-list-row', { hasText: 'not in the workspace' }).first();
      await found.waitFor({ timeout: 20_000 });
      if (!/README\.md/.test(await found.innerText())) throw new Error(`found: ${await found.innerText()}`);
      await shot(page, outDir, '12b-find-in-slots');
      await page.keyboard.press('Enter');
      const history = page.locator('.part.sidebar .pane', { hasText: 'File History in Slots' });
      await history.locator('.monaco-list-row', { hasText: 'deleted' }).first().waitFor({ timeout: 20_000 });
      const versions = history.locator('.monaco-list-row', { hasText: /(just now|ago) · [\d.]+ (bytes|kB)/ });
      await versions.first().waitFor({ timeout: 20_000 });
      await versions.first().click();
      await page.locator('.tabs-container .tab', { hasText: /README \(slot \d+\)\.md/ }).first().waitFor({ timeout: 20_000 });
      await shot(page, outDir, '12c-file-history');
    }, page);
  } catch (error) {
    results.push({ name: 'UI: the journeys ran to the end', error });
  } finally {
    await page.screenshot({ path: join(outDir, 'vscode-ui.png') }).catch(() => undefined);
  }
  // The page stays open: the schedule journeys (scheduleUi.mjs) continue in this window.
  return { results, page };
}
