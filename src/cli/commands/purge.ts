import { setPriority } from 'node:os';
import type { CliCommand } from '../command';
import { parseCommandArgs, requireString, resolveArg } from '../args';
import { ExitCode } from '../../core/errors';
import { openRing } from '../../platform/target/select';
import { runPurge } from '../../engine/purge';

const usage = 'purge --target DIR';

/**
 * Not listed in --help: the process a backup (or a listing) starts, detached, to delete the slots
 * its rotation dropped (see engine/purge.ts), on a ring on this machine. Running it by hand does
 * the same.
 */
export const purgeCommand: CliCommand = {
  name: 'purge',
  usage,
  summary: 'Delete the slots dropped from a ring (started by backups in the background).',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, { target: { type: 'string' }, help: { type: 'boolean' } }, usage);
    if (values.help) { io.out(`Usage: shadow-slots ${usage}\n`); return ExitCode.ok; }
    // Deleting works the same whatever the mode: each kind deletes the slots of the other too.
    const { ring } = await openRing(resolveArg(requireString(values.target, 'target', usage)), 'auto');
    // Background work: the backup that started it, or the user's editor, goes first.
    try { setPriority(19); } catch { /* not permitted: run at normal priority */ }
    const { failed } = await runPurge(ring);
    for (const f of failed) io.err(`could not delete ${f}\n`);
    return failed.length > 0 ? ExitCode.failure : ExitCode.ok;
  },
};
