import { formatBytes, formatCount, formatDuration } from './format';

/** Phases of a backup, in order; reported with every progress event. */
export const PHASES = ['preflight', 'lock', 'repair', 'snapshot', 'copy', 'rotate', 'manifest', 'release', 'finalize', 'done'] as const;
export type Phase = (typeof PHASES)[number];

export interface ProgressEvent {
  phase: Phase;
  message: string;
  /** 0–100 while copying, as rsync estimates it; null where unknown. */
  percent: number | null;
  bytes: number;
  files: number;
  /** Bytes per second as rsync reports it. */
  rate: number | null;
  etaSeconds: number | null;
}

/** The one-line text a backup's progress shows, in the editor and through the Windows helper alike. */
export function progressDetail(e: ProgressEvent): string {
  return e.phase === 'copy'
    ? `${e.percent ?? 0}% · ${formatCount(e.files)} files · ${e.rate !== null ? `${formatBytes(e.rate)}/s` : ''}${e.etaSeconds !== null ? ` · ${formatDuration(e.etaSeconds * 1000)} left` : ''}`
    : e.message;
}
