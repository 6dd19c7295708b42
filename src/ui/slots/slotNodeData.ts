/**
 * What the Slots view shows, computed from engine listings and directory entries without VS Code,
 * so it is unit-tested directly (test/unit/ui/). Tree classes only copy these fields into TreeItems.
 */
import type { RingListing, SlotSummary } from '../../rpc/protocol';
import type { SlotCounts } from '../../core/manifest';
import type { SlotDirEntry } from '../../platform/listing';

/** Codicon ids plus an optional theme colour id. */
export interface IconRef { id: string; color?: string }

export interface SlotNodeView {
  label: string;
  description: string;
  /** Markdown. */
  tooltip: string;
  /** Matched in package.json `when` clauses: `slot:complete`, `slot:partial`, `slot:in-progress`, `slot:interrupted`. */
  contextValue: string;
  icon: IconRef;
  expandable: boolean;
}

export interface EntryNodeView {
  label: string;
  description: string;
  tooltip: string;
  contextValue: 'slotFolder' | 'slotFile' | 'slotLink';
  icon: IconRef | 'file' | 'folder';
  expandable: boolean;
  /** Slash-separated path inside the slot. */
  relPath: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local date and time, `YYYY-MM-DD HH:MM`: sortable, unambiguous, and how people name backups. */
export function formatLocalTime(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** `just now`, `5 min ago`, `3 h ago`, `2 days ago`. */
export function formatAge(ms: number): string {
  if (ms < 0) return 'in the future';
  const min = Math.floor(ms / 60_000);
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} days ago`;
}

/** `+added ~changed −deleted`, the way a diff stat reads. */
export function formatChanges(c: SlotCounts): string {
  return `+${c.created} ~${c.changed} \u2212${c.deleted}`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n; let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

function isLiveCopy(slot: SlotSummary): boolean {
  const m = slot.manifest;
  return m !== null && (m.snapshot.method === 'none' || m.snapshot.warning !== null);
}

function stateText(slot: SlotSummary): string {
  const m = slot.manifest;
  if (slot.state === 'complete') {
    if (!m) return 'complete';
    if (isLiveCopy(slot)) return 'live copy (no snapshot)';
    return m.snapshot.method === 'unknown' ? 'complete' : `${m.snapshot.method} snapshot`;
  }
  if (slot.state === 'in-progress') return 'in progress';
  if (slot.state === 'interrupted') return 'interrupted';
  return 'partial';
}

function slotIcon(slot: SlotSummary): IconRef {
  switch (slot.state) {
    case 'complete': return isLiveCopy(slot) ? { id: 'archive', color: 'list.warningForeground' } : { id: 'archive' };
    case 'partial': return { id: 'warning', color: 'list.warningForeground' };
    case 'in-progress': return { id: 'sync~spin' };
    default: return { id: 'error', color: 'list.errorForeground' };
  }
}

/** The node of one slot. `now` is passed in so relative ages are testable. */
export function describeSlot(slot: SlotSummary, now: Date): SlotNodeView {
  const m = slot.manifest;
  const taken = m ? new Date(m.endedAt ?? m.startedAt) : undefined;
  const name = slot.number === null ? 'new slot' : `${slot.number}`;
  const label = taken ? `${name} \u00b7 ${formatLocalTime(taken)}` : name;
  const parts: string[] = [];
  if (taken) parts.push(formatAge(now.getTime() - taken.getTime()));
  if (m?.counts) parts.push(formatChanges(m.counts));
  parts.push(stateText(slot));
  return {
    label,
    description: parts.join(' \u00b7 '),
    tooltip: slotTooltip(slot),
    contextValue: `slot:${slot.state}`,
    icon: slotIcon(slot),
    expandable: true,
  };
}

function slotTooltip(slot: SlotSummary): string {
  const m = slot.manifest;
  const lines = [`**Slot ${slot.number ?? '(not in the ring yet)'}** \u2014 ${stateText(slot)}`, ''];
  const row = (k: string, v: string) => lines.push(`- ${k}: ${v}`);
  row('Folder', '`' + slot.path + '`');
  if (!m) {
    row('Manifest', 'none (slot found on disk without Shadow Slots metadata)');
    return lines.join('\n');
  }
  row('Started', `${formatLocalTime(new Date(m.startedAt))} (${m.startedAt})`);
  if (m.endedAt) row('Ended', `${formatLocalTime(new Date(m.endedAt))} (${m.endedAt})`);
  row('Source', '`' + m.source + '`');
  row('Snapshot', m.snapshot.method + (m.snapshot.id ? ` (${m.snapshot.id})` : ''));
  if (m.snapshot.warning) row('Warning', m.snapshot.warning);
  if (m.counts) {
    const c = m.counts;
    row('Files', `${c.files} in ${c.dirs} folders, ${formatBytes(c.totalSize)}`);
    row('Changes', `${c.created} added, ${c.changed} changed, ${c.deleted} deleted; ${formatBytes(c.bytesSent)} copied`);
  }
  if (m.rsync.exitCode !== null) row('rsync exit code', String(m.rsync.exitCode) + (m.rsync.version ? ` (rsync ${m.rsync.version})` : ''));
  if (m.adopted) row('Adopted', 'made before Shadow Slots managed this ring');
  for (const w of m.warnings) row('Warning', w);
  row('Id', '`' + m.id + '`');
  return lines.join('\n');
}

/** The node of one file or folder inside a slot. */
export function describeEntry(entry: SlotDirEntry, parentRel: string): EntryNodeView {
  const relPath = parentRel === '' ? entry.name : `${parentRel}/${entry.name}`;
  const when = formatLocalTime(new Date(entry.mtimeMs));
  if (entry.kind === 'folder') {
    return { label: entry.name, description: '', tooltip: relPath, contextValue: 'slotFolder', icon: 'folder', expandable: true, relPath };
  }
  if (entry.kind === 'file') {
    return { label: entry.name, description: formatBytes(entry.size), tooltip: `${relPath}\n${formatBytes(entry.size)}, modified ${when}`, contextValue: 'slotFile', icon: 'file', expandable: false, relPath };
  }
  return {
    label: entry.name,
    description: entry.kind === 'symlink' ? 'link' : 'special file',
    tooltip: `${relPath}\n${entry.kind === 'symlink' ? 'symbolic link' : 'special file'}, modified ${when}`,
    contextValue: 'slotLink',
    icon: { id: entry.kind === 'symlink' ? 'file-symlink-file' : 'file-binary' },
    expandable: false,
    relPath,
  };
}

/** Ring slots by number, then those outside the ring (in progress, interrupted). */
export function orderSlots(listing: RingListing): SlotSummary[] {
  return [...listing.slots].sort((a, b) => (a.number ?? Number.MAX_SAFE_INTEGER) - (b.number ?? Number.MAX_SAFE_INTEGER));
}

/** The newest complete slot: what "how old is my backup" means. */
export function newestComplete(listing: RingListing): SlotSummary | undefined {
  return orderSlots(listing).find((s) => s.state === 'complete' && s.number !== null);
}

export interface StatusView {
  text: string;
  tooltip: string;
  severity: 'ok' | 'warning' | 'error';
}

/**
 * The status bar when no backup runs: the age of the newest complete slot, a warning when it is
 * older than `staleAfterHours`, an error when the last run failed (the thing users of other tools
 * complained nobody told them about).
 */
export function describeStatus(listing: RingListing | undefined, lastFailure: string | undefined, staleAfterHours: number, now: Date, missedRuns: readonly string[] = []): StatusView {
  if (lastFailure !== undefined) {
    return { text: '$(error) Backup failed', tooltip: `The last backup failed: ${lastFailure}\nClick to open the Slots view.`, severity: 'error' };
  }
  if (missedRuns.length > 0) {
    // A schedule promised a slot that is not there: the newest slot is older than the schedule implies.
    const latest = [...missedRuns].sort().at(-1)!;
    const newestSlot = listing ? newestComplete(listing) : undefined;
    const newestWhen = newestSlot?.manifest ? formatLocalTime(new Date(newestSlot.manifest.endedAt ?? newestSlot.manifest.startedAt)) : 'none yet';
    return {
      text: `$(warning) Backup missed`,
      tooltip: `${missedRuns.length} scheduled backup${missedRuns.length === 1 ? ' was' : 's were'} missed or failed (latest due ${formatLocalTime(new Date(latest))}); newest complete slot: ${newestWhen}.\nClick to open the Slots view; run "Shadow Slots: Back Up Now" or open the log.`,
      severity: 'warning',
    };
  }
  const newest = listing ? newestComplete(listing) : undefined;
  const m = newest?.manifest;
  if (!newest || !m) {
    return { text: '$(archive) No backup', tooltip: 'No complete backup yet. Run "Shadow Slots: Back Up Now".', severity: listing ? 'warning' : 'ok' };
  }
  const taken = new Date(m.endedAt ?? m.startedAt);
  const age = now.getTime() - taken.getTime();
  const stale = age > staleAfterHours * 3_600_000;
  return {
    text: `$(archive) Backup ${formatAge(age)}`,
    tooltip: `Newest complete backup: slot ${newest.number}, ${formatLocalTime(taken)}${stale ? ` \u2014 older than ${staleAfterHours} h` : ''}\nClick to open the Slots view.`,
    severity: stale ? 'warning' : 'ok',
  };
}
