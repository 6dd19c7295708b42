import type { CliCommand } from '../command';
import { backupCommand } from './backup';
import { listCommand } from './list';
import { restoreCommand } from './restore';
import { verifyCommand } from './verify';
import { scheduleCommand } from './schedule';
import { helperCommand } from './helper';
import { filterCommand, previewCommand } from './filter';

/** Every sub-command, in the order `--help` lists them. One line per command module. */
export const commands: CliCommand[] = [
  backupCommand,
  listCommand,
  restoreCommand,
  verifyCommand,
  scheduleCommand,
  helperCommand,
  filterCommand, previewCommand,
];
