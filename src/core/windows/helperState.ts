import { PHASES, type Phase, type ProgressEvent } from '../progress';

/**
 * The progress file the elevated helper replaces atomically (temp + rename) in its user-readable
 * state folder, `progress.json`. The unelevated extension follows it (platform/windows/stateFollower.ts).
 */
export type HelperStatus = 'running' | 'complete' | 'partial' | 'failed' | 'cancelled';
export const TERMINAL_STATUSES: readonly HelperStatus[] = ['complete', 'partial', 'failed', 'cancelled'];

/** The helper's progress is the engine's ProgressEvent plus the run's identity and outcome. */
export interface HelperState extends ProgressEvent {
  format: 1;
  profile: string;
  /** The slot id of this run; a new run has a new id. */
  runId: string;
  pid: number;
  status: HelperStatus;
  startedAt: string;
  updatedAt: string;
  /** The helper's exit code once it ended (see HELPER_EXIT_MESSAGES). */
  exitCode: number | null;
  error: string | null;
  warnings: string[];
}

const STATUSES: readonly string[] = ['running', 'complete', 'partial', 'failed', 'cancelled'];

/**
 * Parses progress.json. Returns undefined for anything that is not a complete, well-formed state
 * (an empty or torn file read mid-replace on a file system without atomic rename, or a newer format),
 * so a follower simply waits for the next read.
 */
export function parseHelperState(text: string): HelperState | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  if (r['format'] !== 1 || typeof r['runId'] !== 'string' || !STATUSES.includes(r['status'] as string)
    || !(PHASES as readonly string[]).includes(r['phase'] as string) || typeof r['startedAt'] !== 'string' || typeof r['updatedAt'] !== 'string') {
    return undefined;
  }
  return {
    format: 1,
    profile: str(r['profile']) ?? '',
    runId: r['runId'],
    pid: num(r['pid']) ?? 0,
    status: r['status'] as HelperStatus,
    phase: r['phase'] as Phase,
    message: str(r['message']) ?? '',
    percent: num(r['percent']),
    bytes: num(r['bytes']) ?? 0,
    files: num(r['files']) ?? 0,
    rate: num(r['rate']),
    etaSeconds: num(r['etaSeconds']),
    startedAt: r['startedAt'],
    updatedAt: r['updatedAt'],
    exitCode: num(r['exitCode']),
    error: str(r['error']),
    warnings: Array.isArray(r['warnings']) ? r['warnings'].filter((w): w is string => typeof w === 'string') : [],
  };
}

/** The same event the engine emits on other platforms. */
export function toProgressEvent(s: HelperState): ProgressEvent {
  return { phase: s.phase, message: s.message, percent: s.percent, bytes: s.bytes, files: s.files, rate: s.rate, etaSeconds: s.etaSeconds };
}

export function isTerminal(s: HelperState): boolean {
  return TERMINAL_STATUSES.includes(s.status);
}
