// Every `npm run` script must run something that exists: a script naming a file nobody committed
// (issue 19: `demo` pointed at scripts/demo.mjs) fails only for the user who tries it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** What each `&&`-step of a script starts: an interpreter's script file, or a package binary. */
function problems(name: string, line: string): string[] {
  const found: string[] = [];
  let built = false;
  for (const step of line.split('&&').map((s) => s.trim().split(/\s+/))) {
    const [command, ...args] = step;
    if (command === 'node' || command === 'bash' || command === 'sh') {
      const file = args.find((a) => !a.startsWith('-'));
      if (file === undefined) { found.push(`${name}: "${step.join(' ')}" names no script file`); continue; }
      // dist/ is build output: it exists only after an earlier step of the same script built it.
      if (file.startsWith('dist/')) { if (!built) found.push(`${name}: runs ${file} without building it first`); continue; }
      if (!existsSync(join(root, file))) found.push(`${name}: ${file} does not exist`);
      if (file === 'scripts/build.mjs') built = true;
    } else if (!existsSync(join(root, 'node_modules', '.bin', command!))) {
      found.push(`${name}: ${command} is neither node/bash nor an installed package binary`);
    }
  }
  return found;
}

test('every npm script runs a file or binary that exists', () => {
  assert.ok(Object.keys(scripts).length >= 5);
  assert.deepEqual(Object.entries(scripts).flatMap(([name, line]) => problems(name, line)), []);
});
