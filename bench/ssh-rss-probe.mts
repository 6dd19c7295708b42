// Peak resident set of the engine (the CLI's node process, rsync and ssh not counted: hwm-probe.cjs)
// for backups to a ring over SSH: a first backup, then two with 1 % of the files changed, for each
// build given, alternated, twice. A real sshd on 127.0.0.1 (test/helpers/sshd.ts), stopped after.
//   node --conditions=import --import tsx bench/ssh-rss-probe.mts dist [other-build/dist …]
// N=100000 (default) files of ~45 bytes in folders of 100; the tree and rings are removed after.
import { mkdirSync, writeFileSync, readdirSync, readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startSshd } from '../test/helpers/sshd';

const probe = join(import.meta.dirname, 'hwm-probe.cjs');

const dists = process.argv.slice(2);
if (dists.length === 0) throw new Error('Name at least one build folder (dist) to measure.');
const afters: Array<() => Promise<void>> = [];
const sshd = await startSshd({ after: (fn) => afters.push(fn) });
const work = mkdtempSync(join(tmpdir(), 'm3probe-'));
try {
  const src = join(work, 'src');
  const N = Number(process.env.N ?? 100000);
  for (let d = 0; d < N / 100; d++) {
    mkdirSync(join(src, `dir-${d}`), { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(src, `dir-${d}`, `file with name ${f}.txt`), `content ${d} ${f}\n`.repeat(3));
  }
  const touch = (round: number) => { for (let d = 0; d < N / 100; d++) writeFileSync(join(src, `dir-${d}`, `file with name ${round % 100}.txt`), `changed ${round}\n`); };
  for (const rep of [0, 1]) for (const dist of dists) {
    const ring = join(work, `ring-${rep}-${dists.indexOf(dist)}`);
    mkdirSync(ring);
    const hwm = mkdtempSync(join(work, 'hwm-'));
    const out: string[] = [];
    for (let round = 0; round < 3; round++) {
      if (round > 0) touch(round + rep * 10);
      const r = spawnSync(process.execPath, [join(dist, 'cli.js'), 'backup', '--source', src, '--target', sshd.target(ring), '--snapshot', 'none', '--slots', '3'],
        { env: { ...process.env, ...sshd.env, NODE_OPTIONS: `--require ${probe}`, SHADOW_SLOTS_BENCH_HWM_DIR: hwm }, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      const recs = readdirSync(hwm).map((f) => JSON.parse(readFileSync(join(hwm, f), 'utf8')) as { hwmKb: number });
      out.push(`round ${round}: ${(Math.max(...recs.map((x) => x.hwmKb)) / 1024).toFixed(1)} MB`);
      for (const f of readdirSync(hwm)) rmSync(join(hwm, f));
    }
    console.log(dist, out.join(', '));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  for (const fn of afters) await fn();
}
