import * as vscode from 'vscode';
import type { FilterRuleLocation } from '../../platform/filter/check';

/** The invalid rule an engine error points at (`details.filterRule`), if it points at one. */
export function filterRuleOf(details: Record<string, unknown> | null | undefined): FilterRuleLocation | undefined {
  const r = details?.['filterRule'] as Partial<FilterRuleLocation> | undefined;
  if (!r || typeof r.file !== 'string' || typeof r.line !== 'number') return undefined;
  return { file: r.file, line: r.line, character: typeof r.character === 'number' ? r.character : 0 };
}

/** Opens the filter file with the cursor on the rule. */
export async function goToRule(rule: FilterRuleLocation): Promise<void> {
  const position = new vscode.Position(rule.line, rule.character);
  await vscode.window.showTextDocument(vscode.Uri.file(rule.file), { selection: new vscode.Range(position, position), preview: false });
}

/** The engine's diagnostic of an invalid rule, with a button that jumps to it. */
export async function showFilterRuleError(message: string, rule: FilterRuleLocation): Promise<void> {
  const go = 'Go to Rule';
  if (await vscode.window.showErrorMessage(message, go) === go) await goToRule(rule);
}
