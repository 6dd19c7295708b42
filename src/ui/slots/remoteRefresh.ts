/**
 * A ring on a server cannot be watched from here (no file watcher over SSH). Instead, the Slots
 * view lists it again when it comes into sight and every `intervalMs` while it stays in sight —
 * each a round trip over the engine's kept connection, never a timer while nobody looks. Our own
 * backups refresh the view by themselves (the engine's ring-changed notification).
 *
 * No runtime import of vscode: the view is anything with `visible` and a visibility event, so the
 * timing is unit-tested with fake timers.
 */
export interface VisibleView {
  readonly visible: boolean;
  onDidChangeVisibility(listener: (e: { visible: boolean }) => unknown): { dispose(): unknown };
}

/** How often a remote ring is listed again while the Slots view is visible. */
export const REMOTE_REFRESH_MS = 60_000;

export function refreshRemoteWhileVisible(view: VisibleView, isRemote: () => boolean, refresh: () => void, intervalMs = REMOTE_REFRESH_MS): { dispose(): void } {
  let timer: ReturnType<typeof setInterval> | undefined;
  const stop = () => { if (timer) clearInterval(timer); timer = undefined; };
  const tick = () => { if (isRemote()) refresh(); };
  const follow = (visible: boolean) => {
    stop();
    if (!visible) return;
    tick();
    timer = setInterval(tick, intervalMs);
  };
  const sub = view.onDidChangeVisibility((e) => follow(e.visible));
  // Already in sight at activation: the first listing comes from activate(); only the timer starts here.
  if (view.visible) timer = setInterval(tick, intervalMs);
  return { dispose: () => { stop(); sub.dispose(); } };
}
