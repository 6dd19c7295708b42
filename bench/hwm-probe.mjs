// Preloaded (NODE_OPTIONS=--import) into the engine's node processes by the benchmark: when the
// process exits it records its own peak resident set (VmHWM), which is exact however short the
// run — polling /proc from outside could miss a final spike. Children such as rsync are not node
// and are not counted, which is what scenario 4 asks for.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.SHADOW_SLOTS_BENCH_HWM_DIR;
if (dir) {
  process.on('exit', () => {
    try {
      const status = readFileSync('/proc/self/status', 'utf8');
      const hwmKb = Number((/^VmHWM:\s+(\d+) kB/m.exec(status) ?? [])[1]);
      writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify({ pid: process.pid, ppid: process.ppid, argv: process.argv.slice(1), hwmKb }));
    } catch {
      // Best effort: a missing record shows up as "no RSS measured" in the report.
    }
  });
}
