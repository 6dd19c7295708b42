import type { VerifyResult } from '../../rpc/protocol';
import { formatCount, plural } from '../../core/format';
import { listSome } from './slotNodeData';

/** What Verify says, pure so the exact words are unit-tested. */
export interface VerifyReport {
  severity: 'info' | 'warning' | 'error';
  message: string;
  /** The full lists for the log, when something differs. */
  log: string | undefined;
}

/** Slots share every unchanged file as a hard link: one damaged file is damaged in all of them. */
export const HARD_LINK_NOTE = 'Backups share every file that did not change between them (hard links), so the same damage shows in every backup that holds this version of the file.';

/**
 * The notification after Verify: damaged files by name (the first few, then "and N more"),
 * what hard links mean for the other slots, and nothing about a repair (none is offered yet).
 */
export function verifyReport(r: VerifyResult, slotName: string): VerifyReport {
  if (!r.verified) return { severity: 'warning', message: `The backup of ${slotName} cannot be verified: ${r.note ?? 'no checksums were recorded for it'}.`, log: undefined };
  const damaged = [...r.changed, ...r.missing];
  if (damaged.length === 0 && r.extra.length === 0) {
    return { severity: 'info', message: `The backup of ${slotName} is intact: ${plural(r.checked, 'file')} match the checksums recorded when it was made.${r.note ? ` ${r.note}` : ''}`, log: undefined };
  }
  const list = (label: string, xs: string[]) => (xs.length ? [`${label} (${formatCount(xs.length)}):`, ...xs.slice(0, 200).map((x) => `  ${x}`), ...(xs.length > 200 ? [`  … and ${formatCount(xs.length - 200)} more`] : [])] : []);
  const log = ['differs from the checksums recorded when it was made:', ...list('changed', r.changed), ...list('missing', r.missing), ...list('not in the manifest', r.extra)].join('\n');
  if (damaged.length === 0) {
    return { severity: 'warning', message: `The backup of ${slotName} holds ${plural(r.extra.length, 'file')} it did not have when it was made: ${listSome(r.extra.map((x) => `"${x}"`), 3)}. The files it was made with are intact.`, log };
  }
  const parts = [r.changed.length ? `${formatCount(r.changed.length)} changed` : '', r.missing.length ? `${formatCount(r.missing.length)} missing` : ''].filter((x) => x !== '').join(', ');
  return {
    severity: 'error',
    message: `The backup of ${slotName} is damaged: ${plural(damaged.length, 'file')} (${parts}): ${listSome(damaged.map((x) => `"${x}"`), 3)}. ${HARD_LINK_NOTE}`,
    log,
  };
}
