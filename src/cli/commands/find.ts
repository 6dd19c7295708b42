import { parseArgs } from 'node:util';
import type { CliCommand } from '../command';
import { resolveTarget, requireString } from '../args';
import { findInSlots } from '../../engine/findInSlots';
import { ExitCode, invalid, ShadowSlotsError } from '../../core/errors';
import { formatCount } from '../../core/format';
import { patternWords } from '../../core/findPaths';
import type { FoundPath } from '../../core/slotHistory';
import { utcMinutes } from './slotText';

const usage = 'find --target DIR PATTERN [--json]';

/** Where a found path is: its slots, and whether the backed-up folder still has it. */
export function whereFound(f: FoundPath): string {
  const slots = f.slots.map(([a, b]) => (a === b ? String(a) : `${a}\u2013${b}`)).join(', ');
  const gone = f.inSource === false ? ` \u00b7 not in the source now (newest copy: slot ${f.newest.number}, ${utcMinutes(f.newest.takenAt)} UTC)` : '';
  return `slot${f.slots.length === 1 && f.slots[0]![0] === f.slots[0]![1] ? '' : 's'} ${slots}${f.kind === 'symlink' ? ' \u00b7 link' : ''}${gone}`;
}

export const findCommand: CliCommand = {
  name: 'find',
  usage,
  summary: 'Find files by path in every slot (every word of PATTERN, any case), also those no longer in the source.',
  async run(argv, io) {
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: { target: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } }, strict: true, allowPositionals: true });
    } catch (error) {
      throw invalid((error as Error).message, `Usage: shadow-slots ${usage}`);
    }
    const { values, positionals } = parsed;
    if (values.help) { io.out(`Usage: shadow-slots ${usage}\n`); return ExitCode.ok; }
    const target = resolveTarget(requireString(values.target, 'target', usage));
    if (positionals.length !== 1 || patternWords(positionals[0]!).length === 0) {
      throw invalid(positionals.length > 1 ? `Give one PATTERN (quote it when it has spaces), got ${positionals.length}.` : 'PATTERN is required and must not be empty.', `Usage: shadow-slots ${usage}`);
    }
    const result = await findInSlots(target, positionals[0]!, { limit: Number.MAX_SAFE_INTEGER, signal: io.signal });
    if (values.json) {
      io.out(JSON.stringify(result) + '\n');
    } else {
      const width = Math.min(60, Math.max(0, ...result.results.map((r) => JSON.stringify(r.path).length)));
      for (const f of result.results) {
        // A reader that went away stops the listing (the exit code says so); a name with a newline stays on its line.
        if (io.signal.aborted) throw new ShadowSlotsError('cancelled', 'Listing stopped.');
        const shown = /[\n\r\t"\\]/.test(f.path) || f.path.trim() !== f.path ? JSON.stringify(f.path) : f.path;
        io.out(`${shown.padEnd(width)}  ${whereFound(f)}\n`);
      }
      if (result.total === 0) io.err(`No path in the ${result.slots} slot(s) of ${target} matches ${JSON.stringify(positionals[0])} (${formatCount(result.paths)} paths searched).\n`);
    }
    return result.total > 0 ? ExitCode.ok : ExitCode.failure;
  },
};
