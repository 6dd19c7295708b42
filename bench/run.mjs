// `npm run bench`: bundles a benchmark (bench/main.ts: the engine against the recipe and rsnapshot;
// bench/targets.ts: what each target kind costs) into bench/.work and runs it in this process, so
// Ctrl-C reaches the code that releases mounts and loop devices.
//   node bench/run.mjs [args]           both, one after the other, each in its own process
//                                       (args go to the main benchmark; --quick to both)
//   node bench/run.mjs main [args]      the main benchmark only
//   node bench/run.mjs targets [args]   the target-kinds benchmark only
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const selector = process.argv[2];

if (selector !== 'main' && selector !== 'targets') {
  const args = process.argv.slice(2);
  const self = new URL(import.meta.url).pathname;
  let worst = 0;
  for (const [entry, entryArgs] of [['main', args], ['targets', args.includes('--quick') ? ['--quick'] : []]]) {
    const r = spawnSync(process.execPath, [self, entry, ...entryArgs], { stdio: 'inherit' });
    if (r.signal) process.kill(process.pid, r.signal);
    worst = Math.max(worst, r.status ?? 1);
  }
  process.exit(worst);
}

process.argv.splice(2, 1);
const outfile = `${root}bench/.work/${selector === 'main' ? 'bench' : selector}.mjs`;
await build({
  entryPoints: [`${root}bench/${selector}.ts`],
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
