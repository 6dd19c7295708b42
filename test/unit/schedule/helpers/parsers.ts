/**
 * Independent readers of each scheduler's syntax, written from the platforms' documentation (not
 * from the generators), so a test can prove that a hostile value comes back exactly.
 */

/**
 * systemd: what ExecStart= becomes at exec time. systemd.service(5) "Command lines" and
 * systemd.syntax(7): specifiers are resolved on the whole value first (`%%` → `%`), then the line
 * is split into words with quotes and C escapes, then `$$` → `$` in every argument but the
 * executable (which is not subject to variable expansion).
 */
export function systemdExecArgv(value: string): string[] {
  const resolved = value.replace(/%(.)/g, (_, c: string) => {
    if (c === '%') return '%';
    throw new Error(`unescaped specifier %${c} in ${value}`);
  });
  if (/%$/.test(resolved.replace(/%%/g, ''))) throw new Error('trailing %');
  const words: string[] = [];
  let i = 0;
  const s = resolved;
  while (i < s.length) {
    while (i < s.length && /[ \t]/.test(s[i]!)) i++;
    if (i >= s.length) break;
    let word = '';
    let quote: string | undefined;
    for (; i < s.length; i++) {
      const c = s[i]!;
      if (quote === undefined && /[ \t]/.test(c)) break;
      if (c === '\\') {
        const n = s[++i];
        if (n === undefined) throw new Error('trailing backslash');
        const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v', s: ' ' };
        if (n === 'x') { word += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; continue; }
        if (map[n] === undefined) throw new Error(`unknown escape \\${n}`);
        word += map[n];
        continue;
      }
      if (quote === undefined && (c === '"' || c === "'")) { quote = c; continue; }
      if (quote !== undefined && c === quote) { quote = undefined; continue; }
      word += c;
    }
    if (quote !== undefined) throw new Error('unbalanced quote');
    words.push(word);
  }
  return words.map((w, n) => {
    if (n === 0) return w;
    // Any remaining single `$` followed by a name or `{` would be expanded by systemd.
    const rest = w.replace(/\$\$/g, '');
    if (/\$(\{|[A-Za-z_])/.test(rest)) throw new Error(`argument ${JSON.stringify(w)} would be variable-expanded`);
    return w.replace(/\$\$/g, '$');
  });
}

/** The `Key=value` pairs of one section of a unit file. */
export function unitSection(text: string, section: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let current = '';
  for (const line of text.split('\n')) {
    if (/^\s*[#;]/.test(line) || line.trim() === '') continue;
    const h = /^\[(.+)\]$/.exec(line.trim());
    if (h) { current = h[1]!; continue; }
    if (current !== section) continue;
    const i = line.indexOf('=');
    (out[line.slice(0, i).trim()] ??= []).push(line.slice(i + 1));
  }
  return out;
}

/**
 * cron's own treatment of the command field before /bin/sh sees it. Both dialects end the command
 * at an unescaped `%` (the rest becomes stdin, each further `%` a line break) and turn `\%` into
 * `%`. Debian's cron also turns `\\` into `\` (its patch "Handle escapes in job input"; seen with
 * the real daemon in test/integration/schedule/crontab.test.ts); Vixie cron 4.1 and cronie
 * (Fedora, Arch, RHEL) keep every other backslash. Returns the command and the stdin text.
 */
export type CronDialect = 'debian' | 'vixie';
export const CRON_DIALECTS: readonly CronDialect[] = ['debian', 'vixie'];

export function cronCommand(field: string, dialect: CronDialect = 'debian'): { command: string; stdin: string | undefined } {
  let out = '';
  let escaped = false;
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!;
    if (escaped) {
      // The escaping backslash is already in `out`; an escape it completes replaces it.
      escaped = false;
      if (c === '%' || (c === '\\' && dialect === 'debian')) { out = out.slice(0, -1) + c; continue; }
    } else if (c === '\\') {
      escaped = true;
    } else if (c === '%') {
      return { command: out, stdin: field.slice(i + 1).replace(/%/g, '\n') };
    }
    out += c;
  }
  return { command: out, stdin: undefined };
}

/** Splits a crontab job line into its five time fields and the command field. */
export function cronFields(line: string): { fields: string[]; command: string } {
  const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.*)$/.exec(line);
  if (!m) throw new Error(`not a crontab job line: ${line}`);
  return { fields: m.slice(1, 6), command: m[6]! };
}

/**
 * CommandLineToArgvW / the MSVC runtime rules for the arguments part of a command line:
 * 2n backslashes + `"` → n backslashes and a quote toggle; 2n+1 backslashes + `"` → n backslashes
 * and a literal `"`; other backslashes are literal; inside quotes `""` is a literal `"`.
 */
export function windowsArgv(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= line.length) break;
    let arg = '';
    let inQuotes = false;
    while (i < line.length) {
      const c = line[i]!;
      if (!inQuotes && (c === ' ' || c === '\t')) break;
      if (c === '\\') {
        let n = 0;
        while (line[i] === '\\') { n++; i++; }
        if (line[i] === '"') {
          arg += '\\'.repeat(Math.floor(n / 2));
          if (n % 2 === 1) { arg += '"'; i++; }
        } else {
          arg += '\\'.repeat(n);
        }
        continue;
      }
      if (c === '"') {
        if (inQuotes && line[i + 1] === '"') { arg += '"'; i += 2; continue; }
        inQuotes = !inQuotes;
        i++;
        continue;
      }
      arg += c;
      i++;
    }
    args.push(arg);
  }
  return args;
}

/** Values that break naive quoting in at least one of the four formats. */
export const HOSTILE = [
  'with space',
  `quote's "double"`,
  'amp & pipe | semi ; back `tick`',
  'percent % and %d and 100%% and %h',
  'dollar $HOME ${HOME} $$ $(id) $',
  'back\\slash\\ trailing\\',
  'two \\\\ three \\\\\\ before-percent \\% \\\\% end \\\\',
  'slash-before-quote\\"x',
  'glob * ? [a] ~user # hash',
  'caret ^ lt < gt > bang !',
  'Ünïcödé 日本語 🙂',
];
