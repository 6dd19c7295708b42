/**
 * Simulators of the two ways a Windows rsync splits its command line, written from their
 * sources, independent of src/core/windows/cmdline.ts:
 *
 * - MSVCRT / UCRT `parse_cmdline` (what MSYS2's runtime follows): `2n` backslashes before `"`
 *   give n backslashes and toggle quoting, `2n+1` give n backslashes and a literal `"`; other
 *   backslashes are literal; `""` inside quotes is a literal `"` (the post-2008 rule).
 * - Cygwin's `build_argv` + `quoted()` in winsup/cygwin/dcrt0.cc, as run with globbing off
 *   (`CYGWIN=noglob`, how the helper starts it; cwRsync is Cygwin): every `"` opens or closes
 *   quoting, a backslash never escapes anything, and an argument starting with an unquoted `@`
 *   names a response file whose contents Cygwin splices in (reported here as `@file:…`).
 */
export function parseMsvcrt(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (i >= line.length) break;
    let arg = '';
    let quoted = false;
    while (i < line.length && (quoted || (line[i] !== ' ' && line[i] !== '\t'))) {
      if (line[i] === '\\') {
        let n = 0;
        while (line[i] === '\\') { n++; i++; }
        if (line[i] === '"') {
          arg += '\\'.repeat(n >> 1);
          if (n % 2 === 1) { arg += '"'; i++; }
        } else {
          arg += '\\'.repeat(n);
        }
      } else if (line[i] === '"') {
        if (quoted && line[i + 1] === '"') { arg += '"'; i += 2; } else { quoted = !quoted; i++; }
      } else {
        arg += line[i++];
      }
    }
    args.push(arg);
  }
  return args;
}

export function parseCygwinNoglob(line: string): string[] {
  return parseStripQuotes(line, '"');
}

/**
 * `build_argv` with `quoted()` in strip mode (globbing off): a quote character drops itself and
 * everything up to the next same character is copied (backslashes included), then that one is
 * dropped too. Upstream Cygwin knows only `"`; older msys2-runtime, whose Windows parent counts as
 * a shell, also `'`.
 */
function parseStripQuotes(line: string, quotes: string): string[] {
  const isSep = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
  const args: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (isSep(line[i])) { i++; continue; }
    const startsQuoted = quotes.includes(line[i]!);
    let word = '';
    while (i < line.length) {
      const c = line[i]!;
      if (!quotes.includes(c)) {
        word += c;
        i++;
      } else {
        const close = line.indexOf(c, i + 1);
        word += close === -1 ? line.slice(i + 1) : line.slice(i + 1, close);
        i = close === -1 ? line.length : close + 1;
      }
      if (isSep(line[i])) break;
    }
    args.push(!startsQuoted && word.startsWith('@') ? `@file:${word.slice(1)}` : word);
  }
  return args;
}

/**
 * Current msys2-runtime's `next_arg` (winsup/cygwin/dcrt0.cc): MSVCRT's rules, plus `'` as a
 * second quote character. Outside quotes either `"` or `'` opens quoting; inside, only the same
 * character closes it (doubled, it is a literal one); backslashes count only before the quote
 * character that would act there. An argument whose first character is an unquoted `@` names a
 * response file (globbing is off, as the helper runs it, so nothing else applies).
 */
export function parseMsys2NextArg(line: string): string[] {
  const isSep = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
  const args: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (isSep(line[i])) i++;
    if (i >= line.length) break;
    let arg = '';
    let quote = '';
    let backslashes = 0;
    let firstQuoted = false;
    const start = i;
    for (; i < line.length && (quote !== '' || !isSep(line[i])); i++) {
      const c = line[i]!;
      if (c === '\\') { backslashes++; continue; }
      const atQuote = quote !== '' ? c === quote : c === '"' || c === "'";
      arg += '\\'.repeat(atQuote ? backslashes >> 1 : backslashes);
      if (backslashes % 2 === 0 && atQuote) {
        if (quote !== '' && line[i + 1] === quote) { arg += c; i++; } else {
          if (quote === '' && i === start) firstQuoted = true;
          quote = quote === '' ? c : '';
        }
      } else {
        arg += c;
      }
      backslashes = 0;
    }
    arg += '\\'.repeat(backslashes);
    args.push(!firstQuoted && arg.startsWith('@') ? `@file:${arg.slice(1)}` : arg);
  }
  return args;
}

/**
 * Older msys2-runtime with `MSYS=noglob` (its `build_argv` + `quoted()` in strip mode): Cygwin's
 * noglob rules with `'` as a second quote character, since a Windows parent counts as a shell.
 */
export function parseMsys2OldNoglob(line: string): string[] {
  return parseStripQuotes(line, `"'`);
}
