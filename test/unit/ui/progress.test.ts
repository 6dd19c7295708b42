// Progress as people read it (src/core/progress.ts): a rate measured over time and smoothed, a
// time left only when it means something, plurals, one unit system.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressDetail, ProgressTracker, type ProgressEvent } from '../../../src/core/progress';

const copy = (percent: number | null, bytes: number, files: number, extra: Partial<ProgressEvent> = {}): ProgressEvent =>
  ({ phase: 'copy', message: 'Copying', percent, bytes, files, rate: null, etaSeconds: null, ...extra });

test('a 0.3 s copy shows neither a rate nor a time left, and "1 file" in the singular', () => {
  const t = new ProgressTracker();
  t.update(copy(0, 0, 0), 0);
  const v = t.update(copy(100, 40, 1, { rate: 0, etaSeconds: 0 }), 300);
  assert.equal(v.text, '100% · 1 file, 40 bytes');
  assert.equal(v.rate, undefined);
  assert.equal(v.etaSeconds, undefined);
});

test('rsync\'s own rate and ETA are ignored: "66 % · 0 ms left" cannot happen', () => {
  const t = new ProgressTracker();
  t.update(copy(0, 0, 0), 0);
  const v = t.update(copy(66, 66e6, 500, { rate: 0, etaSeconds: 0 }), 2_000);
  assert.doesNotMatch(v.text, /left/, 'no time left after 2 s: too early to say');
  assert.equal(v.text, '66% · 500 files, 66.0 MB · 33.0 MB/s');
});

test('a steady copy: the time left follows from the smoothed rate and rsync\'s percentage, rounded coarsely', () => {
  const t = new ProgressTracker();
  // 10 MB/s, 1 GB in total; an event every 500 ms.
  let v = t.update(copy(0, 0, 0), 0);
  for (let ms = 500; ms <= 6_000; ms += 500) v = t.update(copy(ms / 1000, ms * 10_000, ms / 10), ms);
  assert.ok(Math.abs(v.rate! - 10e6) < 1, String(v.rate));
  assert.ok(Math.abs(v.etaSeconds! - 94) < 0.5, String(v.etaSeconds));
  assert.equal(v.text, '6% · 600 files, 60.0 MB · 10.0 MB/s · about 2 min left');
});

test('the rate is smoothed: one stalled second does not make the estimate jump', () => {
  const t = new ProgressTracker();
  let v = t.update(copy(0, 0, 0), 0);
  let bytes = 0;
  for (let ms = 500; ms <= 10_000; ms += 500) { bytes += 5e6; v = t.update(copy(bytes / 2e8 * 100, bytes, 1), ms); }
  const before = v.rate!;
  v = t.update(copy(bytes / 2e8 * 100, bytes, 1), 11_000); // nothing copied for a second
  assert.ok(v.rate! > before * 0.8, `the rate fell from ${before} to ${v.rate}`);
  assert.ok(v.rate! < before, 'but it does fall');
});

test('near the end (99 %) or with a few seconds to go, no time left is shown', () => {
  const t = new ProgressTracker();
  t.update(copy(0, 0, 0), 0);
  // 10 MB/s of 1 GB: at 10 s, 10 % and 90 s to go ("about 2 min").
  for (let ms = 1_000; ms <= 9_000; ms += 1_000) t.update(copy(ms / 1000, ms * 1e4, 1), ms);
  assert.match(t.update(copy(10, 1e8, 1), 10_000).text, /about 2 min left$/);
  // rsync finds more to copy late (incremental recursion): at 99 % the estimate is noise.
  assert.doesNotMatch(t.update(copy(99, 1.05e8, 1), 10_500).text, /left/);
  const short = new ProgressTracker();
  short.update(copy(0, 0, 0), 0);
  for (let ms = 1_000; ms <= 6_000; ms += 1_000) short.update(copy(ms / 1000 * 15, ms * 1e4, 1), ms);
  assert.doesNotMatch(short.update(copy(94, 6.2e7, 1), 6_200).text, /left/, 'under 5 s to go: not worth an estimate');
});

test('other phases show the engine\'s message; a single event (no history) never claims a rate', () => {
  const t = new ProgressTracker();
  assert.deepEqual(t.update({ phase: 'snapshot', message: 'Taking a btrfs snapshot', percent: null, bytes: 0, files: 0, rate: null, etaSeconds: null }, 0), { percent: undefined, text: 'Taking a btrfs snapshot', rate: undefined, etaSeconds: undefined });
  assert.equal(t.update({ phase: 'rotate', message: 'Rotating the ring', percent: null, bytes: 0, files: 0, rate: null, etaSeconds: null }, 1).percent, 100);
  assert.equal(progressDetail(copy(42.7, 1_234_000, 1, { rate: 5e6, etaSeconds: 0 })), '42% · 1 file, 1.2 MB');
});
