import { commands } from './commands/index';
import type { CliIO } from './command';
import { describeError, exitCodeFor, ExitCode } from '../core/errors';
import { keepHeapSmall } from '../platform/heap';

async function usage(): Promise<string> {
  const loaded = await Promise.all(commands.filter((c) => !c.hidden).map((c) => c.load()));
  const lines = loaded.map((c) => `  ${c.usage}\n      ${c.summary}`);
  return `Usage: shadow-slots <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nExit codes: 0 success, 1 failure, 2 bad usage or input, 3 partial backup.\nRun "shadow-slots <command> --help" for a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await usage());
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (name === '--version') {
    process.stdout.write(`${process.env['SHADOW_SLOTS_VERSION'] ?? '0.1.0'}\n`);
    return ExitCode.ok;
  }
  const entry = commands.find((c) => c.name === name);
  if (!entry) {
    process.stderr.write(`Unknown command "${name}".\n\n${await usage()}`);
    return ExitCode.usage;
  }
  const command = await entry.load();
  const controller = new AbortController();
  // Every signal is handled (not `once`): a second Ctrl-C during the cleanup must not kill the
  // process before it has stopped rsync, released the snapshot and the lock.
  const onSignal = () => controller.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const io: CliIO = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    interactive: process.stdout.isTTY === true,
    signal: controller.signal,
  };
  try {
    return await command.run(rest, io);
  } catch (error) {
    io.err(`shadow-slots ${name}: ${describeError(error)}\n`);
    return exitCodeFor(error);
  }
}

keepHeapSmall();
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => { process.stderr.write(`${describeError(error)}\n`); process.exitCode = ExitCode.failure; },
);
