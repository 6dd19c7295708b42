// What the UI journeys (ui.mjs, scheduleUi.mjs) share: reporting a step, and the command palette.

/**
 * VS Code shows no toast for a notification added when three others were added within the last
 * 800 ms (its NotificationsToasts SPAM_PROTECTION; the notification only goes to the bell). A
 * journey's own progress notification and result then vanished after the previous journey's two
 * (UI 09's "Backup not started", 12a's "No changes", 12d's "is damaged"): each journey, and each
 * action that expects a toast right after another, starts once the window has been quiet that long.
 */
export const quietNotifications = (page) => page.waitForTimeout(1000);

/** Runs one journey and records its result; returns whether it passed. */
export async function step(results, name, fn, page) {
  if (page) await quietNotifications(page);
  const t = Date.now();
  try { await fn(); results.push({ name, ms: Date.now() - t }); return true; } catch (error) { results.push({ name, error }); return false; }
}

/** Opens the palette (the first keypress can be swallowed while the workbench restores) and types `>text`. */
export async function openPalette(page, text) {
  const input = page.locator('.quick-input-widget input');
  for (let i = 0; i < 30; i++) {
    // Keys typed while a webview (Preview Backup) has the focus stay in its frame: focus the workbench now and then.
    if (i % 5 === 4) await page.locator('.part.statusbar').click({ position: { x: 700, y: 5 } }).catch(() => undefined);
    await page.keyboard.press(i % 2 === 0 ? 'F1' : 'Control+Shift+P');
    try { await input.waitFor({ state: 'visible', timeout: 1000 }); break; } catch { /* retry */ }
  }
  await input.fill(`>${text}`);
}

/**
 * Opens the palette and runs a command (or, with `run: false`, waits until it is listed). A
 * workbench whose extension host is still starting lists the extension's commands only later:
 * close and retry then.
 */
export async function runCommand(page, title, { run = true } = {}) {
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  for (let attempt = 1; ; attempt++) {
    await openPalette(page, title);
    try {
      await row.waitFor({ timeout: 5000 });
      break;
    } catch (error) {
      if (attempt === 6) throw error;
      await page.keyboard.press('Escape');
      await page.waitForTimeout(2000);
    }
  }
  if (run) await page.keyboard.press('Enter');
}

/** Shows the Slots view. A click on the activity-bar entry of the container already shown would hide the sidebar. */
export async function showSlots(page) {
  const title = page.locator('.part.sidebar .composite.title', { hasText: 'Shadow Slots' });
  if (await title.isVisible().catch(() => false)) return;
  await page.locator('.activitybar [aria-label^="Shadow Slots"]').first().click();
  await title.waitFor({ timeout: 10_000 });
}
