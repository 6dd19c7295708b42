import type { CliCommand } from '../command';

/** Every sub-command, in the order `--help` lists them. One line per command module. */
export const commands: CliCommand[] = [
];
