// Finding 1 of issue 12: `shadowSlots.rsyncPath` chooses the program the elevated helper installs
// and runs with administrator rights. A workspace (a cloned repository's .vscode/settings.json)
// must not be able to set it: VS Code ignores workspace and folder values of settings whose scope
// is "machine" or "application" ("machine-overridable" is exactly what lets a workspace override).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const pkg = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8'));
const settings = pkg.contributes.configuration.properties as Record<string, { scope?: string; markdownDescription?: string; description?: string }>;

test('shadowSlots.rsyncPath cannot be set by a workspace, and says why', () => {
  const rsyncPath = settings['shadowSlots.rsyncPath']!;
  assert.ok(rsyncPath.scope === 'machine' || rsyncPath.scope === 'application', `scope is ${rsyncPath.scope}`);
  assert.match(rsyncPath.markdownDescription ?? rsyncPath.description ?? '', /never a workspace: the Windows elevated helper/);
});

