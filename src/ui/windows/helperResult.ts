/**
 * The helper's state file turned into what Back Up Now shows on every platform: the same progress
 * text as the engine's work-done progress, and the same BackupResult for the summary. Pure.
 */
import { progressDetail, type ProgressEvent } from '../../core/progress';
import { HELPER_EXIT_MESSAGES } from '../../core/windows/codes';
import type { HelperState } from '../../core/windows/helperState';
import type { BackupResult, SlotSummary } from '../../rpc/protocol';

/** The engine's progress text (core/progress), and the event itself: Back Up Now smooths rate and time left from it on both paths alike. */
export function helperProgress(e: ProgressEvent): { message: string; percentage: number | undefined; event: ProgressEvent } {
  return { message: progressDetail(e), percentage: e.percent ?? undefined, event: e };
}

export type HelperRunOutcome =
  | { kind: 'result'; result: BackupResult }
  | { kind: 'cancelled' }
  | { kind: 'failed'; message: string };

/**
 * `state` is the helper's final state; `slots` the ring listed afterwards (the run's slot is the
 * one whose id is the run id: slot 0 when complete, outside the ring when partial).
 */
export function helperOutcome(state: HelperState, slots: readonly SlotSummary[]): HelperRunOutcome {
  if (state.status === 'cancelled') return { kind: 'cancelled' };
  if (state.status === 'failed' || state.status === 'running') {
    const byCode = state.exitCode !== null ? HELPER_EXIT_MESSAGES[state.exitCode] : undefined;
    const message = [state.error, byCode].filter((m): m is string => !!m).join(' ')
      || `The elevated helper stopped without a result${state.exitCode !== null ? ` (exit ${state.exitCode})` : ''}.`;
    return { kind: 'failed', message };
  }
  const slot = slots.find((s) => s.id === state.runId)
    ?? { number: null, id: state.runId, state: state.status === 'complete' ? 'complete' : 'partial', path: '', manifest: null };
  const durationMs = Math.max(0, Date.parse(state.updatedAt) - Date.parse(state.startedAt)) || 0;
  const outcome: BackupResult['outcome'] = state.status === 'partial' ? 'partial' : state.warnings.length > 0 ? 'complete-with-warnings' : 'complete';
  return { kind: 'result', result: { slot, outcome, durationMs, timeToCompleteMs: durationMs, warnings: state.warnings, notes: [] } };
}
