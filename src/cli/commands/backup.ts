import type { CliCommand } from '../command';
import { parseCommandArgs, readProfileFile, resolveArg, resolveTarget } from '../args';
import { runBackup } from '../../engine/backup';
import { validateProfile, type ProfileInput } from '../../core/profile';
import { formatBytes, formatCount, formatDuration } from '../../core/format';
import { ProgressTracker } from '../../core/progress';
import { describeError, exitCodeFor, ExitCode, ShadowSlotsError } from '../../core/errors';
import { setLogSink } from '../../platform/runner';
import { stopOf, type Stop } from '../stop';

const usage = 'backup --source DIR --target DIR [--slots N] [--snapshot auto|none|btrfs|vss|apfs|lvm] [--target-mode auto|links|cow] [--exclude PATTERN]... [--filter FILE] [--profile FILE] [--create-target] [--json] [--verbose]';

export const backupCommand: CliCommand = {
  name: 'backup',
  usage,
  summary: 'Run one backup: snapshot the source, rsync it into a new slot 0, rotate the ring.',
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, {
      source: { type: 'string' },
      target: { type: 'string' },
      slots: { type: 'string' },
      snapshot: { type: 'string' },
      'target-mode': { type: 'string' },
      exclude: { type: 'string', multiple: true },
      filter: { type: 'string' },
      profile: { type: 'string' },
      'create-target': { type: 'boolean' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean' },
    }, usage);
    if (values.help) { io.out(`Usage: shadow-slots ${usage}\n`); return ExitCode.ok; }
    const json = values.json === true;
    const line = (obj: unknown) => io.out(JSON.stringify(obj) + '\n');
    if (values.verbose) setLogSink((level, message) => (json ? line({ type: 'log', level, message }) : io.err(`${message}\n`)));
    let lastPhase = '';
    let lastDraw = 0;
    const tracker = new ProgressTracker();
    try {
      // The boundary: the profile file and the flags are validated here, once; the engine gets a Profile.
      const fromFile: ProfileInput = values.profile ? readProfileFile(values.profile) : {};
      const { profile, notes } = validateProfile({
        ...fromFile,
        ...(values.source !== undefined ? { source: resolveArg(values.source) } : {}),
        ...(values.target !== undefined ? { target: resolveTarget(values.target) } : {}),
        ...(values.slots !== undefined ? { slots: values.slots } : {}),
        ...(values.snapshot !== undefined ? { snapshot: values.snapshot } : {}),
        ...(values['target-mode'] !== undefined ? { targetMode: values['target-mode'] } : {}),
        ...(values.filter !== undefined ? { filterFile: resolveArg(values.filter) } : {}),
        ...(values.exclude !== undefined ? { excludes: [...(Array.isArray(fromFile.excludes) ? fromFile.excludes : []), ...values.exclude] } : {}),
      });
      const result = await runBackup({
        profile,
        notes,
        signal: io.signal,
        createTarget: values['create-target'] === true,
        onProgress: (e) => {
          if (json) { line({ type: 'progress', ...e }); return; }
          const view = tracker.update(e, performance.now());
          if (e.phase !== lastPhase) {
            if (io.interactive && lastPhase === 'copy') io.out('\n');
            lastPhase = e.phase;
            if (e.phase !== 'copy' && e.phase !== 'done') io.out(`${e.message}…\n`);
            if (e.phase === 'copy') io.out(`${e.message}…\n`);
            return;
          }
          if (e.phase === 'copy' && io.interactive && Date.now() - lastDraw > 250) {
            lastDraw = Date.now();
            io.out(`\r  ${view.text}   `);
          }
        },
        onComplete: ({ elapsedMs, slot }) => {
          if (json) line({ type: 'complete', elapsedMs, slot: slot.number, id: slot.id });
        },
      });
      if (json) {
        line({ type: 'result', result });
      } else {
        if (io.interactive) io.out('\n');
        const c = result.slot.manifest?.counts;
        const state = result.outcome === 'partial' ? 'PARTIAL (not added to the ring)' : result.outcome === 'complete-with-warnings' ? 'complete, with warnings' : 'complete';
        io.out(`Slot ${result.slot.number ?? '(in progress)'} ${state} in ${formatDuration(result.durationMs)}: `
          + (c ? `${formatCount(c.files)} files, +${formatCount(c.created)} ~${formatCount(c.changed)} −${formatCount(c.deleted)}, ${formatBytes(c.bytesSent)} copied, ${formatBytes(c.totalSize)} in the slot.\n` : '\n'));
        for (const n of result.notes) io.out(`note: ${n}\n`);
        for (const w of result.warnings) io.out(`warning: ${w}\n`);
      }
      // A stop that came after the rotation is too late to undo anything: the slot is kept and reported.
      const late = stopOf(io.signal);
      if (late && late.cause !== 'EPIPE') io.err(`note: ${late.cause} arrived after slot 0 was complete; the backup is kept.\n`);
      return result.outcome === 'partial' ? ExitCode.partial : ExitCode.ok;
    } catch (error) {
      const stopped = stopOf(io.signal);
      const e = stopped ? interrupted(stopped, error) : error instanceof ShadowSlotsError ? error : undefined;
      if (json) {
        line({ type: 'error', code: e?.code ?? 'internal', message: e?.message ?? (error instanceof Error ? error.message : String(error)), hint: e?.hint ?? null });
      } else {
        if (io.interactive && lastPhase === 'copy') io.out('\n');
        io.err(`shadow-slots backup: ${describeError(e ?? error)}\n`);
      }
      return stopped ? stopped.exitCode : exitCodeFor(error);
    }
  },
};

/**
 * What a stopped backup tells the user instead of the runner's "Cancelled: /usr/bin/rsync": it
 * never rotates the ring before the copy is complete, so the ring is as it was, and the next run
 * reuses the unfinished copy.
 */
function interrupted(stop: Stop, error: unknown): ShadowSlotsError {
  const why = stop.cause === 'EPIPE' ? 'Its output was closed' : `Interrupted (${stop.cause})`;
  const cancelled = error instanceof ShadowSlotsError && error.code === 'cancelled';
  return new ShadowSlotsError('cancelled', `${why}: the backup stopped before its new slot was complete; the ring is unchanged and the next backup resumes from what was copied.`, {
    ...(cancelled ? {} : { hint: `While stopping: ${describeError(error)}` }),
    cause: error,
  });
}
