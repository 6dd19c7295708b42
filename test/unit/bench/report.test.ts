import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter, parseEngineLine, phaseDurations } from '../../../bench/lib/jsonLines';
import { formatTarget, median, ratio, verdict } from '../../../bench/lib/stats';

test('median of odd, even and empty series', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('verdicts: ≤ and < limits, and a missing measurement is never a pass', () => {
  assert.equal(verdict({ name: 'a', measured: 1.05, limit: 1.05, op: 'le', unit: '' }), 'PASS');
  assert.equal(verdict({ name: 'a', measured: 1.0501, limit: 1.05, op: 'le', unit: '' }), 'MISS');
  assert.equal(verdict({ name: 'b', measured: 1, limit: 1, op: 'lt', unit: '' }), 'MISS');
  assert.equal(verdict({ name: 'b', measured: 0.99, limit: 1, op: 'lt', unit: '' }), 'PASS');
  assert.equal(verdict({ name: 'c', measured: ratio(Number.NaN, 3), limit: 1, op: 'le', unit: '' }), 'NOT RUN');
  assert.ok(Number.isNaN(ratio(3, 0)));
  assert.equal(formatTarget({ name: 'S5', measured: 160, limit: 150, op: 'le', unit: ' ms' }), 'S5 160 ms (target ≤ 150 ms) MISS');
});

test('LineSplitter joins lines split across chunks', () => {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  s.push('{"type":"prog'); s.push('ress"}\n{"a":1}\npartial'); s.end();
  assert.deepEqual(lines, ['{"type":"progress"}', '{"a":1}', 'partial']);
});

test('parseEngineLine reads the CLI --json events and ignores other lines', () => {
  assert.deepEqual(parseEngineLine('{"type":"progress","phase":"copy","percent":40,"bytes":10,"files":3,"rate":null,"etaSeconds":null}'),
    { type: 'progress', phase: 'copy', percent: 40, bytes: 10, files: 3 });
  assert.deepEqual(parseEngineLine('{"type":"complete","elapsedMs":812,"slot":{}}'), { type: 'complete', elapsedMs: 812 });
  const r = parseEngineLine('{"type":"result","result":{"timeToCompleteMs":800,"durationMs":900}}');
  assert.equal(r?.type, 'result');
  assert.equal(parseEngineLine('warning: not json'), null);
  assert.equal(parseEngineLine('{broken'), null);
});

test('phaseDurations attributes time to phases from event arrival', () => {
  const d = phaseDurations([{ atMs: 100, phase: 'preflight' }, { atMs: 150, phase: 'copy' }, { atMs: 400, phase: 'copy' }, { atMs: 900, phase: 'finalize' }], 1000);
  assert.deepEqual(d, { startup: 100, preflight: 50, copy: 750, finalize: 100 });
});

test('scenario 7 (over SSH): per-pair ratios of whole processes and their median judged against 1.10 (slot 0 complete beside it), not primary; not run says why; absent when not asked for', async () => {
  const { report } = await import('../../../bench/lib/report');
  const ctx = { wanted: ['raw', 'shadow-slots'] as const, quick: true, rounds: 3, seed: 1, scenarios: [] };
  const m = (ms: number) => ({ toCompleteMs: ms, totalMs: ms + 500 });
  const pairs = [[900, 1000], [1300, 1000], [1050, 1000]].map(([o, r], i) => ({ ours: m(o!), raw: m(r!), ratio: o! / r!, totalRatio: (o! + 500) / r!, oursFirst: i % 2 === 0 }));
  const ssh = { files: 20_000, pairs, invalid: [], medianRatio: 1.05, medianTotalRatio: 1.55, seedMs: { ours: 1, raw: 1 }, load: [1, 1] as [number, number] };
  const rep = report([], 'not measured', { ...ctx, wanted: [...ctx.wanted] }, ssh);
  const line = rep.lines.find((l) => l.startsWith('S7'));
  assert.ok(line, rep.lines.join('\n'));
  assert.match(line, /whole process per pair 1\.40, 1\.80, 1\.55; median 1\.55 MISS; to slot 0 complete median 1\.05 PASS/);
  const whole = rep.targets.find((t) => t.name.startsWith('S7') && t.name.endsWith('whole process'));
  assert.equal(whole?.limit, 1.10);
  assert.equal(whole?.measured, 1.55);
  assert.ok(rep.pairLines.some((l) => l.startsWith(`${whole!.name}: pairs 1.40 1.80 1.55`)), rep.pairLines.join('\n'));
  assert.ok(!rep.primary.some((t) => t.name.startsWith('S7')), 'loopback SSH on a shared machine does not decide the exit code');
  const quick = report([], 'x', { ...ctx, wanted: [...ctx.wanted] }, { ...ssh, medianTotalRatio: 1.08 });
  assert.equal(verdict(quick.targets.find((t) => t.name.endsWith('whole process'))!), 'PASS');
  assert.equal(verdict(report([], 'x', { ...ctx, wanted: [...ctx.wanted] }, { ...ssh, medianRatio: 1.2 }).targets.find((t) => t.name.endsWith('to slot 0 complete'))!), 'MISS');
  const notRun = report([], 'x', { ...ctx, wanted: [...ctx.wanted] }, 'openssh-server is not installed');
  assert.ok(notRun.lines.some((l) => l === 'S7 over loopback SSH: not run (openssh-server is not installed) → NOT RUN'));
  assert.equal(verdict(notRun.targets.find((t) => t.name.startsWith('S7'))!), 'NOT RUN');
  assert.ok(!report([], 'x', { ...ctx, wanted: [...ctx.wanted] }).lines.some((l) => l.startsWith('S7')));
});
