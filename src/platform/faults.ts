/**
 * Crash-test hooks. When SHADOW_SLOTS_FAULT names a point, the process kills itself there with
 * SIGKILL — the same as a power cut for everything the ring's journal must survive. The crash
 * tests use it to hit instants too short to reach with a timer (between two renames of a rotation).
 * With SHADOW_SLOTS_FAULT_ACTION=pause it stops there instead (SHADOW_SLOTS_FAULT_PAUSE_MS,
 * default 2000), so a test can cut the connection to a remote ring at that very instant.
 */
export function faultPoint(name: string): void {
  const wanted = process.env['SHADOW_SLOTS_FAULT'];
  if (wanted === undefined || wanted !== name) return;
  if (process.env['SHADOW_SLOTS_FAULT_ACTION'] === 'pause') {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(process.env['SHADOW_SLOTS_FAULT_PAUSE_MS'] ?? 2000));
    return;
  }
  process.kill(process.pid, 'SIGKILL');
}
