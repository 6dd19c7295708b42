// The same in-editor mocha suite as test/vscode/run.mjs, for a desktop machine that can download
// VS Code (@vscode/test-cli + @vscode/test-electron). Run:
//   npm run build && node test/vscode/buildSuite.mjs && npx vscode-test
// The workspace is a fresh temporary folder; the suite creates its own files and backup target.
import { defineConfig } from '@vscode/test-cli';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default defineConfig({
  files: 'out/vscode-suite/**/*.test.js',
  version: 'stable',
  workspaceFolder: mkdtempSync(join(tmpdir(), 'shadow-slots-vscode-test-')),
  launchArgs: ['--disable-workspace-trust'],
  mocha: { ui: 'bdd', timeout: 120_000 },
});
