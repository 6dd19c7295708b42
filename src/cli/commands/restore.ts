import type { CliCommand } from '../command';
import { resolveArg, parseCommandArgs, parseInteger, requireString, resolveTarget } from '../args';
import { restore, restoreInto } from '../../engine/restore';
import { ExitCode, invalid } from '../../core/errors';

const usage = 'restore --target DIR --slot N [--path RELPATH] --to DIR [--id ID] [--overwrite] [--json]';

export const restoreCommand: CliCommand = {
  name: 'restore',
  usage,
  summary: 'Restore a file or folder of a slot into DIR (at DIR/RELPATH; never overwrites unless --overwrite, and replaced versions are kept aside), or without --path the whole slot into DIR, a new or empty folder.',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, {
      target: { type: 'string' }, slot: { type: 'string' }, path: { type: 'string' }, to: { type: 'string' }, id: { type: 'string' },
      overwrite: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' },
    }, usage);
    if (values.help) { io.out(`Usage: shadow-slots ${usage}\n`); return ExitCode.ok; }
    const slot = parseInteger(requireString(values.slot, 'slot', usage), 'slot')!;
    if (slot < 0) throw invalid(`--slot must be 0 or more, got ${slot}.`);
    const target = resolveTarget(requireString(values.target, 'target', usage));
    const to = resolveArg(requireString(values.to, 'to', usage));
    let result;
    if (values.path === undefined) {
      if (values.overwrite) throw invalid('A whole slot is restored only into a new or empty folder; --overwrite is for one file or folder (--path).');
      result = await restoreInto({ target, slot, path: '', into: to, ...(values.id !== undefined ? { id: values.id } : {}) });
    } else {
      if (values.id !== undefined) throw invalid('--id is for restoring a whole slot (without --path).');
      result = await restore({ target, slot, path: requireString(values.path, 'path', usage), to, overwrite: values.overwrite === true });
    }
    if (values.json) io.out(JSON.stringify(result) + '\n');
    else {
      for (const r of result.restored) io.out(values.path === undefined ? `Restored slot ${slot} into ${r}\n` : `Restored ${r}\n`);
      if (result.keptAside) io.out(`The version it replaced was kept at ${result.keptAside}\n`);
    }
    return ExitCode.ok;
  },
};
