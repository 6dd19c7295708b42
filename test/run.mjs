// Runs every test suite and ends with one plain line: "N passed, N failed, N skipped".
// Each suite is a folder of *.test.ts files run by node's test runner (through tsx), or a script
// that writes its own counts. A suite that cannot run here skips its tests itself and says why.
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, '.test-output');
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));

/** Order matters: fast, pure suites first, so a broken build fails quickly. */
const suites = [
  { name: 'unit', dir: 'test/unit' },
  { name: 'integration', dir: 'test/integration' },
  { name: 'btrfs', dir: 'test/btrfs' },
  { name: 'reliability', dir: 'test/reliability' },
  // Rings over SSH against a real sshd on 127.0.0.1 (each test skips, saying why, where sshd cannot run).
  { name: 'ssh', dir: 'test/ssh' },
  // ZFS on zfs-fuse (pools on files): its files start the daemon if none answers and stop only that one.
  { name: 'zfs', dir: 'test/zfs' },
  { name: 'vscode', script: 'test/vscode/run.mjs' },
];

async function findTests(dir) {
  const found = [];
  async function walk(d) {
    let entries;
    try { entries = await readdir(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.test.ts')) found.push(p);
    }
  }
  await walk(join(root, dir));
  return found;
}

function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

function parseTap(text) {
  const num = (key) => Number((text.match(new RegExp(`^# ${key} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
  return { passed: num('pass'), failed: num('fail') + num('cancelled'), skipped: num('skipped') + num('todo') };
}

await mkdir(outDir, { recursive: true });
// Counts go to a private folder: another run (or a test) clearing .test-output must not lose them.
const summaryDir = await mkdtemp(join(tmpdir(), 'shadow-slots-summary-'));
const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];
for (const suite of suites) {
  if (only.length > 0 && !only.includes(suite.name)) continue;
  const summaryFile = join(summaryDir, `${suite.name}.summary`);
  let counts;
  let code;
  if (suite.dir) {
    const files = await findTests(suite.dir);
    if (files.length === 0) { lines.push(`${suite.name}: no test files`); continue; }
    console.log(`\n=== suite ${suite.name}: ${files.length} files ===`);
    code = await run(process.execPath, [
      // execa 9 (and its dependencies) resolve only under the "import" condition; Node 20.19+ can then require() them.
      '--conditions=import', '--import', 'tsx', '--test', '--test-concurrency=1',
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${summaryFile}`,
      ...files.map((f) => relative(root, f)),
    ]);
    counts = parseTap(await readFile(summaryFile, 'utf8').catch(() => ''));
  } else {
    console.log(`\n=== suite ${suite.name} ===`);
    code = await run(process.execPath, [suite.script], { SHADOW_SLOTS_SUMMARY: summaryFile });
    counts = JSON.parse(await readFile(summaryFile, 'utf8').catch(() => '{"passed":0,"failed":1,"skipped":0,"note":"suite wrote no summary"}'));
    if (counts.note) console.log(`${suite.name}: ${counts.note}`);
  }
  if (code !== 0 && counts.failed === 0) counts.failed = 1; // a crashed runner must not look green
  totals.passed += counts.passed; totals.failed += counts.failed; totals.skipped += counts.skipped;
  lines.push(`${suite.name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
}
await rm(summaryDir, { recursive: true, force: true });
console.log('\n' + lines.join('\n'));
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed > 0 ? 1 : 0);
