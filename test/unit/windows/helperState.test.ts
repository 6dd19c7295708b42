import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHelperState, toProgressEvent, type HelperState } from '../../../src/core/windows/helperState';
import { followHelperState, HelperDidNotStart } from '../../../src/platform/windows/stateFollower';
import type { ProgressEvent } from '../../../src/core/progress';

const startedAt = new Date();
function state(over: Partial<HelperState> = {}): HelperState {
  return {
    format: 1, profile: 'project', runId: '20261126T070000Z-a1b2c3', pid: 4242, status: 'running', phase: 'copy', message: 'Copying from the shadow copy',
    percent: 45, bytes: 1234567, files: 12, rate: 12939428, etaSeconds: 83, startedAt: startedAt.toISOString(), updatedAt: new Date().toISOString(),
    exitCode: null, error: null, warnings: [], ...over,
  };
}

test('parser: the helper\'s file (PowerShell layout, BOM tolerated) becomes the engine\'s ProgressEvent', () => {
  const text = '\uFEFF' + JSON.stringify(state(), null, 4).replace(/": /g, '":  ');
  const parsed = parseHelperState(text)!;
  assert.deepEqual(toProgressEvent(parsed), { phase: 'copy', message: 'Copying from the shadow copy', percent: 45, bytes: 1234567, files: 12, rate: 12939428, etaSeconds: 83 } satisfies ProgressEvent);
});

test('parser: torn, empty, foreign or unknown-phase files are skipped, not errors', () => {
  const full = JSON.stringify(state());
  for (const bad of ['', '{', full.slice(0, full.length / 2), 'null', '[]', JSON.stringify({ ...state(), format: 2 }), JSON.stringify({ ...state(), phase: 'teleport' }), JSON.stringify({ ...state(), status: 'weird' })]) {
    assert.equal(parseHelperState(bad), undefined, bad.slice(0, 40));
  }
  assert.equal(parseHelperState(JSON.stringify({ ...state(), percent: 'x' }))!.percent, null);
});

async function tempDir(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'ss-win-state-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes the way the helper does: a temp file, then a rename over progress.json. */
async function replace(file: string, s: HelperState | string) {
  await writeFile(`${file}.tmp-1`, typeof s === 'string' ? s : JSON.stringify(s));
  await rename(`${file}.tmp-1`, file);
}

test('follower: ignores the previous run, follows atomic replaces and torn writes, ends on a terminal state', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'progress.json');
  await replace(file, state({ runId: 'old', status: 'complete', phase: 'done', startedAt: new Date(Date.now() - 3600_000).toISOString() }));
  const events: ProgressEvent[] = [];
  const following = followHelperState(file, { notBefore: startedAt, intervalMs: 20, onProgress: (e) => events.push(e) });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await sleep(80);
  await replace(file, state({ phase: 'snapshot', message: 'Creating a shadow copy', percent: null, bytes: 0, files: 0 }));
  await sleep(80);
  await writeFile(file, '{"format":1,"runId":"20261126'); // a torn write must not end or break the follower
  await sleep(80);
  await replace(file, state({ bytes: 500, percent: 10 }));
  await sleep(80);
  await replace(file, state({ status: 'complete', phase: 'done', message: 'The backup finished successfully.', percent: 100, exitCode: 0 }));
  const final = await following;
  assert.equal(final.status, 'complete');
  assert.equal(final.exitCode, 0);
  assert.deepEqual(events.map((e) => e.phase), ['snapshot', 'copy', 'done']);
  assert.equal(events[1]!.bytes, 500);
});

test('follower: a task that never starts is reported, and cancellation stops following', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'progress.json');
  await assert.rejects(followHelperState(file, { notBefore: new Date(), intervalMs: 10, startTimeoutMs: 100 }), HelperDidNotStart);
  const controller = new AbortController();
  await replace(file, state());
  const following = followHelperState(file, { notBefore: startedAt, intervalMs: 10, signal: controller.signal });
  setTimeout(() => controller.abort(new Error('user cancelled')), 50);
  await assert.rejects(following, /user cancelled/);
});
