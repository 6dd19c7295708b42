// `npm run bench`: bundles the benchmark (bench/main.ts and the engine code it measures directly,
// such as the tree view's folder listing) into bench/.work and runs it in this process, so Ctrl-C
// reaches the code that releases mounts and loop devices.
import { build } from 'esbuild';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
// `node bench/run.mjs targets …` runs the target-kinds benchmark (bench/targets.ts) instead.
const entry = process.argv[2] === 'targets' ? 'targets' : 'main';
if (entry !== 'main') process.argv.splice(2, 1);
const outfile = `${root}bench/.work/${entry === 'main' ? 'bench' : entry}.mjs`;
await build({
  entryPoints: [`${root}bench/${entry}.ts`],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
  define: { 'import.meta.dirname': JSON.stringify(`${root}bench`) },
});
await import(pathToFileURL(outfile).href);
