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
  const isSep = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
  const args: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (isSep(line[i])) { i++; continue; }
    const startsQuoted = line[i] === '"';
    let word = '';
    while (i < line.length) {
      if (line[i] !== '"') {
        word += line[i++];
      } else {
        // quoted(): drop this quote, copy up to the next quote (backslashes included), drop that one.
        const close = line.indexOf('"', i + 1);
        word += close === -1 ? line.slice(i + 1) : line.slice(i + 1, close);
        i = close === -1 ? line.length : close + 1;
      }
      if (isSep(line[i])) break;
    }
    args.push(!startsQuoted && word.startsWith('@') ? `@file:${word.slice(1)}` : word);
  }
  return args;
}
