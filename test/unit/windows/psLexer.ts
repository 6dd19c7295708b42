/**
 * Enough of PowerShell's lexer to check the constant scripts without PowerShell (not installable
 * on the project's machines): comments (`#…`, `<#…#>`), single- and double-quoted strings with
 * their escapes (`''`, backtick, `""`), here-strings (`@'…'@`, `@"…"@`) and `$( … )` inside
 * double-quoted strings, which is code. `code` is the script with comments removed and every
 * string replaced by `''` (the code inside `$( … )` kept), so checks on commands never match text
 * in a message; `balance` reports the first unbalanced (), {} or [] outside strings and comments.
 */
export interface Lexed {
  code: string;
  error: string | undefined;
}

export function lexPowerShell(text: string): Lexed {
  const stack: Array<{ ch: string; line: number }> = [];
  const pairs: Record<string, string> = { ')': '(', '}': '{', ']': '[' };
  let out = '';
  let line = 1;
  let i = 0;
  let error: string | undefined;
  const fail = (why: string) => { error ??= `line ${line}: ${why}`; };
  const count = (s: string) => { line += s.split('\n').length - 1; };

  const doubleQuoted = () => {
    i++;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (c === '\n') line++;
      if (c === '`') { i++; continue; }
      if (c === '"') { if (text[i + 1] === '"') { i++; continue; } return; }
      if (c === '$' && text[i + 1] === '(') { i += 2; out += ' $('; code(')'); out += ') '; continue; }
      // A variable in a double-quoted string is expanded: keep it visible to the checks.
      const variable = c === '$' ? /^\$(\{[^}]*\}|[\w:]+)/.exec(text.slice(i)) : null;
      if (variable) { out += ` ${variable[0]} `; i += variable[0].length - 1; }
    }
    fail('unterminated double-quoted string');
  };
  const code = (until: string | null) => {
    const depth = stack.length;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (c === '\n') { line++; out += c; continue; }
      if (c === '<' && text[i + 1] === '#') { const end = text.indexOf('#>', i); if (end < 0) { fail('unterminated block comment'); return; } count(text.slice(i, end)); i = end + 1; continue; }
      if (c === '#') { const end = text.indexOf('\n', i); i = (end < 0 ? text.length : end) - 1; continue; }
      if (c === '`') { out += text.slice(i, i + 2); i++; continue; }
      if (c === '@' && (text[i + 1] === "'" || text[i + 1] === '"') && /^\r?\n/.test(text.slice(i + 2, i + 4))) {
        const close = `\n${text[i + 1]}@`;
        const end = text.indexOf(close, i + 2);
        if (end < 0) { fail('unterminated here-string'); return; }
        count(text.slice(i, end + close.length));
        out += "''";
        if (text[i + 1] === '"') for (const v of text.slice(i, end).matchAll(/\$(\{[^}]*\}|[\w:]+)/g)) out += ` ${v[0]} `;
        i = end + close.length - 1;
        continue;
      }
      if (c === "'") {
        for (i++; i < text.length; i++) { if (text[i] === '\n') line++; if (text[i] === "'") { if (text[i + 1] === "'") { i++; continue; } break; } }
        if (i >= text.length) fail('unterminated single-quoted string');
        out += "''";
        continue;
      }
      if (c === '"') { out += "''"; doubleQuoted(); continue; }
      if (c === '(' || c === '{' || c === '[') { stack.push({ ch: c, line }); out += c; continue; }
      if (c === ')' || c === '}' || c === ']') {
        if (until !== null && c === until && stack.length === depth) return;
        const top = stack.pop();
        if (!top || top.ch !== pairs[c]) fail(`"${c}" closes ${top ? `"${top.ch}" from line ${top.line}` : 'nothing'}`);
        out += c;
        continue;
      }
      out += c;
    }
    if (until !== null) fail('unterminated $( … )');
  };
  code(null);
  if (error === undefined && stack.length > 0) error = `unclosed "${stack[0]!.ch}" from line ${stack[0]!.line}`;
  return { code: out, error };
}

/** Modules whose cmdlets the scripts may call, always by `Module\Verb-Noun`. */
export const CMDLET_MODULES = ['Microsoft.PowerShell.Core', 'Microsoft.PowerShell.Utility', 'Microsoft.PowerShell.Management', 'CimCmdlets', 'Storage'];

/**
 * Every `Verb-Noun` command word in the code that is neither a function the script defines nor
 * qualified with one of CMDLET_MODULES. A module in a folder the account can write (its
 * Documents\WindowsPowerShell\Modules) would otherwise be able to supply a same-named command.
 */
export function unqualifiedCommands(code: string): string[] {
  const defined = new Set([...code.matchAll(/\bfunction\s+([A-Za-z]+-[A-Za-z]+)/g)].map((m) => m[1]!.toLowerCase()));
  const found: string[] = [];
  for (const m of code.matchAll(/(^|[^-\w.$\\])((?:[\w.]+\\)?)([A-Z][a-z]+-[A-Z][A-Za-z]+)\b/g)) {
    const [, , module, command] = m;
    if (module !== '' && CMDLET_MODULES.includes(module!.slice(0, -1))) continue;
    if (module === '' && defined.has(command!.toLowerCase())) continue;
    found.push(`${module}${command}`);
  }
  return found;
}
