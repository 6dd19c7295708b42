/* global document */
// The schedule wizard driven as a person would, in headless Chromium against code-server: with no
// schedule the palette offers no Edit/Run/Delete; then (cron) palette → "Shadow Slots: Create
// Backup Schedule…" → forward through the numbered screens → the review (only what cron does, the
// read-only artefact beside it) → the QuickInput's Back button three times → forward again →
// Create; then the schedule is in root's crontab and in the Slots view; then (systemd) the same
// wizard up to its review, with the conditions screen, and Escape closes the artefact. There is
// no user systemd bus here, so the systemd journey stops before registering anything.
// Root's crontab is saved first (under the crontab test lock) and whatever the test registered is
// removed afterwards with the CLI (`schedule remove --all-mine`), also on failure; the table must
// then equal the saved one byte for byte, or the saved one is written back and the test fails.
// Saves .test-output/vscode-s1…s3*.png per journey and vscode-schedule.png (the Slots view with the schedule).
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readCrontab, withCrontabLock, writeCrontab } from '../helpers/crontabLock.mjs';
import { openPalette, runCommand, showSlots, step } from './uiSteps.mjs';

export const SCHEDULE_UI_TESTS = 5;
const TIME = '03:17';
const TITLE = 'Create Backup Schedule';

function exec(cmd, args, { input, env } = {}) {
  return new Promise((resolve, reject) => {
    // stdin only when there is input: `crontab -l` exits without reading it, and writing to a
    // closed pipe (EPIPE) would be an unhandled error that kills the harness before its cleanup.
    const child = spawn(cmd, args, { env: env ?? process.env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (input !== undefined) {
      child.stdin.on('error', reject);
      child.stdin.end(input);
    }
  });
}

/** Waits until the wizard shows step `n` (the title carries "Step n/total"). */
async function atStep(page, n, total) {
  const title = page.locator('.quick-input-widget .quick-input-title');
  try {
    await page.waitForFunction(([want]) => [...document.querySelectorAll('.quick-input-widget .quick-input-title')].some((e) => e.textContent?.includes(want)),
      [`${TITLE} — Step ${n}/${total}`], { timeout: 15_000 });
  } catch {
    throw new Error(`the wizard is not at step ${n}/${total}; its title reads ${JSON.stringify(await title.textContent().catch(() => null))}`);
  }
}

async function atStopAfter(page, n, total) {
  await atStep(page, n, total);
  await page.locator('.quick-input-widget').getByText('Stop a run after how many hours').first().waitFor({ state: 'visible', timeout: 10_000 });
}

/** The visible rows of the QuickInput list, as text. */
async function rows(page) {
  return (await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
}

/** Rewrites one setting in the workspace's settings.json, as a user editing it would. */
async function setWorkspaceSetting(workspace, key, value) {
  const file = join(workspace, '.vscode', 'settings.json');
  const settings = JSON.parse(await readFile(file, 'utf8'));
  settings[key] = value;
  await writeFile(file, JSON.stringify(settings, null, 2));
}

async function pickRow(page, text) {
  const row = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: text }).first();
  await row.waitFor({ timeout: 10_000 });
  await row.click();
}

async function pressBack(page) {
  // The QuickInput's Back button: an action in the title bar's left action bar, labelled "Back".
  const back = page.locator('.quick-input-widget .quick-input-left-action-bar .action-label[aria-label^="Back"], .quick-input-widget .quick-input-left-action-bar .codicon-quick-input-back').first();
  try {
    await back.waitFor({ state: 'visible', timeout: 5000 });
  } catch {
    const html = await page.locator('.quick-input-widget .quick-input-titlebar').innerHTML().catch(() => '(no title bar)');
    throw new Error(`no visible Back button in the wizard's title bar: ${html.slice(0, 1500)}`);
  }
  await back.click();
}

/**
 * `page` is the window the UI journeys (ui.mjs) left open on `workspace`; it is closed at the end.
 * `configDir` is the SHADOW_SLOTS_CONFIG_DIR code-server runs with; `cli` the installed
 * extension's dist/cli.js (what the cleanup runs); `registerCleanup` adds to the harness's cleanups
 * (they run on SIGINT/SIGTERM too).
 */
export async function scheduleUiTest({ page, workspace, outDir, configDir, cli, registerCleanup }) {
  const results = [];
  await withCrontabLock(async () => {
    const saved = await readCrontab();
    // `--all-mine` removes every Shadow Slots line of root's crontab, also those of another
    // configuration (a developer's own schedule): they are put aside for the test and back after it.
    const foreign = saved.split('\n').filter((line) => !line.includes('# shadow-slots:id=')).join('\n');
    if (foreign !== saved) await writeCrontab(foreign);
    const env = { ...process.env, SHADOW_SLOTS_CONFIG_DIR: configDir };
    const removeAll = () => exec(process.execPath, [cli, 'schedule', 'remove', '--all-mine', '--platform', 'cron'], { env });
    // Interrupted (Ctrl+C) before the finally below ran: the harness's cleanup removes and restores.
    // Never after it ran: by then the lock is released and another run may own the crontab lines.
    let cleaned = false;
    registerCleanup?.(async () => {
      if (cleaned) return;
      await removeAll();
      await writeCrontab(saved);
    });
    let scheduleId;
    try {
      await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      await page.locator('.activitybar [aria-label^="Shadow Slots"]').first().waitFor({ timeout: 90_000 });
      // A clean editor area: what the UI journeys left open (a diff, the preview's webview) stays out of the way.
      await runCommand(page, 'View: Close All Editors');

      await step(results, 'UI S1: with no schedule yet, the palette offers Create Backup Schedule… but not Edit, Run or Delete', async () => {
        // The extension's commands are listed once its host is up: wait for Create first.
        await runCommand(page, 'Shadow Slots: Create Backup Schedule', { run: false });
        for (const title of ['Edit Backup Schedule', 'Run Scheduled Backup Now', 'Delete Backup Schedule']) {
          await page.locator('.quick-input-widget input').fill(`>Shadow Slots: ${title}`);
          await page.waitForTimeout(400);
          const listed = await rows(page);
          if (listed.some((r) => r.includes(title))) throw new Error(`"${title}" is listed without a schedule: ${listed.join('; ')}`);
          if (title === 'Edit Backup Schedule') await page.locator('.quick-input-widget').screenshot({ path: join(outDir, 'vscode-s1-palette-no-schedule.png') });
        }
        await page.keyboard.press('Escape');
      });

      const created = await step(results, 'UI S2 (cron): five numbered screens, no conditions screen (the stop-after screen says why), a review that promises only what cron does, Back three times (values kept), Create; the line is in root\'s crontab', async () => {
        await runCommand(page, 'Shadow Slots: Create Backup Schedule');
        const total = 5; // profile, when, time, stop after, review: cron honours no conditions; no account step off Windows
        await atStep(page, 1, total);
        await pickRow(page, 'workspace settings');
        await atStep(page, 2, total);
        await pickRow(page, 'Every day');
        await atStep(page, 3, total);
        const input = page.locator('.quick-input-widget .quick-input-box input');
        // Validated as you type: an impossible time is refused under the box and Enter does nothing.
        await input.fill('25:61');
        await page.locator('.quick-input-widget .quick-input-message', { hasText: /25:61|hour|time/i }).first().waitFor({ timeout: 10_000 });
        await page.keyboard.press('Enter');
        await atStep(page, 3, total);
        await input.fill(TIME);
        await page.keyboard.press('Enter');
        await atStopAfter(page, 4, total);
        await page.locator('.quick-input-widget').getByText(/cron offers no other conditions: cron starts the backup on battery too; it cannot wake the computer/).first().waitFor({ timeout: 10_000 });
        await page.locator('.quick-input-widget .quick-input-box input').fill('0');
        await page.keyboard.press('Enter');
        await atStep(page, 5, total);
        await page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'Create' }).first().waitFor({ timeout: 10_000 });
        const review = (await rows(page)).join(' | ');
        for (const line of ['Runs on battery power too (cron cannot do otherwise)', 'Does not wake the computer (cron cannot do otherwise)', 'Skips a start missed while off or asleep (cron', 'No time limit']) {
          if (!review.includes(line)) throw new Error(`the review lacks "${line}": ${review}`);
        }
        if (/only on AC power|Catches up|cron cannot catch up|cron cannot skip/i.test(review)) throw new Error(`the review contradicts itself: ${review}`);
        // The exact artefact beside the editor, read-only: the crontab line with its marker.
        await page.locator('.tabs-container .tab', { hasText: 'What cron will register' }).first().waitFor({ timeout: 15_000 });
        await page.locator('.monaco-editor .view-lines', { hasText: 'shadow-slots:id=' }).first().waitFor({ timeout: 15_000 });
        await page.screenshot({ path: join(outDir, 'vscode-s2-cron-review.png') });

        await pressBack(page); // → stop after
        await atStopAfter(page, 4, total);
        await pressBack(page); // → time, with what was typed
        await atStep(page, 3, total);
        const kept = await page.locator('.quick-input-widget .quick-input-box input').inputValue();
        if (kept !== TIME) throw new Error(`Back lost the time: the box reads ${JSON.stringify(kept)}`);
        await pressBack(page); // → when
        await atStep(page, 2, total);
        await pickRow(page, 'Every day');
        await atStep(page, 3, total);
        await page.keyboard.press('Enter');
        await atStopAfter(page, 4, total);
        await page.keyboard.press('Enter');
        await atStep(page, 5, total);
        await pickRow(page, 'Create');
        await page.locator('.notification-toast', { hasText: `Schedule created: Every day at ${TIME}` }).first().waitFor({ timeout: 30_000 });
        // The artefact was shown for the review only: it closes with the wizard.
        await page.locator('.tabs-container .tab', { hasText: 'What cron will register' }).first().waitFor({ state: 'detached', timeout: 10_000 });
        const table = await readCrontab();
        const ours = table.split('\n').filter((l) => /# shadow-slots:id=/.test(l) && !saved.includes(l));
        if (ours.length !== 1) throw new Error(`expected one new "# shadow-slots:" line in root's crontab, found ${ours.length}:\n${table}`);
        if (!ours[0].startsWith('17 3 * * * ')) throw new Error(`the crontab line does not run daily at ${TIME}: ${ours[0]}`);
        scheduleId = /# shadow-slots:id=(\S+)/.exec(ours[0])[1];
        if (!table.startsWith(saved)) throw new Error('the other crontab entries were changed');
        // With a schedule, Edit is in the palette.
        await openPalette(page, 'Shadow Slots: Edit Backup Schedule');
        await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Edit Backup Schedule' }).first().waitFor({ timeout: 10_000 });
        await page.keyboard.press('Escape');
      });

      await step(results, 'UI S3 (systemd): six numbered screens, the three conditions on their own screen, the review states them; the read-only artefact closes when the wizard is cancelled', async () => {
        await setWorkspaceSetting(workspace, 'shadowSlots.schedule.platform', 'systemd');
        try {
          await page.waitForTimeout(1000);
          await runCommand(page, 'Shadow Slots: Create Backup Schedule');
          const total = 6; // profile, when, time, conditions, stop after, review
          await atStep(page, 1, total);
          await pickRow(page, 'workspace settings');
          await atStep(page, 2, total);
          await pickRow(page, 'Every day');
          await atStep(page, 3, total);
          await page.locator('.quick-input-widget .quick-input-box input').fill('04:05');
          await page.keyboard.press('Enter');
          await atStep(page, 4, total);
          const offered = await rows(page);
          for (const c of ['Run on battery power', 'Wake the computer to run', 'Run as soon as possible after a missed start']) {
            if (!offered.some((r) => r.includes(c))) throw new Error(`"${c}" is not offered: ${offered.join('; ')}`);
          }
          await page.screenshot({ path: join(outDir, 'vscode-s3a-systemd-conditions.png') });
          await page.keyboard.press('Enter'); // the defaults: catch up, only on AC power
          await atStopAfter(page, 5, total);
          await page.keyboard.press('Enter');
          await atStep(page, 6, total);
          const review = (await rows(page)).join(' | ');
          for (const line of ['Runs only on AC power', 'Does not wake the computer', 'Catches up a start missed while off or asleep', 'No time limit']) {
            if (!review.includes(line)) throw new Error(`the review lacks "${line}": ${review}`);
          }
          const artefact = page.locator('.tabs-container .tab', { hasText: 'What systemd will register' }).first();
          await artefact.waitFor({ timeout: 15_000 });
          await page.locator('.monaco-editor .view-lines', { hasText: 'Persistent=true' }).first().waitFor({ timeout: 15_000 });
          await page.screenshot({ path: join(outDir, 'vscode-s3b-systemd-review.png') });
          await page.keyboard.press('Escape');
          await artefact.waitFor({ state: 'detached', timeout: 10_000 });
          if (await page.locator('.monaco-dialog-box').isVisible()) throw new Error('closing the artefact asked to save it');
        } finally {
          await setWorkspaceSetting(workspace, 'shadowSlots.schedule.platform', 'cron');
        }
      });

      if (created) {
        await step(results, 'UI: the Slots view shows the schedule above the slots (next run, never run yet)', async () => {
          await showSlots(page);
          const group = page.locator('.part.sidebar .monaco-list-row', { hasText: /^Schedule/ }).first();
          await group.waitFor({ timeout: 20_000 });
          const row = page.locator('.part.sidebar .monaco-list-row', { hasText: `Every day at ${TIME}` }).first();
          await row.waitFor({ timeout: 20_000 });
          const text = (await row.textContent()) ?? '';
          if (!/next \d{4}-\d{2}-\d{2} 03:17/.test(text)) throw new Error(`the schedule row does not show its next run: ${text}`);
          // Above the slots: the list's own row index (DOM order is not display order in a virtual list).
          const rows = await page.locator('.part.sidebar .monaco-list-row').evaluateAll((els) => els.map((e) => ({ i: Number(e.getAttribute('data-index')), text: (e.textContent ?? '').trim() })));
          const index = (re) => rows.find((r) => re.test(r.text))?.i ?? -1;
          const g = index(/^Schedule/);
          const s = index(/live copy · /);
          if (s !== -1 && g > s) throw new Error(`the schedules are not above the slots: ${JSON.stringify(rows)}`);
          const box = await page.locator('.part.sidebar').boundingBox();
          if (box && box.width < 450) {
            await page.mouse.move(box.x + box.width + 1, box.y + box.height / 2);
            await page.mouse.down();
            await page.mouse.move(box.x + 560, box.y + box.height / 2, { steps: 5 });
            await page.mouse.up();
          }
          await row.hover();
          await page.locator('.part.sidebar').screenshot({ path: join(outDir, 'vscode-schedule.png') });
        });
      } else {
        results.push({ name: 'UI: the Slots view shows the schedule above the slots (next run, never run yet)', error: new Error('not run: the wizard did not create the schedule') });
      }
    } finally {
      await page.screenshot({ path: join(outDir, 'vscode-schedule-ui.png') }).catch(() => undefined);
      await page.close().catch(() => undefined);
      await step(results, 'the schedule the test registered is removed with `schedule remove --all-mine`; root\'s crontab is byte for byte what it was', async () => {
        const removed = await removeAll();
        const after = await readCrontab();
        await writeCrontab(saved);
        if (after !== foreign) {
          throw new Error(`root's crontab differed after the cleanup and was restored from the saved copy (remove exit ${removed.code}: ${removed.stdout}${removed.stderr}):\n${after}`);
        }
        if (removed.code !== 0) throw new Error(`schedule remove --all-mine exited ${removed.code}: ${removed.stderr}`);
        if (scheduleId !== undefined && !removed.stdout.includes(scheduleId)) throw new Error(`the CLI did not remove "${scheduleId}": ${removed.stdout}`);
      });
      cleaned = true;
    }
  });
  return results;
}
