import type { CliCommand } from '../command';
import { parseCommandArgs, requireString, resolveTarget } from '../args';
import { fileHistory } from '../../engine/history';
import { ExitCode } from '../../core/errors';
import { formatBytes } from '../../core/format';
import type { FileHistory, SlotRef } from '../../core/slotHistory';
import { slotRuns, utcMinutes } from './slotText';

const usage = 'history --target DIR --path REL [--json]';

const TOLD_APART: Record<string, string> = { inode: 'inode', checksum: 'checksum', 'size-and-time': 'size and time' };

function numbers(refs: SlotRef[]): string {
  return slotRuns(refs.map((r) => r.number));
}

/** The table of `history`: versions and the slots without the file, newest first. */
export function historyTable(h: FileHistory): string[] {
  type Row = { first: number; cells: string[] };
  const rows: Row[] = [];
  h.versions.forEach((v, i) => {
    const today = v.sameAsCurrent === null ? '' : v.sameAsCurrent ? 'same' : 'differs';
    const also = v.sameContentAs !== null ? ` (same content as version ${v.sameContentAs + 1})` : '';
    rows.push({ first: v.slots[0]!.number, cells: [String(i + 1), numbers(v.slots), utcMinutes(v.slots[0]!.takenAt), v.kind === 'symlink' ? `link, ${formatBytes(v.size)}` : formatBytes(v.size), utcMinutes(new Date(v.mtimeMs).toISOString()), today, (v.toldApartBy ? TOLD_APART[v.toldApartBy]! : '') + also] });
  });
  for (const g of h.gaps) rows.push({ first: g.slots[0]!.number, cells: ['-', numbers(g.slots), utcMinutes(g.slots[0]!.takenAt), 'not there', '', '', ''] });
  rows.sort((a, b) => a.first - b.first);
  const table = [['version', 'slots', 'taken (UTC)', 'size', 'modified (UTC)', 'today', 'told apart from the older by'], ...rows.map((r) => r.cells)];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  return table.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

export const historyCommand: CliCommand = {
  name: 'history',
  usage,
  summary: 'The versions of one file across the slots, newest first (each version once), and which slots do not have it.',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, { target: { type: 'string' }, path: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } }, usage);
    if (values.help) { io.out(`Usage: shadow-slots ${usage}\n`); return ExitCode.ok; }
    const target = resolveTarget(requireString(values.target, 'target', usage));
    const path = requireString(values.path, 'path', usage);
    const h = await fileHistory(target, path, { signal: io.signal });
    if (values.json) {
      io.out(JSON.stringify(h) + '\n');
      return h.versions.length > 0 ? ExitCode.ok : ExitCode.failure;
    }
    if (h.versions.length === 0) {
      io.err(`No slot of ${target} holds ${h.path}.\n`);
      for (const n of h.notes) io.err(`note: ${n}\n`);
      return ExitCode.failure;
    }
    const count = h.versions.length;
    const today = h.current ? (h.current.exists ? `; today's file: ${h.current.path}` : `; ${h.current.path} does not exist today`) : '';
    io.out(`${h.path}: ${count} version${count === 1 ? '' : 's'} in ${target}${today}\n`);
    for (const line of historyTable(h)) io.out(`${line}\n`);
    for (const n of h.notes) io.out(`note: ${n}\n`);
    return ExitCode.ok;
  },
};
