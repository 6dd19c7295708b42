/* global window, document, MutationObserver -- these run in the page (Playwright evaluates them in the browser) */
// The UI test: what a person sees. Runs `Shadow Slots: Back Up Now` from the command palette in
// headless Chromium against code-server, watches the progress notification and the summary, opens
// the Shadow Slots container, finds slot 0 with today's date, expands it to a file and opens it.
// Saves .test-output/vscode-sidebar.png (and vscode-ui.png of the whole window).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const UI_TESTS = 3;

const pad = (n) => String(n).padStart(2, '0');

async function step(results, name, fn) {
  const t = Date.now();
  try { await fn(); results.push({ name, ms: Date.now() - t }); return true; } catch (error) { results.push({ name, error }); return false; }
}

export { fixture as fixtureForDebug };
async function fixture(workspace, target) {
  // The engine never creates a missing target (it could be an unmounted disk): make it, as the
  // folder picker of Configure Backup Target would have.
  await mkdir(target, { recursive: true });
  await mkdir(join(workspace, '.vscode'), { recursive: true });
  await writeFile(join(workspace, '.vscode', 'settings.json'), JSON.stringify({
    'shadowSlots.target': target, 'shadowSlots.snapshot': 'none', 'shadowSlots.excludes': ['/.vscode/'],
    // No user systemd bus here: the schedule wizard (scheduleUi.mjs) registers a crontab line.
    'shadowSlots.schedule.platform': 'cron',
  }, null, 2));
  await writeFile(join(workspace, 'README.md'), '# A project\n\nBacked up by Shadow Slots.\n');
  await mkdir(join(workspace, 'src'), { recursive: true });
  await writeFile(join(workspace, 'src', 'app.ts'), 'export const hello = "world";\n');
  // Enough files that the copy takes a moment, so the progress notification is on screen.
  const data = join(workspace, 'data');
  await mkdir(data, { recursive: true });
  const block = 'x'.repeat(16 * 1024);
  await Promise.all(Array.from({ length: 4000 }, (_, i) => writeFile(join(data, `file-${i}.txt`), `${i}\n${block}`)));
}

/** Opens the palette (the first keypress can be swallowed while the workbench restores) and runs a command. */
async function runCommand(page, title) {
  const input = page.locator('.quick-input-widget input');
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press(i % 2 === 0 ? 'F1' : 'Control+Shift+P');
    try { await input.waitFor({ state: 'visible', timeout: 1000 }); break; } catch { /* retry */ }
  }
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
}

export async function uiTest({ browser, url, workspace, target, outDir }) {
  const results = [];
  await fixture(workspace, target);
  const page = await browser.newPage();
  // Progress notifications can come and go between two polls; record every toast text as it renders.
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
  try {
    await page.goto(`${url}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    // The installed extension's contributions register once the extension host is up (10–20 s
    // here); a palette opened before that never lists its commands.
    await page.locator('.activitybar [aria-label^="Shadow Slots"]').first().waitFor({ timeout: 90_000 });

    const backedUp = await step(results, 'UI: Back Up Now from the command palette shows a progress notification, then the summary', async () => {
      await runCommand(page, 'Shadow Slots: Back Up Now');
      await page.waitForFunction(() => window.__toasts.some((t) => /Backup complete:|Backup complete with|Backup failed|Backup partial|Backup cancelled/.test(t)), null, { timeout: 90_000 });
      const toasts = await page.evaluate(() => window.__toasts);
      const failed = toasts.find((t) => /Backup failed|Backup partial|Backup cancelled/.test(t));
      if (failed) throw new Error(`the backup did not complete: ${failed}`);
      if (!toasts.some((t) => /Backing up ws-ui/.test(t))) throw new Error(`no progress notification was shown; toasts: ${JSON.stringify(toasts)}`);
      const summary = toasts.find((t) => /Backup complete:/.test(t));
      if (!/slot 0 in [\d.]+ s\..*files.*sent/.test(summary)) throw new Error(`summary lacks slot, duration, changes or bytes: ${summary}`);
    });

    const now = new Date();
    const today = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
    let sidebarOk = false;
    if (backedUp) {
      sidebarOk = await step(results, `UI: the Shadow Slots container shows slot 0 of ${today} and expands to its files; the status bar shows its age`, async () => {
        await page.locator('.activitybar [aria-label^="Shadow Slots"]').first().click();
        const slot = page.locator('.monaco-list-row', { hasText: `0 \u00b7 ${today}` }).first();
        await slot.waitFor({ timeout: 20_000 });
        const description = await slot.textContent();
        if (!/live copy/.test(description)) throw new Error(`slot 0 row does not say it is a live copy: ${description}`);
        await slot.click();
        const file = page.locator('.monaco-list-row', { hasText: 'README.md' }).first();
        // The ring refreshes the tree when the backup's last records land (ring.json, the engine's
        // notification); a click that arrives while the rows are being replaced can be lost.
        // Expand again if the slot row is collapsed, but the files must still appear in 20 s.
        const deadline = Date.now() + 20_000;
        while (!(await file.isVisible())) {
          if (Date.now() > deadline) throw new Error('slot 0 did not show its files within 20 s');
          const row = page.locator('.monaco-list-row', { hasText: `0 \u00b7 ${today}` }).first();
          if ((await row.getAttribute('aria-expanded')) === 'false') await row.click();
          await page.waitForTimeout(250);
        }
        await page.locator('.monaco-list-row', { hasText: 'data' }).first().waitFor();
        // Widen the sidebar (drag its sash) so the screenshot shows whole slot descriptions.
        const box = await page.locator('.part.sidebar').boundingBox();
        if (box) {
          await page.mouse.move(box.x + box.width + 1, box.y + box.height / 2);
          await page.mouse.down();
          await page.mouse.move(box.x + box.width + 260, box.y + box.height / 2, { steps: 5 });
          await page.mouse.up();
        }
        await page.locator('.part.sidebar').screenshot({ path: join(outDir, 'vscode-sidebar.png') });
        // The status bar tells the age of the newest complete slot.
        await page.locator('.statusbar-item', { hasText: 'Backup just now' }).first().waitFor({ timeout: 10_000 });
      });
    } else {
      results.push({ name: 'UI: the Shadow Slots container shows slot 0 and expands to its files', error: new Error('not run: Back Up Now failed') });
    }
    if (sidebarOk) {
      await step(results, 'UI: a file opened from slot 0 shows its content read-only, the slot in its tab title', async () => {
        await page.locator('.monaco-list-row', { hasText: 'README.md' }).first().click();
        // The tab names the slot: a slot's version must never pass for the workspace file.
        const tab = page.locator('.tabs-container .tab', { hasText: 'README (slot 0).md' }).first();
        await tab.waitFor({ timeout: 20_000 });
        await page.locator('.monaco-editor .view-lines', { hasText: 'Backed up by Shadow Slots.' }).first().waitFor({ timeout: 20_000 });
        // Typing into a read-only editor changes nothing and VS Code says why.
        await page.locator('.monaco-editor .view-lines').first().click();
        await page.keyboard.type('EDIT');
        const text = await page.locator('.monaco-editor .view-lines').first().textContent();
        if (text.includes('EDIT')) throw new Error('the slot file accepted typing');
      });
    } else {
      results.push({ name: 'UI: a file opened from slot 0 shows its content read-only, the slot in its tab title', error: new Error('not run: the sidebar step failed') });
    }
  } finally {
    await page.screenshot({ path: join(outDir, 'vscode-ui.png') }).catch(() => undefined);
    await page.close();
  }
  return results;
}
