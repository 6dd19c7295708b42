import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Measure } from '../../../bench/lib/contenders';
import { markdown, pairs, report, wholeProcessLimit, type ReportContext, type Round, type SizeResults } from '../../../bench/lib/report';

const ctx: ReportContext = { wanted: ['raw', 'rsnapshot', 'shadow-slots'], quick: false, rounds: 7, seed: 1, scenarios: ['s2'] };
const m = (totalMs: number, extra: Partial<Measure> = {}): Measure => ({ toCompleteMs: totalMs, totalMs, ...extra });

/** Rounds from per-contender series of whole-process times (undefined: that run was invalid). */
function rounds(raw: number[], rsnapshot: number[], engine: Array<Measure | undefined>): Round[] {
  return raw.map((r, i) => ({
    measures: { raw: m(r), rsnapshot: m(rsnapshot[i]!), ...(engine[i] ? { 'shadow-slots': engine[i] } : {}) },
    invalid: engine[i] ? {} : { 'shadow-slots': 'slot differs from source' },
    load: 1.5,
  }));
}

function size(files: number, over: Partial<SizeResults>): SizeResults {
  return { rounds: {}, seedMs: {}, files, bytes: 0, notRun: {}, load: [1, 1], sourceFs: '', targetFs: '', ...over };
}

test('targets are judged on the median of per-round ratios, not on a ratio of medians', () => {
  // The recipe is slow in the very rounds the engine is slow (a busy machine): the pairs see it.
  const raw = [1000, 2000, 1000, 2000, 1000, 2000, 1000];
  const engine = [1050, 2100, 1050, 2100, 1050, 2100, 1050].map((t, i) => m(t, { toCompleteMs: t - 300, peakRssKb: (50 + i) * 1024 }));
  const r = size(20_000, { rounds: { s2: rounds(raw, raw.map((x) => x * 1.5), engine) } });
  assert.deepEqual(pairs(r.rounds.s2!, 'shadow-slots', 'raw'), [1.05, 1.05, 1.05, 1.05, 1.05, 1.05, 1.05]);
  const rep = report([r], { entries: 10_000, firstMs: 90, medianMs: 80, samples: 15 }, ctx);
  const v = Object.fromEntries(rep.targets.map((t) => [t.name, t.measured]));
  assert.equal(v['S2 20k shadow-slots/raw whole process'], 1.05);
  assert.equal(v['S2 20k shadow-slots slot 0 complete/raw whole process'], median(engine.map((e, i) => e.toCompleteMs / raw[i]!)));
  assert.ok(Math.abs(v['S2 20k shadow-slots/rsnapshot whole process']! - 1.05 / 1.5) < 1e-12);
  assert.equal(v['S4 20k peak RSS'], 56);
  assert.equal(v['S5 listing 10,000 entries'], 80);
  assert.ok(rep.pairLines.some((l) => l === 'S2 20k shadow-slots/raw whole process: pairs 1.05 1.05 1.05 1.05 1.05 1.05 1.05 → median 1.05 (≤ 1.10 PASS)'), rep.pairLines.join('\n'));
  assert.ok(rep.primary.every((t) => t.measured <= t.limit));
});

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

test('the limits of issue 16: 1.10 at 20,000 files, 1.03 at 200,000; 64 MB; the slot is complete at 0.8 of the recipe', () => {
  assert.equal(wholeProcessLimit(20_000), 1.10);
  assert.equal(wholeProcessLimit(200_000), 1.03);
  const engine = Array.from({ length: 7 }, () => m(1040, { toCompleteMs: 850, peakRssKb: 65 * 1024 }));
  const r = size(200_000, { rounds: { s2: rounds(Array(7).fill(1000), Array(7).fill(1200), engine) } });
  const rep = report([r], 'x', ctx);
  const verdicts = Object.fromEntries(rep.targets.map((t) => [t.name, t.measured <= t.limit]));
  assert.equal(verdicts['S2 200k shadow-slots/raw whole process'], false, '1.04 > 1.03');
  assert.equal(verdicts['S2 200k shadow-slots slot 0 complete/raw whole process'], false, '0.85 > 0.8');
  assert.equal(verdicts['S2 200k shadow-slots/rsnapshot whole process'], true);
  assert.equal(verdicts['S4 200k peak RSS'], false, '65 MB > 64 MB');
});

test('invalid runs leave their round out of the pairs; no valid run is NOT RUN, never PASS', () => {
  const r = size(20_000, { rounds: { s2: rounds([1000, 1000, 1000], [1000, 1000, 1000], [m(900), undefined, m(1100)]) } });
  assert.deepEqual(pairs(r.rounds.s2!, 'shadow-slots', 'raw'), [0.9, 1.1]);
  const none = size(20_000, { rounds: { s2: rounds([1000], [1000], [undefined]) } });
  const rep = report([none], 'listSlotDirectory is missing', ctx);
  assert.match(rep.lines[0]!, /shadow-slots n\/a \(1 invalid\)/);
  assert.ok(rep.pairLines.some((l) => /shadow-slots\/raw whole process: pairs none → median n\/a \(≤ 1\.10 NOT RUN\)/.test(l)), rep.pairLines.join('\n'));
  assert.match(rep.lines.find((l) => l.startsWith('S5'))!, /not run \(listSlotDirectory is missing\) → NOT RUN$/);
});

test('the markdown shows every pair with the load of its round', () => {
  const engine = [m(1100, { toCompleteMs: 700, purgeMs: 250 }), m(900, { toCompleteMs: 600 })];
  const r = size(20_000, { rounds: { s2: rounds([1000, 1000], [1500, 1500], engine) } });
  const text = markdown([r], 'x', { node: 'v20' }, report([r], 'x', ctx), ctx);
  assert.match(text, /\| 1 \| 1\.5 \| 1000 ms \| 1500 ms \| 1100 ms \/ 700 ms \/ 250 ms \| 1\.10 \| 0\.70 \| 0\.73 \|/);
  assert.match(text, /\| 2 \| 1\.5 \| 1000 ms \| 1500 ms \| 900 ms \/ 600 ms \| 0\.90 \| 0\.60 \| 0\.60 \|/);
  assert.match(text, /\| S2 20k shadow-slots\/raw whole process \| 1\.10 0\.90 \| 1\.00 \| ≤ 1\.10 \| PASS \|/);
});

test('a contender that was not run is reported as such', () => {
  const r = size(20_000, { rounds: { s2: [{ measures: { raw: m(1000), rsnapshot: m(1200) }, invalid: {}, load: 1 }] }, notRun: { 'shadow-slots': 'engine not available' } });
  const rep = report([r], 'x', ctx);
  assert.match(rep.lines[0]!, /shadow-slots not run/);
});
