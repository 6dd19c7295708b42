import type { CliCommand } from '../command';
import { parseCommandArgs, parseInteger, requireString, resolveTarget } from '../args';
import { verifySlot } from '../../engine/verify';
import { copyName, repairSlot } from '../../engine/repair';
import { ExitCode, invalid } from '../../core/errors';
import { formatCount } from '../../core/format';
import type { RepairResult } from '../../rpc/protocol';

const usage = 'verify --target DIR --slot N [--repair] [--json]';

export const verifyCommand: CliCommand = {
  name: 'verify',
  usage,
  summary: 'Re-read a slot and compare every file with the checksums recorded when it was made; --repair rewrites damaged files from a good copy (the source or another slot).',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, { target: { type: 'string' }, slot: { type: 'string' }, repair: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' } }, usage);
    if (values.help) { io.out(`Usage: shadow-slots ${usage}\n`); return ExitCode.ok; }
    const slot = parseInteger(requireString(values.slot, 'slot', usage), 'slot')!;
    if (slot < 0) throw invalid(`--slot must be 0 or more, got ${slot}.`);
    const target = resolveTarget(requireString(values.target, 'target', usage));
    const result = await verifySlot(target, slot, io.signal);
    const damaged = [...result.changed, ...result.missing];
    const repair = values.repair && damaged.length > 0 ? await repairSlot({ target, slot, paths: damaged, dryRun: false }) : null;
    if (values.json) {
      io.out(JSON.stringify(repair ? { ...result, repair } : result) + '\n');
    } else {
      if (result.note) io.out(`note: ${result.note}\n`);
      io.out(`Slot ${slot}: ${formatCount(result.checked)} files checked, ${result.changed.length} changed, ${result.missing.length} missing, ${result.extra.length} unexpected.\n`);
      for (const p of result.changed) io.out(`changed: ${p}\n`);
      for (const p of result.missing) io.out(`missing: ${p}\n`);
      for (const p of result.extra) io.out(`unexpected: ${p}\n`);
      io.out(!result.verified ? 'NOT VERIFIED: no checksums to compare with.\n' : result.ok ? 'OK: the slot matches its manifest.\n' : 'MISMATCH: the slot differs from what was recorded.\n');
      if (repair) printRepair(repair, io.out);
      else if (damaged.length > 0) io.out('Run again with --repair to rewrite the damaged files from a good copy (the source or another slot), where one exists.\n');
    }
    if (repair) return repair.files.every((f) => f.outcome === 'repaired' || f.outcome === 'intact') && result.extra.length === 0 ? ExitCode.ok : ExitCode.failure;
    return result.ok ? ExitCode.ok : ExitCode.failure;
  },
};

function printRepair(r: RepairResult, out: (text: string) => void): void {
  for (const f of r.files) {
    const shared = f.sharedWith.length > 0 ? ` (also in slot${f.sharedWith.length === 1 ? '' : 's'} ${f.sharedWith.join(', ')}: the same file)` : '';
    if (f.outcome === 'repaired') out(`repaired: ${f.path} from ${copyName(f.from!)}${shared}${f.note ? `: ${f.note}` : ''}\n`);
    else out(`not repaired: ${f.path}${f.from ? ` (a good copy is in ${copyName(f.from)})` : ''}: ${f.note ?? f.outcome}\n`);
  }
  if (r.note) out(`note: ${r.note}\n`);
  out(`REPAIR: ${r.repaired} of ${r.files.length} damaged file${r.files.length === 1 ? '' : 's'} repaired.\n`);
}
