// One unit system for every number the CLI, the Slots view, notifications and tooltips print
// (src/core/format.ts): decimal SI sizes, grouped counts, plurals, coarse estimates, ages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAge, formatBytes, formatCount, formatDuration, formatEta, formatRate, nextAgeChange, plural, wrapWords } from '../../../src/core/format';
import { formatBytes as filterBytes } from '../../../src/core/filter/format';

test('sizes are decimal SI (1 kB = 1,000 bytes) everywhere, the filter features included', () => {
  assert.equal(formatBytes(0), '0 bytes');
  assert.equal(formatBytes(1), '1 byte');
  assert.equal(formatBytes(999), '999 bytes');
  assert.equal(formatBytes(1000), '1.0 kB');
  assert.equal(formatBytes(4096), '4.1 kB');
  assert.equal(formatBytes(63_000_000), '63.0 MB');
  assert.equal(formatBytes(999_960), '1.0 MB', 'never "1000.0 kB"');
  assert.equal(formatBytes(123_456_789), '123 MB');
  assert.equal(formatBytes(2e12), '2.0 TB');
  assert.equal(formatBytes(Number.NaN), '?');
  assert.equal(filterBytes, formatBytes, 'the filter features print sizes with the same function');
  assert.equal(formatRate(12_300_000), '12.3 MB/s');
  assert.equal(formatRate(500), '500 bytes/s');
});

test('counts are grouped and nouns pluralised: "1 file", "4,002 files"', () => {
  assert.equal(formatCount(1234567), '1,234,567');
  // Grouped by hand (no ICU): the same as en-US toLocaleString for every count we print.
  for (const n of [0, 7, 999, 1000, 12_345, 100_000, 999_999, 1_000_000, 200_000_000, -1234, 12.6]) {
    assert.equal(formatCount(n), Math.round(n).toLocaleString('en-US'), String(n));
  }
  assert.equal(plural(1, 'file'), '1 file');
  assert.equal(plural(0, 'file'), '0 files');
  assert.equal(plural(4002, 'file'), '4,002 files');
  assert.equal(plural(2, 'older backup'), '2 older backups');
});

test('durations and estimates: exact when measured, coarse when estimated', () => {
  assert.equal(formatDuration(850), '850 ms');
  assert.equal(formatDuration(4_230), '4.2 s');
  assert.equal(formatDuration(59_990), '1 min 0 s');
  assert.equal(formatDuration(185_000), '3 min 5 s');
  assert.equal(formatDuration(7_800_000), '2 h 10 min');
  assert.equal(formatEta(12), 'about 10 s');
  assert.equal(formatEta(3), 'about 5 s');
  assert.equal(formatEta(44), 'about 40 s');
  assert.equal(formatEta(200), 'about 3 min');
  assert.equal(formatEta(4_800), 'about 1 h 20 min');
  assert.equal(formatEta(7_200), 'about 2 h');
});

test('ages read at the precision shown, and the next change of the text is exactly when it happens', () => {
  assert.equal(formatAge(10_000), 'just now');
  assert.equal(formatAge(5 * 60_000), '5 min ago');
  assert.equal(formatAge(3 * 3_600_000), '3 h ago');
  assert.equal(formatAge(47 * 3_600_000), '47 h ago');
  assert.equal(formatAge(72 * 3_600_000), '3 days ago');
  assert.equal(formatAge(-1), 'in the future');
  for (const age of [0, 10_000, 59_999, 61_000, 30 * 60_000 + 1, 3_599_999, 3_600_000, 5 * 3_600_000 + 7, 47 * 3_600_000 + 5, 49 * 3_600_000, 10 * 86_400_000 + 3]) {
    const next = nextAgeChange(age);
    assert.ok(next > 0, `${age}: ${next}`);
    assert.equal(formatAge(age + next - 1), formatAge(age), `${age}: the text holds until just before the change`);
    assert.notEqual(formatAge(age + next), formatAge(age), `${age}: and changes right then`);
  }
  assert.equal(nextAgeChange(-5000), 5000);
});

test('long review lines are wrapped at spaces for QuickPick rows, which never wrap themselves', () => {
  assert.deepEqual(wrapWords('A systemd user timer runs while you are logged in, or always after `loginctl enable-linger`.', 40), [
    'A systemd user timer runs while you are', 'logged in, or always after `loginctl', 'enable-linger`.',
  ]);
  assert.deepEqual(wrapWords('short', 40), ['short']);
  assert.deepEqual(wrapWords('averyveryverylongword x', 5), ['averyveryverylongword', 'x']);
});
