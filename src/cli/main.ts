import { commands } from './commands/index';
import type { CliIO } from './command';
import { describeError, exitCodeFor, ExitCode } from '../core/errors';
import { keepHeapSmall } from '../platform/heap';
import { Stop, stopOf, type StopCause } from './stop';

async function usage(): Promise<string> {
  const loaded = await Promise.all(commands.filter((c) => !c.hidden).map((c) => c.load()));
  const lines = loaded.map((c) => `  ${c.usage}\n      ${c.summary}`);
  return `Usage: shadow-slots <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nExit codes: 0 success, 1 failure, 2 bad usage or input, 3 partial backup, 130/143 interrupted by\nSIGINT (Ctrl-C)/SIGTERM (a backup leaves the ring unchanged), 141 the output's reader went away.\nRun "shadow-slots <command> --help" for a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const stop = (cause: StopCause) => { if (!controller.signal.aborted) controller.abort(new Stop(cause)); };
  const io: CliIO = {
    out: closableOutput(process.stdout, () => stop('EPIPE')),
    err: closableOutput(process.stderr, () => stop('EPIPE')),
    interactive: process.stdout.isTTY === true,
    signal: controller.signal,
  };
  // Output was lost: whatever the command did, exit as a shell reports a program SIGPIPE ended. The
  // write error arrives a tick after the write, so this is decided only at exit.
  process.on('exit', () => { if (stopOf(controller.signal)?.cause === 'EPIPE') process.exitCode = new Stop('EPIPE').exitCode; });
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(await usage());
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (name === '--version') {
    io.out(`${process.env['SHADOW_SLOTS_VERSION'] ?? '0.1.0'}\n`);
    return ExitCode.ok;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    io.err(`Unknown command "${name}".\n\n${await usage()}`);
    return ExitCode.usage;
  }
  const command = await entry.load();
  // Every signal is handled (not `once`): a second Ctrl-C during the cleanup must not kill the
  // process before it has stopped rsync, released the snapshot and the lock.
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  try {
    return await command.run(rest, io);
  } catch (error) {
    const stopped = stopOf(controller.signal);
    if (stopped) {
      if (stopped.cause !== 'EPIPE') io.err(`shadow-slots ${name}: interrupted (${stopped.cause}).\n`);
      return stopped.exitCode;
    }
    io.err(`shadow-slots ${name}: ${describeError(error)}\n`);
    return exitCodeFor(error);
  }
}

/**
 * A writer for stdout or stderr that goes quiet once its reader is gone (EPIPE), as `ls` and `git`
 * do, instead of dying of an unhandled 'error' event with a stack trace.
 */
function closableOutput(stream: NodeJS.WriteStream, onClosed: () => void): (text: string) => void {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    // Writes already queued behind the failed one fail as "destroyed": the same closed reader.
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
    closed = true;
    onClosed();
  });
  return (text) => { if (!closed) stream.write(text); };
}

keepHeapSmall();
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => { process.stderr.write(`${describeError(error)}\n`); process.exitCode = ExitCode.failure; },
);
