/**
 * What the Slots view shows, computed from engine listings and directory entries without VS Code,
 * so it is unit-tested directly (test/unit/ui/). Tree classes only copy these fields into TreeItems.
 */
import type { RingListing, SlotSummary } from '../../rpc/protocol';
import type { SlotCounts } from '../../core/manifest';
import type { SlotDirEntry } from '../../platform/listing';
import { formatAge, formatBytes, formatCount, nextAgeChange } from '../../core/format';

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

/** Local date and time, `YYYY-MM-DD HH:MM`: sortable, unambiguous, and how messages and logs name a slot. */
export function formatLocalTime(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function dayNumber(d: Date): number {
  return Math.round(new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() / 86_400_000);
}

/**
 * The short local time of a slot row, relative to the day of `now`: `09:29` today (the age next
 * to it says how long ago), `Yesterday 23:30`, `Mon 23:30` within a week, `3 Nov 23:30` this
 * year, else `2025-11-03`. Short enough that the row fits the default sidebar width; the tooltip
 * has the full date and time.
 */
export function formatShortTime(d: Date, now: Date): string {
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const days = dayNumber(now) - dayNumber(d);
  if (days === 0) return hm;
  if (days === 1) return `Yesterday ${hm}`;
  if (days > 1 && days < 7) return `${WEEKDAYS[d.getDay()]} ${hm}`;
  if (d.getFullYear() === now.getFullYear() && days > 0) return `${d.getDate()} ${MONTHS[d.getMonth()]} ${hm}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** When a slot was taken (its end, else its start); undefined without a manifest. */
export function slotTime(slot: SlotSummary | undefined): Date | undefined {
  const m = slot?.manifest;
  return m ? new Date(m.endedAt ?? m.startedAt) : undefined;
}

/**
 * How messages name a slot: by when it was taken, because numbers move with every backup ("slot
 * 1" in yesterday's notification is another slot today). The number follows only as the position
 * it has now: `2026-11-26 07:12 (slot 0)`.
 */
export function slotName(slot: SlotSummary | undefined, number: number | null = slot?.number ?? null): string {
  const taken = slotTime(slot);
  const position = number === null ? 'not in the ring' : `slot ${number}`;
  return taken ? `${formatLocalTime(taken)} (${position})` : position;
}

/** The same for the log, which outlives positions: the slot's id too. */
export function slotLogName(slot: SlotSummary | undefined, number: number | null = slot?.number ?? null): string {
  return slot?.manifest ? `${slotName(slot, number)} [id ${slot.manifest.id}]` : slotName(slot, number);
}

/** `+added ~changed −deleted`, the way a diff stat reads; zero parts are left out, none at all is "no changes". */
export function formatChanges(c: SlotCounts): string {
  const parts = [c.created > 0 ? `+${c.created}` : '', c.changed > 0 ? `~${c.changed}` : '', c.deleted > 0 ? `\u2212${c.deleted}` : ''].filter((x) => x !== '');
  return parts.length > 0 ? parts.join(' ') : 'no changes';
}

function isLiveCopy(slot: SlotSummary): boolean {
  const m = slot.manifest;
  return m !== null && (m.snapshot.method === 'none' || m.snapshot.warning !== null);
}

/** The state in full words, for the tooltip. */
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

/** The state as one short word for the row; a complete snapshot needs none (its icon says it). */
function stateWord(slot: SlotSummary): string | undefined {
  if (slot.state === 'complete') return isLiveCopy(slot) ? 'live copy' : undefined;
  return stateText(slot);
}

/** What Verify found wrong with a slot in this session; the row and its tooltip show it. */
export interface VerifyMark {
  /** Files whose content differs from the checksums recorded when the slot was made. */
  changed: string[];
  missing: string[];
  /** When the verify ran (ISO). */
  at: string;
}

function slotIcon(slot: SlotSummary, damaged: boolean): IconRef {
  if (damaged) return { id: 'error', color: 'list.errorForeground' };
  switch (slot.state) {
    case 'complete': return isLiveCopy(slot) ? { id: 'archive', color: 'list.warningForeground' } : { id: 'archive' };
    case 'partial': return { id: 'warning', color: 'list.warningForeground' };
    case 'in-progress': return { id: 'sync~spin' };
    default: return { id: 'error', color: 'list.errorForeground' };
  }
}

/**
 * The node of one slot. `now` is passed in so relative ages are testable. The row holds what fits
 * the default sidebar width, most important first — short time, damage, state, age, changes — so
 * a narrow sidebar cuts the changes (also in the tooltip) rather than the state.
 */
export function describeSlot(slot: SlotSummary, now: Date, verify?: VerifyMark): SlotNodeView {
  const m = slot.manifest;
  const taken = slotTime(slot);
  const label = taken ? formatShortTime(taken, now) : slot.number === null ? 'new slot' : `slot ${slot.number}`;
  const damaged = verify !== undefined && verify.changed.length + verify.missing.length > 0;
  const parts: string[] = [];
  if (damaged) parts.push('damaged');
  const word = stateWord(slot);
  if (word) parts.push(word);
  if (taken) parts.push(formatAge(now.getTime() - taken.getTime()));
  if (m?.counts) parts.push(formatChanges(m.counts));
  if (parts.length === 0) parts.push(stateText(slot));
  return {
    label,
    description: parts.join(' \u00b7 '),
    tooltip: slotTooltip(slot, verify),
    contextValue: `slot:${slot.state}`,
    icon: slotIcon(slot, damaged),
    expandable: true,
  };
}

function slotTooltip(slot: SlotSummary, verify: VerifyMark | undefined): string {
  const m = slot.manifest;
  const where = slot.number === null ? '(not in the ring yet)' : `position ${slot.number}${slot.number === 0 ? ', the newest' : ''}`;
  const lines = [`**${slotTime(slot) ? formatLocalTime(slotTime(slot)!) : 'Slot'}** \u2014 ${stateText(slot)}`, ''];
  const row = (k: string, v: string) => lines.push(`- ${k}: ${v}`);
  if (verify && verify.changed.length + verify.missing.length > 0) {
    const names = [...verify.changed, ...verify.missing];
    row('Damaged', `Verify (${formatLocalTime(new Date(verify.at))}) found ${names.length} file${names.length === 1 ? '' : 's'} that differ from the checksums recorded when this slot was made: ${listSome(names.map((n) => '`' + n + '`'), 5)}`);
  }
  row('Folder', '`' + slot.path + '` (' + where + ')');
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
    row('Files', `${formatCount(c.files)} in ${formatCount(c.dirs)} folders, ${formatBytes(c.totalSize)}`);
    row('Changes', `${formatCount(c.created)} added, ${formatCount(c.changed)} changed, ${formatCount(c.deleted)} deleted; ${formatBytes(c.bytesSent)} copied`);
  }
  if (m.storage) row('Stored as', m.storage.description);
  if (m.transfer) row('Copied by', `btrfs send/receive${m.transfer.parentUuid ? ' (incremental)' : ' (full)'}`);
  if (slot.space) {
    const sp = slot.space;
    if (sp.exclusiveBytes !== null) row('Space', `${formatBytes(sp.exclusiveBytes)} freed if deleted now; ${formatBytes(sp.sharedBytes ?? 0)} shared with other slots (${sp.method})`);
    else if (sp.note) row('Space', `not measured: ${sp.note}`);
  }
  if (m.rsync.exitCode !== null) row('rsync exit code', String(m.rsync.exitCode) + (m.rsync.version ? ` (rsync ${m.rsync.version})` : ''));
  if (m.adopted) row('Adopted', 'made before Shadow Slots managed this ring');
  // The engine records the live-copy warning among the slot's warnings too: say it once.
  for (const w of new Set(m.warnings)) if (w !== m.snapshot.warning) row('Warning', w);
  row('Id', '`' + m.id + '`');
  return lines.join('\n');
}

/** "a, b, c and 4 more": the first few of a list. */
export function listSome(items: readonly string[], first = 3): string {
  if (items.length <= first) return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
  return `${items.slice(0, first).join(', ')} and ${items.length - first} more`;
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
  /** What clicking the item does: choose a target first, or show the slots. */
  action: 'configure' | 'showSlots';
}

/** Where the status bar stands: nothing configured yet, or a ring (listed, or failing to list). */
export interface StatusInput {
  listing: RingListing | undefined;
  /** False before any backup target is configured. */
  configured: boolean;
  /** Where the ring is (said in the tooltip). */
  target?: string;
  lastFailure: string | undefined;
  staleAfterHours: number;
  now: Date;
  missedRuns?: readonly string[];
}

/**
 * The status bar when no backup runs: the age of the newest complete slot, a warning when it is
 * older than `staleAfterHours`, an error when the last run failed (the thing users of other tools
 * complained nobody told them about). Before a target exists it points to Configure Backup Target.
 */
export function describeStatus(i: StatusInput): StatusView {
  const { listing, lastFailure, staleAfterHours, now } = i;
  const missedRuns = i.missedRuns ?? [];
  const where = i.target ? `\nSlots are kept in ${i.target}.` : '';
  if (!i.configured) {
    return { text: '$(archive) No backup target', tooltip: 'Shadow Slots: no backup target is configured yet.\nClick to choose the folder (ideally on another disk) where the slots are kept.', severity: 'ok', action: 'configure' };
  }
  if (lastFailure !== undefined) {
    return { text: '$(error) Backup failed', tooltip: `The last backup failed: ${lastFailure}${where}\nClick to open the Slots view.`, severity: 'error', action: 'showSlots' };
  }
  if (missedRuns.length > 0) {
    // A schedule promised a slot that is not there: the newest slot is older than the schedule implies.
    const latest = [...missedRuns].sort().at(-1)!;
    const newestSlot = listing ? newestComplete(listing) : undefined;
    const newestWhen = slotTime(newestSlot) ? formatLocalTime(slotTime(newestSlot)!) : 'none yet';
    return {
      text: `$(warning) Backup missed`,
      tooltip: `${missedRuns.length} scheduled backup${missedRuns.length === 1 ? ' was' : 's were'} missed or failed (latest due ${formatLocalTime(new Date(latest))}); newest complete backup: ${newestWhen}.\nClick to open the Slots view; run "Shadow Slots: Back Up Now" or open the log.`,
      severity: 'warning',
      action: 'showSlots',
    };
  }
  const newest = listing ? newestComplete(listing) : undefined;
  const taken = slotTime(newest);
  if (!newest || !taken) {
    return { text: '$(archive) No backup', tooltip: `No complete backup yet. Run "Shadow Slots: Back Up Now".${where}\nClick to open the Slots view.`, severity: listing ? 'warning' : 'ok', action: 'showSlots' };
  }
  const age = now.getTime() - taken.getTime();
  const stale = age > staleAfterHours * 3_600_000;
  return {
    text: `$(archive) Backup ${formatAge(age)}`,
    tooltip: `Newest complete backup: ${formatLocalTime(taken)}, ${formatAge(age)}${stale ? ` \u2014 older than ${staleAfterHours} h` : ''}${where}\nClick to open the Slots view.`,
    severity: stale ? 'warning' : 'ok',
    action: 'showSlots',
  };
}

/**
 * Milliseconds until any of the given slot times would be drawn differently: an age crossing
 * its displayed precision ("59 min ago" → "1 h ago") or local midnight turning "Today" into
 * "Yesterday". Infinity when nothing time-dependent is shown.
 */
export function nextRedrawDelay(times: readonly number[], now: Date): number {
  if (times.length === 0) return Number.POSITIVE_INFINITY;
  let delay = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1).getTime() - now.getTime();
  for (const t of times) delay = Math.min(delay, nextAgeChange(now.getTime() - t));
  return delay;
}

/** A path with the home folder written as `~`, as a shell prompt shows it. */
export function tildePath(p: string, home: string): string {
  if (home === '' || home === '/') return p;
  if (p === home) return '~';
  const sep = p.includes('\\') && !p.includes('/') ? '\\' : '/';
  return p.startsWith(home + sep) ? `~${p.slice(home.length)}` : p;
}
