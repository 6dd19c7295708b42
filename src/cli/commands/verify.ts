import type { CliCommand } from '../command';
import { parseCommandArgs, parseInteger, requireString, resolveTarget } from '../args';
import { verifySlot } from '../../engine/verify';
import { ExitCode, invalid } from '../../core/errors';
import { formatCount } from '../../core/format';

const usage = 'verify --target DIR --slot N [--json]';

export const verifyCommand: CliCommand = {
  name: 'verify',
  usage,
  summary: 'Re-read a slot and compare every file with the checksums recorded when it was made.',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, { target: { type: 'string' }, slot: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } }, usage);
    if (values.help) { io.out(`Usage: shadow-slots ${usage}\n`); return ExitCode.ok; }
    const slot = parseInteger(requireString(values.slot, 'slot', usage), 'slot')!;
    if (slot < 0) throw invalid(`--slot must be 0 or more, got ${slot}.`);
    const result = await verifySlot(resolveTarget(requireString(values.target, 'target', usage)), slot, io.signal);
    if (values.json) {
      io.out(JSON.stringify(result) + '\n');
    } else {
      if (result.note) io.out(`note: ${result.note}\n`);
      io.out(`Slot ${slot}: ${formatCount(result.checked)} files checked, ${result.changed.length} changed, ${result.missing.length} missing, ${result.extra.length} unexpected.\n`);
      for (const p of result.changed) io.out(`changed: ${p}\n`);
      for (const p of result.missing) io.out(`missing: ${p}\n`);
      for (const p of result.extra) io.out(`unexpected: ${p}\n`);
      io.out(!result.verified ? 'NOT VERIFIED: no checksums to compare with.\n' : result.ok ? 'OK: the slot matches its manifest.\n' : 'MISMATCH: the slot differs from what was recorded.\n');
    }
    return result.ok ? ExitCode.ok : ExitCode.failure;
  },
};
