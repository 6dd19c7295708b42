import type { CliCommand } from '../command';
import { parseCommandArgs, parseInteger, requireString, resolveTarget } from '../args';
import { deleteSlot } from '../../engine/deleteSlot';
import { listRing } from '../../engine/list';
import { ExitCode, invalid } from '../../core/errors';
import { slotTimeText } from '../../engine/ringChange';

const usage = 'delete-slot --target DIR --slot N [--id ID] --yes [--json]';

export const deleteSlotCommand: CliCommand = {
  name: 'delete-slot',
  usage,
  summary: 'Delete one slot for good; the slots after it move down by one (journaled: a crash is finished by the next run). Needs --yes; --id makes sure it is still the slot you listed.',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, {
      target: { type: 'string' }, slot: { type: 'string' }, id: { type: 'string' }, yes: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' },
    }, usage);
    if (values.help) { io.out(`Usage: shadow-slots ${usage}\n`); return ExitCode.ok; }
    const target = resolveTarget(requireString(values.target, 'target', usage));
    const slot = parseInteger(requireString(values.slot, 'slot', usage), 'slot')!;
    if (slot < 0) throw invalid(`--slot must be 0 or more, got ${slot}.`);
    if (values.id !== undefined && values.id.trim() === '') throw invalid('--id must not be empty.', `Usage: shadow-slots ${usage}`);
    if (values.yes !== true) {
      // Say which slot that is now, so the confirmation is about a backup, not a number that moves.
      const listed = (await listRing(target)).slots.find((s) => s.number === slot);
      const what = listed ? `slot ${slot} (${listed.manifest ? `${slotTimeText(listed.manifest)}${listed.manifest.label ? `, "${listed.manifest.label}"` : ''}, ` : ''}id ${listed.id})` : `slot ${slot}, which the ring does not have`;
      throw invalid(`This would delete ${what} for good. Nothing was deleted.`, `Add --yes to confirm${listed ? ` (and --id ${listed.id} to make sure no backup renumbered it meanwhile)` : ''}.`);
    }
    const result = await deleteSlot({ target, slot, ...(values.id !== undefined ? { id: values.id } : {}) });
    if (values.json) {
      io.out(JSON.stringify(result) + '\n');
    } else {
      io.out(`Deleted ${result.description}; ${result.remaining} slot${result.remaining === 1 ? '' : 's'} left.\n`);
      for (const n of result.notes) io.out(`note: ${n}\n`);
      for (const w of result.warnings) io.out(`warning: ${w}\n`);
    }
    return ExitCode.ok;
  },
};
