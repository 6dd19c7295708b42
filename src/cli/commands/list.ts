import type { CliCommand } from '../command';
import { parseCommandArgs, requireString, resolveTarget } from '../args';
import { listRing } from '../../engine/list';
import { formatBytes, formatCount } from '../../core/format';
import { ExitCode } from '../../core/errors';
import { ringSpace } from '../../engine/space';
import type { SlotSummary } from '../../rpc/protocol';

/** Says how the space columns were measured, and why a figure is missing, so none reads as a guess. */
function spaceFootnotes(slots: SlotSummary[]): string[] {
  const methods = [...new Set(slots.flatMap((s) => (s.space && s.space.exclusiveBytes !== null ? [s.space.method] : [])))];
  const lines = methods.length > 0 ? [`frees: what deleting the slot now would free; shared: held together with other slots (measured by ${methods.join('; ')}).`] : [];
  for (const s of slots) if (s.space?.note) lines.push(`slot ${s.number}: space not measured: ${s.space.note}`);
  return lines;
}

const usage = 'list --target DIR [--no-space] [--json]';

export const listCommand: CliCommand = {
  name: 'list',
  usage,
  summary: 'List the slots of a ring: number, state, start and end time, counts, size, and the space each slot holds.',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, { target: { type: 'string' }, json: { type: 'boolean' }, 'no-space': { type: 'boolean' }, help: { type: 'boolean' } }, usage);
    if (values.help) { io.out(`Usage: shadow-slots ${usage}\n`); return ExitCode.ok; }
    const target = resolveTarget(requireString(values.target, 'target', usage));
    const listing = await listRing(target);
    // Measuring reads the slots whose figures are not cached yet: skippable for a quick look.
    if (values['no-space'] !== true && listing.slots.some((s) => s.number !== null)) {
      const space = new Map((await ringSpace(target)).map((x) => [x.id, x]));
      for (const s of listing.slots) if (s.number !== null) s.space = space.get(s.id) ?? null;
    }
    if (values.json) {
      io.out(JSON.stringify(listing, null, 2) + '\n');
      return ExitCode.ok;
    }
    if (listing.slots.length === 0) {
      io.out(`No slots in ${listing.target} yet.\n`);
    } else {
      const rows = [['slot', 'state', 'started (UTC)', 'ended (UTC)', 'files', 'added', 'changed', 'deleted', 'copied', 'size', 'frees', 'shared', 'snapshot']];
      for (const s of listing.slots) {
        const m = s.manifest;
        const c = m?.counts;
        rows.push([
          s.number === null ? '-' : String(s.number),
          s.state + (m?.adopted ? ' (adopted)' : ''),
          m ? m.startedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '?',
          m?.endedAt ? m.endedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '-',
          c ? formatCount(c.files) : '?',
          c ? `+${formatCount(c.created)}` : '',
          c ? `~${formatCount(c.changed)}` : '',
          c ? `-${formatCount(c.deleted)}` : '',
          c ? formatBytes(c.bytesSent) : '',
          c ? formatBytes(c.totalSize) : '',
          s.space?.exclusiveBytes != null ? formatBytes(s.space.exclusiveBytes) : '',
          s.space?.sharedBytes != null ? formatBytes(s.space.sharedBytes) : '',
          m ? (m.snapshot.method === 'none' ? 'none (live copy)' : m.snapshot.method) : '?',
        ]);
      }
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) io.out(r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
      for (const line of spaceFootnotes(listing.slots)) io.out(`${line}\n`);
    }
    for (const n of listing.notes) io.out(`note: ${n}\n`);
    if (listing.busy) io.out('note: a backup of this ring is running now.\n');
    return ExitCode.ok;
  },
};
