import type { CliCommand } from '../command';
import { parseCommandArgs, parseInteger, requireString, resolveTarget } from '../args';
import { labelSlot } from '../../engine/label';
import { ExitCode, invalid } from '../../core/errors';

const usage = 'label --target DIR --slot N [--id ID] (--set TEXT | --clear) [--json]';

export const labelCommand: CliCommand = {
  name: 'label',
  usage,
  summary: 'Give a slot a label ("before the refactoring"), kept in its manifest and shown by list and the Slots view; --clear removes it.',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, {
      target: { type: 'string' }, slot: { type: 'string' }, id: { type: 'string' }, set: { type: 'string' }, clear: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' },
    }, usage);
    if (values.help) { io.out(`Usage: shadow-slots ${usage}\n`); return ExitCode.ok; }
    const target = resolveTarget(requireString(values.target, 'target', usage));
    const slot = parseInteger(requireString(values.slot, 'slot', usage), 'slot')!;
    if (slot < 0) throw invalid(`--slot must be 0 or more, got ${slot}.`);
    if ((values.set === undefined) === (values.clear !== true)) throw invalid('Give either --set TEXT or --clear.', `Usage: shadow-slots ${usage}`);
    if (values.set !== undefined && values.set === '') throw invalid('--set needs a label; use --clear to remove one.');
    const result = await labelSlot({ target, slot, label: values.clear === true ? null : values.set!, ...(values.id !== undefined ? { id: values.id } : {}) });
    if (values.json) io.out(JSON.stringify(result) + '\n');
    else io.out(result.label === null ? `Slot ${result.number} has no label.\n` : `Slot ${result.number} is labelled "${result.label}".\n`);
    return ExitCode.ok;
  },
};
