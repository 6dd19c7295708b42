// Bundles the three entry points. The extension must be CommonJS (VS Code loads it with require);
// the engine and the CLI are bundled the same way so they run on Node 20 and on VS Code's runtime
// without node_modules beside them.
import { build } from 'esbuild';
import { chmod, cp } from 'node:fs/promises';

const quiet = process.argv.includes('--quiet');
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: production ? false : 'linked',
  minify: production,
  logLevel: quiet ? 'warning' : 'info',
  legalComments: 'none',
};

await Promise.all([
  build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] }),
  build({ ...common, entryPoints: ['src/engine/main.ts'], outfile: 'dist/engine.js' }),
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } }),
]);
await chmod('dist/cli.js', 0o755);
// The Windows helper and installer are constant scripts shipped as assets, never generated.
await cp('src/platform/windows/assets', 'dist/windows', { recursive: true });
