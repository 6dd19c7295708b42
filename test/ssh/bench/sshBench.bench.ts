// Benchmark (issue 15): 20,000 files, 1 % changed per run, a ring over loopback SSH against the raw
// recipe done by hand over SSH (an ssh rotation command, then rsync -e ssh --link-dest), alternated,
// median of 7 per-pair ratios. Not part of `npm test` (minutes); run it alone:
//   node scripts/build.mjs --quiet && node --conditions=import --import tsx --test test/ssh/bench/sshBench.bench.ts
// It moves into the benchmark harness once that rework lands (same scenario, same figures).
import { test } from 'node:test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSshd } from '../../helpers/sshd';
import { tempDir } from '../../helpers/tmp';
import { spawn } from 'node:child_process';
import { cliPath, runCli } from '../../helpers/cli';
import { run } from '../../../src/platform/runner';

test('20,000 files, 1 % changed, over loopback SSH: Shadow Slots against the raw recipe by hand', { timeout: 1_200_000 }, async (t) => {
  const sshd = await startSshd(t);
  const dir = await tempDir(t);
  const src = join(dir, 'src');
  for (let d = 0; d < 100; d++) { mkdirSync(join(src, `d${d}`), { recursive: true }); for (let f = 0; f < 200; f++) writeFileSync(join(src, `d${d}`, `f${f}`), `file ${d}/${f} `.repeat(20)); }
  const ours = join(dir, 'ours'); const raw = join(dir, 'raw');
  mkdirSync(ours); mkdirSync(join(raw, '0'), { recursive: true });
  const sshArgs = ['-F', sshd.configFile, '-o', 'BatchMode=yes', '-p', String(sshd.port), `${sshd.user}@127.0.0.1`];
  const e = `ssh -F ${sshd.configFile} -o BatchMode=yes -p ${sshd.port} -l ${sshd.user}`;
  const oursRun = () => runCli(['backup', '--source', src, '--target', sshd.target(ours), '--snapshot', 'none', '--slots', '3'], sshd.env);
  // As the local benchmark does for a full ring: spawn → the engine's {"type":"complete"} line
  // (slot 0 complete; checksums and deleting the dropped slot follow off the critical path).
  const oursTimed = () => new Promise<{ complete: number; total: number }>((resolve, reject) => {
    const started = performance.now();
    let complete = 0;
    let buffer = '';
    const child = spawn(process.execPath, [cliPath, 'backup', '--source', src, '--target', sshd.target(ours), '--snapshot', 'none', '--slots', '3', '--json'], { env: { ...process.env, ...sshd.env }, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (c: Buffer) => {
      buffer += c.toString();
      if (complete === 0 && buffer.includes('"type":"complete"')) complete = performance.now() - started;
    });
    child.on('exit', (code) => (code === 0 ? resolve({ complete, total: performance.now() - started }) : reject(new Error(`exit ${code}`))));
  });
  const rawRun = async () => {
    await run('ssh', [...sshArgs, `cd ${raw} && rm -rf 2 && { [ ! -d 1 ] || mv 1 2; } && mv 0 1 && mkdir 0`]);
    await run('rsync', ['-rltDx', '--delete', `--link-dest=${raw}/1`, '-e', e, `${src}/`, `127.0.0.1:${raw}/0/`]);
  };
  const r = await oursRun(); if (r.code !== 0) throw new Error(r.stderr);
  await rawRun();
  const ratios: number[] = [];
  const totals: number[] = [];
  let k = 0;
  for (let pair = 0; pair < 7; pair++) {
    const change = () => { for (let i = 0; i < 200; i++) { k++; writeFileSync(join(src, `d${k % 100}`, `f${(k * 7) % 200}`), `changed ${k} ${Date.now()}`); } };
    change();
    const a = await oursTimed();
    change();
    const b0 = performance.now(); await rawRun(); const b = performance.now() - b0;
    ratios.push(a.complete / b);
    totals.push(a.total / b);
    console.log(`pair ${pair}: ours ${Math.round(a.complete)} ms to complete (${Math.round(a.total)} ms whole process), raw ${Math.round(b)} ms, ratio ${(a.complete / b).toFixed(2)} (${(a.total / b).toFixed(2)})`);
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  console.log(`median ratio to complete ${median(ratios).toFixed(2)} (goal ≤ 1.10); whole process ${median(totals).toFixed(2)}`);
});
