// The TextMate grammar's patterns, run in order as VS Code's tokenizer tries them (they use only
// syntax that Oniguruma and JavaScript read alike), against rule lines and the parser's verdict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFilterText } from '../../../src/core/filter/parse';

const root = join(__dirname, '..', '..', '..');
const grammar = JSON.parse(readFileSync(join(root, 'syntaxes', 'shadowslots-filter.tmLanguage.json'), 'utf8')) as {
  scopeName: string; patterns: Array<{ include: string }>; repository: Record<string, { match?: string; name?: string; captures?: Record<string, { name: string }>; patterns?: Array<{ match?: string; name?: string; include?: string }> }>;
};

function classify(line: string): { rule: string; scopes: string[] } {
  for (const p of grammar.patterns) {
    const key = p.include.slice(1);
    const r = grammar.repository[key]!;
    const m = new RegExp(r.match!).exec(line);
    if (!m) continue;
    const scopes = Object.entries(r.captures ?? {}).filter(([i]) => m[Number(i)] !== undefined && m[Number(i)] !== '').map(([, c]) => c.name);
    return { rule: key, scopes: r.name ? [r.name, ...scopes] : scopes };
  }
  return { rule: 'none', scopes: [] };
}

test('the grammar is well formed and names its scope', () => {
  assert.equal(grammar.scopeName, 'source.shadowslots-filter');
  for (const r of Object.values(grammar.repository)) {
    if (r.match) new RegExp(r.match);
    for (const p of r.patterns ?? []) if (p.match) new RegExp(p.match);
  }
  const config = JSON.parse(readFileSync(join(root, 'language-configuration', 'filter.json'), 'utf8')) as { comments: { lineComment: string } };
  assert.equal(config.comments.lineComment, '#');
});

test('rule prefixes, modifiers, merges, clears and comments get their scopes', () => {
  assert.equal(classify('# note').rule, 'comment');
  assert.equal(classify('; note').rule, 'comment');
  assert.equal(classify('!').rule, 'clear');
  assert.equal(classify('clear').rule, 'clear');
  assert.deepEqual(classify('- node_modules/').scopes, ['keyword.operator.exclude.shadowslots-filter', 'string.unquoted.pattern.shadowslots-filter']);
  assert.deepEqual(classify('include,s keep').scopes, ['keyword.other.include.shadowslots-filter', 'punctuation.separator.modifiers.shadowslots-filter', 'storage.modifier.shadowslots-filter', 'string.unquoted.pattern.shadowslots-filter']);
  assert.equal(classify('.e /etc/rules').rule, 'merge');
  assert.equal(classify('dir-merge .rsync-filter').rule, 'merge');
  assert.equal(classify(' - x').rule, 'invalid');
  assert.equal(classify('-foo').rule, 'invalid');
  assert.equal(classify('-C').rule, 'rule', 'the CVS rule takes no pattern');
  assert.equal(classify(':C').rule, 'merge');
});

test('wildcards, classes, escapes, anchors and trailing spaces inside patterns', () => {
  const pat = grammar.repository['pattern']!.patterns!;
  const scopeOf = (text: string) => pat.find((p) => p.match && new RegExp(p.match).test(text))?.name ?? grammar.repository['trailing-space']!.name;
  assert.equal(scopeOf('**'), 'keyword.operator.wildcard.recursive.shadowslots-filter');
  assert.equal(scopeOf('*'), 'keyword.operator.wildcard.shadowslots-filter');
  assert.equal(scopeOf('[[:alpha:]]'), 'constant.other.character-class.shadowslots-filter');
  assert.equal(scopeOf('\\*'), 'constant.character.escape.shadowslots-filter');
  assert.equal(scopeOf('x  '), 'invalid.illegal.trailing-whitespace.shadowslots-filter');
});

test('every line the parser accepts as a rule is highlighted as one', () => {
  const lines = ['- a', '+ b', 'H c', 'S d', 'P e', 'R f', 'exclude g', 'include_h', 'hide,p i', '-! */', '-/ /abs', '+p x', '. file', ':n- .f', 'merge,e x', 'risk y', 'protect z', 'show w'];
  for (const l of lines) {
    assert.equal(parseFilterText(l).errors.length, 0, l);
    assert.ok(['rule', 'merge'].includes(classify(l).rule), `${l} is ${classify(l).rule}`);
  }
});
