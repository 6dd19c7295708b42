import type { CliCommand } from '../command';
import { resolveArg, parseCommandArgs, parseInteger, requireString, resolveTarget } from '../args';
import { restore } from '../../engine/restore';
import { ExitCode, invalid } from '../../core/errors';

const usage = 'restore --target DIR --slot N --path RELPATH --to DIR [--overwrite] [--json]';

export const restoreCommand: CliCommand = {
  name: 'restore',
  usage,
  summary: 'Restore a file or folder from a slot into DIR (at DIR/RELPATH). Never overwrites unless --overwrite; replaced versions are kept aside.',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, {
      target: { type: 'string' }, slot: { type: 'string' }, path: { type: 'string' }, to: { type: 'string' },
      overwrite: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' },
    }, usage);
    if (values.help) { io.out(`Usage: shadow-slots ${usage}\n`); return ExitCode.ok; }
    const slot = parseInteger(requireString(values.slot, 'slot', usage), 'slot')!;
    if (slot < 0) throw invalid(`--slot must be 0 or more, got ${slot}.`);
    const result = await restore({
      target: resolveTarget(requireString(values.target, 'target', usage)),
      slot,
      path: requireString(values.path, 'path', usage),
      to: resolveArg(requireString(values.to, 'to', usage)),
      overwrite: values.overwrite === true,
    });
    if (values.json) io.out(JSON.stringify(result) + '\n');
    else {
      for (const r of result.restored) io.out(`Restored ${r}\n`);
      if (result.keptAside) io.out(`The version it replaced was kept at ${result.keptAside}\n`);
    }
    return ExitCode.ok;
  },
};
