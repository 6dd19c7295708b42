import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Measure } from '../../../bench/lib/contenders';
import { report, type ReportContext, type Series, type SizeResults } from '../../../bench/lib/report';

const ctx: ReportContext = { wanted: ['raw', 'rsnapshot', 'shadow-slots'], quick: false, rounds: 3, seed: 1 };
const series = (ms: number[], extra: Partial<Measure> = {}, invalid: string[] = []): Series => ({ valid: ms.map((t) => ({ toCompleteMs: t, totalMs: t + 500, ...extra })), invalid });

function size(files: number, over: Partial<SizeResults>): SizeResults {
  return { s1: {}, s2: {}, s3: {}, seedMs: {}, files, bytes: 0, notRun: {}, load: [1, 1], sourceFs: '', targetFs: '', ...over };
}

test('targets are judged on medians measured in the same run', () => {
  const r = size(20_000, {
    s1: { raw: series([1000, 1100, 900]), rsnapshot: series([1500, 1400, 1600]), 'shadow-slots': series([1040, 990, 2000], { peakRssKb: 90 * 1024 }) },
    s2: { raw: series([1600, 1700, 1500]), rsnapshot: series([2000]), 'shadow-slots': series([1060, 1100, 1000]) },
    s3: { raw: series([500]), rsnapshot: series([700]), 'shadow-slots': series([600]) },
  });
  const rep = report([r], { entries: 10_000, firstMs: 90, medianMs: 80, samples: 15 }, ctx);
  const v = Object.fromEntries(rep.targets.map((t) => [t.name, { m: t.measured, ok: t.op === 'le' ? t.measured <= t.limit : t.measured < t.limit }]));
  assert.equal(v['S1 20k shadow-slots/raw']!.m, 1.04);
  assert.equal(v['S1 20k shadow-slots/raw']!.ok, true);
  assert.equal(v['S1 20k shadow-slots/rsnapshot']!.m, 1040 / 1500);
  assert.equal(v['S2 20k shadow-slots S2/S1']!.m, 1060 / 1040);
  assert.equal(v['S2 20k shadow-slots/raw S2']!.m, 1060 / 1600);
  assert.equal(v['S4 20k peak RSS']!.m, 90);
  assert.equal(v['S5 listing 10,000 entries']!.m, 80);
  assert.equal(rep.lines.length, 5);
  assert.match(rep.lines[0]!, /^S1 .* shadow-slots\/raw 1\.04 PASS, shadow-slots\/rsnapshot 0\.69 PASS$/);
});

test('invalid runs do not count, and a contender without valid runs gives NOT RUN, not PASS', () => {
  const r = size(20_000, {
    s1: { raw: series([1000]), rsnapshot: series([1000]), 'shadow-slots': series([], {}, ['slot differs from source', 'slot differs from source']) },
    s2: { raw: series([1000]), rsnapshot: series([1000]), 'shadow-slots': series([100], {}, ['ring has 15 slots']) },
  });
  const rep = report([r], 'listSlotDirectory is missing', ctx);
  const line = (p: string) => rep.lines.find((l) => l.startsWith(p))!;
  assert.match(line('S1'), /shadow-slots n\/a \(2 invalid\)/);
  assert.match(line('S1'), /shadow-slots\/raw n\/a NOT RUN/);
  assert.match(line('S2'), /shadow-slots 100 ms \(1 invalid\)/);
  assert.match(line('S5'), /not run \(listSlotDirectory is missing\) → NOT RUN$/);
  assert.ok(!rep.targets.some((t) => t.name.startsWith('S1') && t.name.includes('shadow-slots') && t.measured <= t.limit));
});

test('a contender that was not run is reported as such', () => {
  const r = size(20_000, { s1: { raw: series([1000]), rsnapshot: series([1200]) }, notRun: { 'shadow-slots': 'engine not available' } });
  const rep = report([r], 'x', ctx);
  assert.match(rep.lines[0]!, /shadow-slots not run/);
});
