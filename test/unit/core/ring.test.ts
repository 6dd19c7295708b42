import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRotation, parseRingState, serializeRingState, stepStatus, slotNumbersFromNames, type RingState } from '../../../src/core/ring';

const ring = (numbers: number[]): RingState => ({ format: 1, entries: numbers.map((n) => ({ number: n, id: `id${n}` })) });

/** Applies a plan to a set of occupied folder names, failing on any collision, like rename(2) would. */
function simulate(numbers: number[], capacity: number) {
  const plan = planRotation(ring(numbers), capacity, 'new');
  const occupied = new Map(numbers.map((n) => [String(n), `id${n}`]));
  occupied.set('incoming/new', 'new');
  for (const step of plan.steps) {
    const from = step.kind === 'promote' ? 'incoming/new' : String(step.from);
    const to = step.kind === 'drop' ? `trash/${step.id}` : step.kind === 'promote' ? '0' : String(step.to);
    assert.ok(occupied.has(from), `step source ${from} must exist`);
    assert.ok(!occupied.has(to), `step target ${to} must be free (collision)`);
    occupied.set(to, occupied.get(from)!);
    occupied.delete(from);
  }
  return { plan, occupied };
}

test('a new slot becomes 0 and the others move up by one', () => {
  const { plan, occupied } = simulate([0, 1, 2], 16);
  assert.deepEqual(plan.final.entries.map((e) => [e.number, e.id]), [[0, 'new'], [1, 'id0'], [2, 'id1'], [3, 'id2']]);
  assert.equal(occupied.get('0'), 'new');
  assert.equal(occupied.get('3'), 'id2');
  assert.deepEqual(plan.dropped, []);
});

test('a full ring drops exactly the oldest slot, first', () => {
  const { plan, occupied } = simulate([0, 1, 2, 3], 4);
  assert.equal(plan.steps[0]!.kind, 'drop');
  assert.deepEqual(plan.dropped, ['id3']);
  assert.equal(occupied.get('trash/id3'), 'id3');
  assert.deepEqual([...occupied.keys()].filter((k) => /^\d+$/.test(k)).sort(), ['0', '1', '2', '3']);
});

test('capacity 1 keeps only the new slot', () => {
  const { plan } = simulate([0], 1);
  assert.deepEqual(plan.final.entries, [{ number: 0, id: 'new' }]);
  assert.deepEqual(plan.dropped, ['id0']);
});

test('gaps (adopted or damaged rings) are closed without any rename collision', () => {
  for (const numbers of [[0, 1, 5], [2, 3], [0, 2, 4, 6], [1], [0, 1, 2, 9, 10], [3, 4, 5, 6]]) {
    for (const capacity of [2, 3, 4, 16]) {
      const { plan, occupied } = simulate(numbers, capacity);
      const slots = [...occupied.keys()].filter((k) => /^\d+$/.test(k)).map(Number).sort((a, b) => a - b);
      assert.deepEqual(slots, slots.map((_, i) => i), `contiguous after ${numbers} cap ${capacity}`);
      assert.equal(slots.length, Math.min(numbers.length + 1, capacity));
      assert.deepEqual(plan.final.entries.map((e) => e.number), slots);
      // The oldest are the ones dropped.
      const kept = plan.final.entries.slice(1).map((e) => e.id);
      assert.deepEqual(kept, numbers.slice(0, capacity - 1).map((n) => `id${n}`));
    }
  }
});

test('stepStatus decides replay from which paths exist', () => {
  assert.equal(stepStatus(true, false), 'pending');
  assert.equal(stepStatus(false, true), 'done');
  assert.equal(stepStatus(true, true), 'done');
  assert.equal(stepStatus(false, false), 'missing');
});

test('ring.json round-trips and rejects malformed content', () => {
  const state = ring([0, 1]);
  assert.deepEqual(parseRingState(serializeRingState(state)), state);
  assert.throws(() => parseRingState('{"format":2,"entries":[]}'), /unknown format/);
  assert.throws(() => parseRingState('{"format":1,"entries":[{"number":0,"id":"../x"}]}'), /invalid entry/);
  assert.throws(() => parseRingState('{"format":1,"entries":[{"number":0,"id":"a"},{"number":0,"id":"b"}]}'), /twice/);
  assert.throws(() => parseRingState('not json'));
});

test('only canonical numbered folder names are slots', () => {
  assert.deepEqual(slotNumbersFromNames(['0', '1', '10', '01', '-1', 'a', '2.5', '.shadow-slots', '3']), [0, 1, 3, 10]);
});
