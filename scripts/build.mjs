// Bundles the three entry points. The extension must be CommonJS (VS Code loads it with require);
// the engine and the CLI are bundled the same way so they run on Node 20 and on VS Code's runtime
// without node_modules beside them.
import { build } from 'esbuild';
import { chmod, cp } from 'node:fs/promises';

const quiet = process.argv.includes('--quiet');
const production = process.argv.includes('--production');
// --outdir <dir>: build somewhere other than dist/ (packaging builds into its staging folder, so a
// concurrent `npm run build` cannot tear the files that go into the .vsix).
const outIndex = process.argv.indexOf('--outdir');
const out = outIndex > 0 ? process.argv[outIndex + 1] : 'dist';

// The CLI's shebang carries the engine's node flags (src/core/engineNodeFlags.ts, the one place
// they are named); that module is bundled here on the fly, as this script is plain JavaScript.
const flagsModule = await build({ entryPoints: ['src/core/engineNodeFlags.ts'], bundle: true, format: 'esm', platform: 'node', write: false, logLevel: 'warning' });
const { engineShebang } = await import(`data:text/javascript;base64,${Buffer.from(flagsModule.outputFiles[0].text).toString('base64')}`);

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
  build({ ...common, entryPoints: ['src/extension.ts'], outfile: `${out}/extension.js`, external: ['vscode'] }),
  build({ ...common, entryPoints: ['src/engine/main.ts'], outfile: `${out}/engine.js` }),
  build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: `${out}/cli.js`, banner: { js: engineShebang() } }),
]);
await chmod(`${out}/cli.js`, 0o755);
// The Windows helper and installer are constant scripts shipped as assets, never generated.
await cp('src/platform/windows/assets', `${out}/windows`, { recursive: true });
