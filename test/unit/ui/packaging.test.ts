// Every file package.json points at must pass .vscodeignore's allow-list, or the installed
// extension lacks it (the .vsix content itself is checked by test/vscode/run.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..', '..');

function allowList(): RegExp[] {
  return readFileSync(join(root, '.vscodeignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l.startsWith('!'))
    .map((l) => new RegExp(`^${l.slice(1).split('**').map((part) => part.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')).join('.*')}$`));
}

interface Manifest {
  main?: string;
  icon?: string;
  contributes?: {
    viewsContainers?: Record<string, Array<{ icon?: string }>>;
    views?: Record<string, Array<{ icon?: string }>>;
    grammars?: Array<{ path?: string }>;
    languages?: Array<{ configuration?: string; icon?: { light?: string; dark?: string } }>;
    snippets?: Array<{ path?: string }>;
  };
}

function referencedFiles(pkg: Manifest): Array<string> {
  const out: Array<string | undefined> = [pkg.main, pkg.icon];
  const c = pkg.contributes ?? {};
  for (const list of Object.values(c.viewsContainers ?? {})) for (const v of list) out.push(v.icon);
  for (const list of Object.values(c.views ?? {})) for (const v of list) out.push(v.icon);
  for (const g of c.grammars ?? []) out.push(g.path);
  for (const l of c.languages ?? []) { out.push(l.configuration); if (l.icon) out.push(l.icon.light, l.icon.dark); }
  for (const s of c.snippets ?? []) out.push(s.path);
  return out.filter((p): p is string => typeof p === 'string' && !p.startsWith('$(')).map((p) => p.replace(/^\.\//, ''));
}

test('every file package.json references ships in the .vsix (allowed by .vscodeignore)', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
  const allow = allowList();
  const files = referencedFiles(pkg);
  assert.ok(files.includes('dist/extension.js') && files.includes('media/icon.png'));
  for (const f of files) assert.ok(allow.some((re) => re.test(f)), `${f} is referenced by package.json but .vscodeignore keeps it out of the .vsix`);
  for (const f of files.filter((x) => !x.startsWith('dist/'))) assert.ok(existsSync(join(root, f)), `${f} is referenced by package.json but missing`);
  // The engine is started from the extension's folder at run time.
  for (const f of ['dist/engine.js', 'dist/cli.js']) assert.ok(allow.some((re) => re.test(f)), `${f} must ship`);
  for (const f of ['src/extension.ts', 'test/vscode/run.mjs', 'dist/extension.js.map', 'node_modules/execa/index.js']) assert.ok(!allow.some((re) => re.test(f)), `${f} must not ship`);
});
