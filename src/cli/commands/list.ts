import type { CliCommand } from '../command';
import { resolveArg, parseCommandArgs, requireString } from '../args';
import { listRing } from '../../engine/list';
import { formatBytes, formatCount } from '../../core/format';
import { ExitCode } from '../../core/errors';

const usage = 'list --target DIR [--json]';

export const listCommand: CliCommand = {
  name: 'list',
  usage,
  summary: 'List the slots of a ring: number, state, start and end time, counts, size.',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, { target: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } }, usage);
    if (values.help) { io.out(`Usage: shadow-slots ${usage}\n`); return ExitCode.ok; }
    const listing = await listRing(resolveArg(requireString(values.target, 'target', usage)));
    if (values.json) {
      io.out(JSON.stringify(listing, null, 2) + '\n');
      return ExitCode.ok;
    }
    if (listing.slots.length === 0) {
      io.out(`No slots in ${listing.target} yet.\n`);
    } else {
      const rows = [['slot', 'state', 'started (UTC)', 'ended (UTC)', 'files', 'added', 'changed', 'deleted', 'copied', 'size', 'snapshot']];
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
          m ? (m.snapshot.method === 'none' ? 'none (live copy)' : m.snapshot.method) : '?',
        ]);
      }
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) io.out(r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
    }
    for (const n of listing.notes) io.out(`note: ${n}\n`);
    if (listing.busy) io.out('note: a backup of this ring is running now.\n');
    return ExitCode.ok;
  },
};
