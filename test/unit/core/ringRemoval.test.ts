// Deleting one slot: a drop and the moves that close the gap, checked like rename(2) would check
// them (a step's source must exist and its destination must be free), at every instant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRemoval, type RingState } from '../../../src/core/ring';

const ring = (numbers: number[]): RingState => ({ format: 1, entries: numbers.map((n) => ({ number: n, id: `id${n}` })) });

function simulate(numbers: number[], remove: number) {
  const plan = planRemoval(ring(numbers), remove);
  const occupied = new Map(numbers.map((n) => [String(n), `id${n}`]));
  for (const step of plan.steps) {
    assert.notEqual(step.kind, 'promote', 'a removal never promotes');
    const from = String(step.kind === 'promote' ? '' : step.from);
    const to = step.kind === 'drop' ? `trash/${step.id}` : step.kind === 'move' ? String(step.to) : '0';
    assert.equal(occupied.get(from), step.id, `step source ${from} holds ${step.id}`);
    assert.ok(!occupied.has(to), `step target ${to} must be free (collision)`);
    occupied.set(to, occupied.get(from)!);
    occupied.delete(from);
  }
  return { plan, occupied };
}

test('deleting a middle slot drops it first, then moves every slot above it down by one, lowest first', () => {
  const { plan, occupied } = simulate([0, 1, 2, 3, 4], 2);
  assert.deepEqual(plan.steps, [
    { kind: 'drop', from: 2, id: 'id2' },
    { kind: 'move', from: 3, to: 2, id: 'id3' },
    { kind: 'move', from: 4, to: 3, id: 'id4' },
  ]);
  assert.deepEqual(plan.final.entries, [{ number: 0, id: 'id0' }, { number: 1, id: 'id1' }, { number: 2, id: 'id3' }, { number: 3, id: 'id4' }]);
  assert.equal(plan.removed.id, 'id2');
  assert.equal(occupied.get('trash/id2'), 'id2');
});

test('deleting slot 0 makes slot 1 the newest; deleting the oldest moves nothing', () => {
  assert.deepEqual(simulate([0, 1, 2], 0).plan.final.entries.map((e) => e.id), ['id1', 'id2']);
  assert.deepEqual(simulate([0, 1, 2], 2).plan.steps, [{ kind: 'drop', from: 2, id: 'id2' }]);
});

test('deleting the only slot leaves an empty ring', () => {
  const { plan, occupied } = simulate([0], 0);
  assert.deepEqual(plan.final.entries, []);
  assert.deepEqual([...occupied.keys()], ['trash/id0']);
});

test('every position of rings of 1 to 7 slots, with and without gaps: no collision, no gap left, order kept', () => {
  const shapes: number[][] = [];
  for (let n = 1; n <= 7; n++) shapes.push(Array.from({ length: n }, (_, i) => i));
  shapes.push([0, 2, 3], [1, 2, 5], [0, 1, 4, 5, 9], [3]);
  for (const numbers of shapes) {
    for (const remove of numbers) {
      const { plan, occupied } = simulate(numbers, remove);
      const kept = numbers.filter((n) => n !== remove).map((n) => `id${n}`);
      assert.deepEqual(plan.final.entries.map((e) => e.id), kept, `${numbers} minus ${remove}`);
      assert.deepEqual(plan.final.entries.map((e) => e.number), kept.map((_, i) => i), 'numbered 0…n-1');
      for (const e of plan.final.entries) assert.equal(occupied.get(String(e.number)), e.id, `folder ${e.number} holds what ring.json says`);
    }
  }
});

test('a slot number the ring does not have is refused', () => {
  assert.throws(() => planRemoval(ring([0, 1]), 2), /no slot 2/);
  assert.throws(() => planRemoval(ring([]), 0), /no slot 0/);
});
