import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ShadowSlotsError } from '../../core/errors';
import { ruleListFor } from './load';

/** Where an invalid rule is, in ShadowSlotsError details (`details.filterRule`): the editor jumps there. */
export interface FilterRuleLocation {
  file: string;
  /** 0-based, as LSP positions are. */
  line: number;
  character: number;
}

/**
 * Refuses a filter file rsync would stop on, with the engine's own diagnostic (the rule, its line,
 * what is wrong and how to write it) instead of rsync's "exclude.c(1379)" line: an unreadable
 * file, a rule rsync rejects (exit 1), a merge file it cannot open (exit 11). Backups and Preview
 * Backup both call it before rsync runs; `details.filterRule` says where the rule is.
 */
export async function checkFilterFile(file: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new ShadowSlotsError('invalid-input', `The filter file ${file} cannot be read.`, { hint: 'Check the path in the settings, or remove it.' });
  }
  const list = ruleListFor(text, file);
  const name = basename(file);
  const first = list.errors[0];
  if (first) {
    // Parser lines are 0-based (LSP positions); people count from 1.
    const more = list.errors.length > 1 ? ` (and ${list.errors.length - 1} more invalid rule${list.errors.length === 2 ? '' : 's'})` : '';
    const where = first.file === undefined ? `${name}, line ${first.line + 1}` : `${basename(first.file)} (merged by ${name}), line ${first.line + 1}`;
    throw new ShadowSlotsError('invalid-input', `${where}: ${first.message}${first.hint ? ` — ${first.hint}` : ''}${more}. rsync would stop on it, so nothing was started.`, {
      hint: `Fix the rule in ${file} (the editor marks it), or run "shadow-slots filter check".`,
      details: { filterRule: { file: first.file ?? file, line: first.line, character: first.start } satisfies FilterRuleLocation },
    });
  }
  const missing = list.notes.find((n) => n.kind === 'merge-missing');
  if (missing && missing.kind === 'merge-missing') {
    throw new ShadowSlotsError('invalid-input', `${name}, line ${missing.rule.line + 1}: the merge file ${JSON.stringify(missing.name)} cannot be read; rsync would stop on it, so nothing was started.`, {
      hint: 'Create the merge file or remove the rule (use absolute paths).',
      details: { filterRule: { file: missing.rule.file ?? file, line: missing.rule.line, character: missing.rule.start } satisfies FilterRuleLocation },
    });
  }
}
