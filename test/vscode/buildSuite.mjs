// Compiles the in-editor mocha suite (test/vscode/suite/*.ts) to CommonJS files in an output folder,
// for the code-server harness (run.mjs) and for @vscode/test-cli (.vscode-test.mjs). vscode and
// the extension host provides vscode; mocha is bundled.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

export async function buildSuite(outdir = join(root, 'out/vscode-suite')) {
  const dir = join(root, 'test/vscode/suite');
  const entryPoints = readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
  await build({
    entryPoints, outdir, bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: 'inline', logLevel: 'error',
    // mocha is bundled into index.js, so the suite runs from any folder (a temporary one here).
    external: ['vscode'],
  });
  return outdir;
}

if (import.meta.url === `file://${process.argv[1]}`) await buildSuite(process.argv[2]);
