// Preloaded (NODE_OPTIONS=--require) into the engine's node processes by the benchmark: when the
// process exits it records its own peak resident set (VmHWM), which is exact however short the
// run — polling /proc from outside could miss a final spike. Children such as rsync are not node
// and are not counted, which is what scenario 4 asks for. The record also holds the process's own
// CPU time (all its threads, not rsync's) and the node flags it was started with: the flags the
// engine's launcher gives (ENGINE_NODE_FLAGS) are part of what is measured, and the record shows
// they were there.
// CommonJS on purpose: an ES module preload (--import) makes node load the CJS bundle through
// its ESM loader, which costs the measured process 0.2–0.5 s of extra start-up on this machine.
// process.getBuiltinModule (node ≥ 20.16) keeps this file free of require().
const fs = process.getBuiltinModule('node:fs');
const path = process.getBuiltinModule('node:path');

const dir = process.env.SHADOW_SLOTS_BENCH_HWM_DIR;
if (dir) {
  process.on('exit', () => {
    try {
      const status = fs.readFileSync('/proc/self/status', 'utf8');
      const hwmKb = Number((/^VmHWM:\s+(\d+) kB/m.exec(status) ?? [])[1]);
      const cpu = process.cpuUsage();
      const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
      fs.writeFileSync(path.join(dir, `${process.pid}.json`), JSON.stringify({ pid: process.pid, ppid: process.ppid, argv: process.argv.slice(1), execArgv: process.execArgv, hwmKb, cpuMs }));
    } catch {
      // Best effort: a missing record shows up as "no RSS measured" in the report.
    }
  });
}
