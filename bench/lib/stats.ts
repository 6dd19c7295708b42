/** Medians, ratios and the targets: pure, so the verdicts are unit-tested. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function ratio(value: number, anchor: number): number {
  return Number.isFinite(value) && Number.isFinite(anchor) && anchor > 0 ? value / anchor : Number.NaN;
}

export interface TargetCheck {
  /** Short name printed in the report, e.g. "S1 shadow-slots/raw". */
  name: string;
  measured: number;
  limit: number;
  /** 'le': measured ≤ limit passes; 'lt': measured < limit passes. */
  op: 'le' | 'lt';
  unit: string;
}

export type Verdict = 'PASS' | 'MISS' | 'NOT RUN';

/** A measurement that could not be taken is never a pass. */
export function verdict(t: TargetCheck): Verdict {
  if (!Number.isFinite(t.measured)) return 'NOT RUN';
  return (t.op === 'le' ? t.measured <= t.limit : t.measured < t.limit) ? 'PASS' : 'MISS';
}

export function formatTarget(t: TargetCheck): string {
  const sym = t.op === 'le' ? '≤' : '<';
  const m = Number.isFinite(t.measured) ? formatNumber(t.measured) : 'n/a';
  return `${t.name} ${m}${t.unit} (target ${sym} ${formatNumber(t.limit)}${t.unit}) ${verdict(t)}`;
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  if (Math.abs(n) >= 100) return Math.round(n).toString();
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}
