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
import { runCli } from '../../helpers/cli';
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
  const rawRun = async () => {
    await run('ssh', [...sshArgs, `cd ${raw} && rm -rf 2 && { [ ! -d 1 ] || mv 1 2; } && mv 0 1 && mkdir 0`]);
    await run('rsync', ['-rltDx', '--delete', `--link-dest=${raw}/1`, '-e', e, `${src}/`, `127.0.0.1:${raw}/0/`]);
  };
  let r = await oursRun(); if (r.code !== 0) throw new Error(r.stderr);
  await rawRun();
  const ratios: number[] = [];
  let k = 0;
  for (let pair = 0; pair < 7; pair++) {
    const change = () => { for (let i = 0; i < 200; i++) { k++; writeFileSync(join(src, `d${k % 100}`, `f${(k * 7) % 200}`), `changed ${k} ${Date.now()}`); } };
    change();
    const a0 = performance.now(); r = await oursRun(); const a = performance.now() - a0; if (r.code !== 0) throw new Error(r.stderr);
    change();
    const b0 = performance.now(); await rawRun(); const b = performance.now() - b0;
    ratios.push(a / b);
    console.log(`pair ${pair}: ours ${Math.round(a)} ms, raw ${Math.round(b)} ms, ratio ${(a / b).toFixed(2)}`);
  }
  ratios.sort((x, y) => x - y);
  console.log(`median ratio ${ratios[Math.floor(ratios.length / 2)]!.toFixed(2)}`);
});
