// `node bench/filter-count.mjs [files]`: how long the filter counter takes on a large tree
// (default 200,000 files in ~10,000 folders, a node_modules-like part included), with a typical rule
// set. Prints the walk time of a first and a second (warm cache) run. Not a test: it asserts nothing
// about speed, it reports it.
import { build } from 'esbuild';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = new URL('..', import.meta.url).pathname;
const outfile = `${root}bench/.work/filter-count.mjs`;
await build({
  stdin: {
    contents: `export { countFilterMatches } from './src/platform/filter/walk';
export { parseFilterText } from './src/core/filter/parse';
export { buildRuleList } from './src/core/filter/ruleList';
export { summaryLine } from './src/core/filter/diagnostics';`,
    resolveDir: root, loader: 'ts',
  },
  outfile, bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', logLevel: 'warning',
});
const { countFilterMatches, parseFilterText, buildRuleList, summaryLine } = await import(pathToFileURL(outfile).href);

const FILES = Number(process.argv[2] ?? 200_000);
const PER_DIR = 20;
const RULES = `# a typical workspace filter
- node_modules/
- .git/
- *.log
- *.tmp
- /build/
- dist/
+ keep/***
- **/cache/**
- *.o
- [Tt]humbs.db
- .DS_Store
- /vendor/*/tests/
`;

const work = await mkdtemp(join(tmpdir(), 'ss-filter-bench-'));
try {
  const made = performance.now();
  let files = 0;
  let dir = 0;
  const tops = ['src', 'node_modules', 'build', 'docs', 'vendor', 'assets', 'keep', 'tests'];
  while (files < FILES) {
    const top = tops[dir % tops.length];
    const rel = join(top, `pkg${Math.floor(dir / 50)}`, dir % 7 === 0 ? 'cache' : `d${dir}`);
    await mkdir(join(work, rel), { recursive: true });
    const writes = [];
    for (let i = 0; i < PER_DIR && files < FILES; i++, files++) {
      const ext = ['.ts', '.js', '.log', '.o', '.md', '.json'][i % 6];
      writes.push(writeFile(join(work, rel, `f${i}${ext}`), 'x'.repeat(i * 13 % 400)));
    }
    await Promise.all(writes);
    dir++;
  }
  console.log(`made ${files.toLocaleString('en-US')} files in ${dir.toLocaleString('en-US')} folders in ${((performance.now() - made) / 1000).toFixed(1)} s`);
  const list = buildRuleList(parseFilterText(RULES));
  for (const label of ['first walk', 'second walk (warm cache)']) {
    const started = performance.now();
    let slices = 0;
    const counts = await countFilterMatches(work, list.entries, { onProgress: () => { slices++; } });
    const ms = performance.now() - started;
    const mem = process.memoryUsage().heapUsed / 1e6;
    console.log(`${label}: ${(ms / 1000).toFixed(2)} s for ${counts.totalFiles.toLocaleString('en-US')} files, ${list.entries.length} rules; ${summaryLine(counts)}; ${slices} event-loop slices; heap ${mem.toFixed(0)} MB`);
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
