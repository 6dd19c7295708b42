/**
 * Crash-test hooks. When SHADOW_SLOTS_FAULT names a point, the process kills itself there with
 * SIGKILL — the same as a power cut for everything the ring's journal must survive. The crash
 * tests use it to hit instants too short to reach with a timer (between two renames of a rotation).
 */
export function faultPoint(name: string): void {
  const wanted = process.env['SHADOW_SLOTS_FAULT'];
  if (wanted !== undefined && wanted === name) process.kill(process.pid, 'SIGKILL');
}
