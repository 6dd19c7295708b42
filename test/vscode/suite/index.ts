// Entry point VS Code's extension host loads as `extensionTestsPath` (the smoke-test-driver payload
// in code-server here, @vscode/test-electron on a desktop): runs the mocha suite beside it.
import * as path from 'node:path';
import { readdirSync, writeFileSync } from 'node:fs';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec' });
  for (const f of readdirSync(__dirname).filter((n) => n.endsWith('.test.js')).sort()) mocha.addFile(path.join(__dirname, f));
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      // The harness reads exact counts from here rather than parsing forwarded console output.
      const resultFile = process.env['SHADOW_SLOTS_MOCHA_RESULT'];
      if (resultFile) {
        const s = runner.stats;
        writeFileSync(resultFile, JSON.stringify({ passed: s?.passes ?? 0, failed: s?.failures ?? failures, skipped: s?.pending ?? 0, failures: failed }));
      }
      if (failures > 0) reject(new Error(`${failures} test(s) failed`)); else resolve();
    });
    const failed: Array<{ title: string; error: string }> = [];
    runner.on('fail', (test, err: Error) => failed.push({ title: test.fullTitle(), error: String(err?.stack ?? err) }));
  });
}
