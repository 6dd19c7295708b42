import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refreshRemoteWhileVisible, REMOTE_REFRESH_MS, type VisibleView } from '../../../src/ui/slots/remoteRefresh';

/** A view whose visibility the test flips, as VS Code does when the user switches side bars. */
function fakeView(visible: boolean): VisibleView & { show(v: boolean): void; listeners: number } {
  const listeners = new Set<(e: { visible: boolean }) => unknown>();
  const view = {
    visible,
    get listeners() { return listeners.size; },
    onDidChangeVisibility(l: (e: { visible: boolean }) => unknown) { listeners.add(l); return { dispose: () => listeners.delete(l) }; },
    show(v: boolean) { view.visible = v; for (const l of listeners) l({ visible: v }); },
  };
  return view;
}

test('a remote ring is listed again every interval only while the Slots view is visible, and at once when it comes into sight', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const view = fakeView(true);
  let refreshes = 0;
  const sub = refreshRemoteWhileVisible(view, () => true, () => { refreshes++; });
  assert.equal(refreshes, 0, 'activation lists the ring itself');
  t.mock.timers.tick(REMOTE_REFRESH_MS);
  assert.equal(refreshes, 1);
  t.mock.timers.tick(REMOTE_REFRESH_MS);
  assert.equal(refreshes, 2);
  view.show(false);
  t.mock.timers.tick(10 * REMOTE_REFRESH_MS);
  assert.equal(refreshes, 2, 'no listing while nobody looks');
  view.show(true);
  assert.equal(refreshes, 3, 'coming into sight lists at once');
  t.mock.timers.tick(REMOTE_REFRESH_MS - 1);
  assert.equal(refreshes, 3);
  t.mock.timers.tick(1);
  assert.equal(refreshes, 4);
  sub.dispose();
  t.mock.timers.tick(10 * REMOTE_REFRESH_MS);
  view.show(true);
  assert.equal(refreshes, 4, 'nothing after dispose');
  assert.equal(view.listeners, 0);
});

test('a ring on this computer is never polled (its ring.json is watched instead); switching the target to a server starts the polling', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const view = fakeView(false);
  let remote = false;
  let refreshes = 0;
  const sub = refreshRemoteWhileVisible(view, () => remote, () => { refreshes++; });
  view.show(true);
  t.mock.timers.tick(5 * REMOTE_REFRESH_MS);
  assert.equal(refreshes, 0);
  remote = true;
  t.mock.timers.tick(REMOTE_REFRESH_MS);
  assert.equal(refreshes, 1);
  sub.dispose();
});
