import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * PowerShell is not installable on this machine (no Debian package), so the scripts' real parser
 * check runs only in the Windows CI workflow. These checks catch what can be caught without it.
 */
const dir = join(__dirname, '../../../src/platform/windows/assets');
const scripts = ['helper.ps1', 'install.ps1'].map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));

/** Checks (), {}, [] nesting outside comments and strings, following PowerShell's quoting rules. */
function checkDelimiters(text: string): void {
  const stack: Array<{ ch: string; line: number }> = [];
  const pairs: Record<string, string> = { ')': '(', '}': '{', ']': '[' };
  let line = 1;
  let i = 0;
  const push = (ch: string) => stack.push({ ch, line });
  const pop = (ch: string) => {
    const top = stack.pop();
    assert.ok(top && top.ch === pairs[ch], `line ${line}: "${ch}" closes ${top ? `"${top.ch}" from line ${top.line}` : 'nothing'}`);
  };
  // Inside a double-quoted string: ` escapes, $( … ) is code until its matching ).
  const dq = () => {
    i++;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (c === '\n') line++;
      if (c === '`') { i++; continue; }
      if (c === '"') { if (text[i + 1] === '"') { i++; continue; } return; }
      if (c === '$' && text[i + 1] === '(') { i += 2; code(')'); }
    }
    assert.fail('unterminated double-quoted string');
  };
  const code = (until: string | null) => {
    const depth = stack.length;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (c === '\n') { line++; continue; }
      if (c === '<' && text[i + 1] === '#') { const end = text.indexOf('#>', i); line += text.slice(i, end).split('\n').length - 1; i = end + 1; continue; }
      if (c === '#') { i = text.indexOf('\n', i) - 1; continue; }
      if (c === '`') { i++; continue; }
      if (c === "'") {
        for (i++; i < text.length; i++) { if (text[i] === '\n') line++; if (text[i] === "'") { if (text[i + 1] === "'") { i++; continue; } break; } }
        continue;
      }
      if (c === '"') { dq(); continue; }
      if (c === '(' || c === '{' || c === '[') { push(c); continue; }
      if (c === ')' || c === '}' || c === ']') {
        if (until !== null && c === until && stack.length === depth) return;
        pop(c);
      }
    }
    assert.equal(until, null, 'unterminated $( … )');
  };
  code(null);
  assert.deepEqual(stack, [], 'unclosed delimiters');
}

for (const { name, text } of scripts) {
  test(`${name}: ASCII only (Windows PowerShell 5.1 reads a BOM-less script in the ANSI code page)`, () => {
    const bad = [...text].findIndex((c) => c.charCodeAt(0) > 0x7e || (c.charCodeAt(0) < 0x20 && c !== '\n' && c !== '\r'));
    assert.equal(bad, -1, `non-ASCII at offset ${bad}: ${JSON.stringify(text.slice(bad - 20, bad + 20))}`);
  });

  test(`${name}: balanced delimiters outside strings and comments`, () => {
    checkDelimiters(text);
  });

  test(`${name}: no code is built from strings and no shell is involved`, () => {
    for (const banned of [/Invoke-Expression/i, /\biex\b/i, /cmd(\.exe)?\s+\/c/i, /\[ScriptBlock\]::Create/i, /-EncodedCommand/i, /Start-Process/i, /\$ExecutionContext\.InvokeCommand/i, /vssadmin\s+delete/i, /delete shadows/i]) {
      assert.doesNotMatch(text, banned, `${name} contains ${banned}`);
    }
  });
}

test('the delimiter check itself finds errors', () => {
  assert.throws(() => checkDelimiters('if ($a) { "x $($b.c) y" '), /unclosed/);
  assert.throws(() => checkDelimiters('foo(]'), /closes/);
  assert.doesNotThrow(() => checkDelimiters("'(' + \"[`\"\" + $(@{ a = ')' }) + '}' # ) \n<# { #>"));
  const helper = scripts[0]!.text;
  const lastBrace = helper.lastIndexOf('}');
  assert.throws(() => checkDelimiters(helper.slice(0, lastBrace) + helper.slice(lastBrace + 1)), /unclosed/);
});

test('helper.ps1 deletes shadows only by ID, from its own record, never all of them', () => {
  const helper = scripts[0]!.text;
  const removals = [...helper.matchAll(/Remove-CimInstance/g)];
  assert.equal(removals.length, 1);
  assert.match(helper, /Where-Object \{ \$_\.ID -eq \$Id \} \| Remove-CimInstance/);
  assert.match(helper, /@\(Get-Owned\) -notcontains \$Id\) \{ return \}/);
  // The volume is given as data; no WQL filter string is ever assembled.
  assert.doesNotMatch(helper, /-Filter/);
  assert.match(helper, /Context = 'ClientAccessible'/);
});
