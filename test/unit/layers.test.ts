// The layer boundaries of DESIGN.md fail the lint for every file of every layer, at any depth:
// a deliberately forbidden import is linted as if it were a file in each layer's folders (the real
// ESLint with the repo's own config; the text is passed in, so no probe file is ever left in src/),
// and the real tree passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative, dirname } from 'node:path';
import { ESLint } from 'eslint';
import { run } from '../../src/platform/runner';

const root = join(import.meta.dirname, '..', '..');
const RULE = 'layers/boundaries';
/** Any import rule counts: the lint must fail, whichever rule makes it fail. */
const IMPORT_RULES = new Set([RULE, 'no-restricted-imports']);
const eslint = new ESLint({ cwd: root });

/** Where probes are linted: each layer's top folder and subfolders, which the old patterns missed. */
const PLACES: Record<string, string[]> = {
  core: ['src/core/probe.ts', 'src/core/filter/probe.ts', 'src/core/schedule/probe.ts', 'src/core/windows/probe.ts'],
  platform: ['src/platform/probe.ts', 'src/platform/filter/probe.ts', 'src/platform/schedule/probe.ts', 'src/platform/snapshot/probe.ts', 'src/platform/windows/probe.ts'],
  rpc: ['src/rpc/probe.ts'],
  engine: ['src/engine/probe.ts'],
  cli: ['src/cli/probe.ts', 'src/cli/commands/probe.ts'],
  ui: ['src/ui/probe.ts', 'src/ui/slots/probe.ts', 'src/ui/engineClient/probe.ts', 'src/ui/windows/probe.ts'],
  extension: ['src/extension.ts'],
};
const ALL = ['core', 'platform', 'rpc', 'engine', 'cli', 'ui', 'extension'];
// DESIGN.md's table, restated here on purpose rather than imported from the rule it checks.
const MAY: Record<string, string[]> = {
  core: ['core'],
  platform: ['core', 'platform'],
  rpc: ['core', 'rpc'],
  engine: ['core', 'platform', 'rpc', 'engine'],
  cli: ['core', 'platform', 'rpc', 'engine', 'cli'],
  ui: ['core', 'platform', 'rpc', 'ui'],
  extension: ['core', 'platform', 'rpc', 'ui'],
};

/** The import string from `file` to a module in `layer` (a subfolder, to check depth both ways). */
function specifier(file: string, layer: string): string {
  const target = layer === 'extension' ? 'src/extension' : `src/${layer}/deep/module`;
  const rel = relative(dirname(join(root, file)), join(root, target)).split('\\').join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

async function ruleMessages(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return result!.messages.filter((m) => IMPORT_RULES.has(m.ruleId ?? '')).map((m) => m.message);
}

test('every layer, at every depth: each forbidden import of ours fails the lint, each allowed one passes', async () => {
  const wrong: string[] = [];
  let forbidden = 0;
  for (const [layer, files] of Object.entries(PLACES)) {
    for (const file of files) {
      for (const to of ALL) {
        if (to === 'extension' && layer === 'extension') continue;
        const spec = specifier(file, to);
        const messages = await ruleMessages(file, `import { x } from '${spec}';\nexport const y = x;\n`);
        const allowed = MAY[layer]!.includes(to);
        if (!allowed) forbidden++;
        if (allowed !== (messages.length === 0)) wrong.push(`${file} importing ${to} ("${spec}"): ${allowed ? `refused: ${messages.join('; ')}` : 'NOT refused'}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
  assert.ok(forbidden >= 50, `${forbidden} forbidden imports checked`);
});

test('every way of importing is checked: type-only, re-export, dynamic import(), import types, require()', async () => {
  const file = 'src/core/schedule/probe.ts';
  const engine = '../../engine/backup';
  for (const code of [
    `import type { BackupOptions } from '${engine}';\nexport type T = BackupOptions;\n`,
    `export { runBackup } from '${engine}';\n`,
    `export * from '${engine}';\n`,
    `export async function f() { return import('${engine}'); }\n`,
    `export type T = import('${engine}').BackupOptions;\n`,
    `// eslint-disable-next-line @typescript-eslint/no-require-imports\nexport const m = require('${engine}');\n`,
  ]) {
    const messages = await ruleMessages(file, code);
    assert.equal(messages.length, 1, `${code} → ${JSON.stringify(messages)}`);
    assert.match(messages[0]!, /src\/core may import only src\/core; "..\/..\/engine\/backup" is src\/engine/);
  }
});

test('packages: vscode only in ui, processes only through platform/runner.ts, no I/O in core', async () => {
  const cases: Array<[string, string, boolean]> = [
    ['src/core/filter/probe.ts', 'vscode', false],
    ['src/platform/windows/probe.ts', 'vscode', false],
    ['src/engine/probe.ts', 'vscode', false],
    ['src/cli/commands/probe.ts', 'vscode', false],
    ['src/rpc/probe.ts', 'vscode', false],
    ['src/ui/slots/probe.ts', 'vscode', true],
    ['src/engine/probe.ts', 'vscode-languageclient/node', false],
    ['src/ui/engineClient/probe.ts', 'vscode-languageclient/node', true],
    ['src/ui/probe.ts', 'vscode-languageserver/node', false],
    ['src/engine/probe.ts', 'vscode-languageserver/node', true],
    ['src/platform/schedule/probe.ts', 'execa', false],
    ['src/engine/probe.ts', 'node:child_process', false],
    ['src/ui/windows/probe.ts', 'child_process', false],
    ['src/platform/runner.ts', 'execa', true],
    ['src/core/windows/probe.ts', 'node:fs/promises', false],
    ['src/core/probe.ts', 'node:os', false],
    ['src/core/probe.ts', 'node:path', true],
    ['src/platform/probe.ts', 'node:fs', true],
  ];
  const wrong: string[] = [];
  for (const [file, module, allowed] of cases) {
    const messages = await ruleMessages(file, `import * as m from '${module}';\nexport const y = m;\n`);
    if (allowed !== (messages.length === 0)) wrong.push(`${file} importing ${module}: ${allowed ? `refused: ${messages.join('; ')}` : 'NOT refused'}`);
  }
  assert.deepEqual(wrong, []);
});

test('a file outside the known layers, or an import leaving src/, is refused', async () => {
  assert.match((await ruleMessages('src/helper/probe.ts', `import { x } from '../core/errors';\nexport const y = x;\n`))[0] ?? '', /src\/helper is not a layer/);
  assert.match((await ruleMessages('src/ui/probe.ts', `import { x } from '../../test/helpers/tmp';\nexport const y = x;\n`))[0] ?? '', /leaves src\//);
});

test('the real tree passes the layer rule', async () => {
  const results = await eslint.lintFiles(['src']);
  assert.ok(results.length > 100, `${results.length} files linted`);
  assert.deepEqual(results.flatMap((r) => r.messages.filter((m) => m.ruleId === RULE).map((m) => `${relative(root, r.filePath)}:${m.line} ${m.message}`)), []);
});

test('`npm run lint` itself exits non-zero on a forbidden import (the eslint CLI, text on stdin as a file in src/core/filter)', async () => {
  const probe = `import { runBackup } from '../../engine/backup';\nexport const y = runBackup;\n`;
  const r = await run(process.execPath, [join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--stdin', '--stdin-filename', 'src/core/filter/probe.ts'], { cwd: root, input: probe, okExitCodes: [0, 1] });
  assert.equal(r.exitCode, 1, r.stdout);
  assert.match(r.stdout, /src\/core may import only src\/core; "\.\.\/\.\.\/engine\/backup" is src\/engine\s+layers\/boundaries/);
});
