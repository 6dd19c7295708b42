// Quick fixes of the filter file (src/core/filter/diagnostics.ts): each edit is applied to the
// line and must give a rule rsync's own grammar (the parser mirrors exclude.c) accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilterText } from '../../../src/core/filter/parse';
import { buildRuleList } from '../../../src/core/filter/ruleList';
import { FilterCounter } from '../../../src/core/filter/stats';
import { diagnoseFilter, syntaxFixes, type QuickFix } from '../../../src/core/filter/diagnostics';

function apply(text: string, fix: QuickFix): string {
  const lines = text.split('\n');
  // Edits here are on one line, or whole lines (endLine = line + 1, end 0).
  for (const e of [...fix.edits].reverse()) {
    if (e.endLine !== undefined && e.endLine !== e.line) lines.splice(e.line, e.endLine - e.line);
    else lines[e.line] = lines[e.line]!.slice(0, e.start) + e.newText + lines[e.line]!.slice(e.end);
  }
  return lines.join('\n');
}

const fixes = (line: string) => syntaxFixes(line, 0);

test('a missing space after "+" or "-" is inserted, and the result is a valid rule', () => {
  for (const [bad, good] of [['-node_modules/', '- node_modules/'], ['+*.ts', '+ *.ts'], ['-build dir/', '- build dir/']] as const) {
    const f = fixes(bad).find((x) => x.title === `Insert a space after "${bad[0]}"`);
    assert.ok(f, `${bad}: ${JSON.stringify(fixes(bad).map((x) => x.title))}`);
    assert.equal(apply(bad, f), good);
    assert.equal(parseFilterText(good).errors.length, 0);
  }
  assert.equal(fixes('-node_modules/')[0]!.preferred, true, 'the likeliest fix comes first and is preferred');
});

test('a misspelt rule name or modifier is corrected; modifiers that exist in the other case are swapped', () => {
  assert.equal(apply('exlude *.tmp', fixes('exlude *.tmp')[0]!), 'exclude *.tmp');
  assert.equal(apply('inclde /src/', fixes('inclde /src/')[0]!), 'include /src/');
  assert.equal(apply('dir-mrge .rules', fixes('dir-mrge .rules')[0]!), 'dir-merge .rules');
  const s = fixes('-S secret');
  assert.equal(s[0]!.title, 'Change the modifier "S" to "s"');
  assert.equal(apply('-S secret', s[0]!), '-s secret');
  assert.equal(apply('exclude,X foo', fixes('exclude,X foo')[0]!), 'exclude,x foo');
  const q = fixes('-q foo');
  assert.equal(q[0]!.title, 'Remove the modifier "q"', 'a modifier run (not a pattern): removing it first');
  assert.equal(apply('-q foo', q[0]!), '- foo');
  assert.equal(apply('  - foo', fixes('  - foo')[0]!), '- foo');
});

test('valid lines get no fixes; every offered fix parses', () => {
  for (const ok of ['- foo', '+ *.ts', 'exclude,s bar', '. /rules', '!']) assert.deepEqual(fixes(ok), []);
  for (const bad of ['-node_modules/', '-S x', 'exlude x', '-q x', 'xclude y', '  + z', '-foo bar']) {
    for (const f of fixes(bad)) assert.equal(parseFilterText(apply(bad, f)).errors.length, 0, `${bad} → ${f.title}`);
  }
});

test('a rule that matches nothing offers to remove its line', () => {
  const text = '- *.log\n- *.nothing\n';
  const list = buildRuleList(parseFilterText(text));
  const counter = new FilterCounter(list.entries);
  counter.visit('a.log', false, 3, -1);
  counter.visit('b.txt', false, 3, -1);
  const d = diagnoseFilter(list, counter.finish(true, 1), '/src').find((x) => x.code === 'no-match')!;
  assert.equal(d.line, 1);
  assert.equal(d.fixes[0]!.title, 'Remove this rule (it matches nothing)');
  assert.equal(apply(text, d.fixes[0]!), '- *.log\n');
});
