/**
 * Splits a byte stream into lines as they arrive and parses the engine's `--json` events, so the
 * benchmark can time the `complete` event the moment it is written rather than at process exit.
 */
export class LineSplitter {
  private rest = '';
  constructor(private readonly onLine: (line: string) => void) {}
  push(chunk: string): void {
    const text = this.rest + chunk;
    const parts = text.split('\n');
    this.rest = parts.pop() ?? '';
    for (const p of parts) this.onLine(p);
  }
  end(): void {
    if (this.rest !== '') this.onLine(this.rest);
    this.rest = '';
  }
}

export type EngineEvent =
  | { type: 'progress'; phase: string; percent: number | null; bytes: number; files: number }
  | { type: 'complete'; elapsedMs: number }
  | { type: 'result'; result: Record<string, unknown> }
  | { type: 'other'; value: unknown };

/** Parses one stdout line of `backup --json`; returns null for a line that is not JSON. */
export function parseEngineLine(line: string): EngineEvent | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  let v: unknown;
  try { v = JSON.parse(trimmed); } catch { return null; }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (o['type'] === 'progress' && typeof o['phase'] === 'string') {
    return { type: 'progress', phase: o['phase'], percent: typeof o['percent'] === 'number' ? o['percent'] : null, bytes: Number(o['bytes'] ?? 0), files: Number(o['files'] ?? 0) };
  }
  if (o['type'] === 'complete') return { type: 'complete', elapsedMs: Number(o['elapsedMs'] ?? Number.NaN) };
  if (o['type'] === 'result' && typeof o['result'] === 'object' && o['result'] !== null) return { type: 'result', result: o['result'] as Record<string, unknown> };
  return { type: 'other', value: v };
}

/**
 * Time spent in each phase, from the arrival times of progress events: a phase lasts from its
 * first event to the first event of the next phase (the last one until `endMs`). `startup` is
 * the time from spawning the process to its first event (node start, loading the bundle).
 */
export function phaseDurations(events: readonly { atMs: number; phase: string }[], endMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  if (events.length > 0) out['startup'] = events[0]!.atMs;
  let current: { phase: string; since: number } | null = null;
  for (const e of events) {
    if (current && e.phase === current.phase) continue;
    if (current) out[current.phase] = (out[current.phase] ?? 0) + (e.atMs - current.since);
    current = { phase: e.phase, since: e.atMs };
  }
  if (current) out[current.phase] = (out[current.phase] ?? 0) + Math.max(0, endMs - current.since);
  return out;
}
