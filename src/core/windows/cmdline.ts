/**
 * Quoting for the Windows command line. A Windows process receives ONE string and splits it
 * itself; MSVCRT, CommandLineToArgvW and Cygwin/MSYS2's startup code all follow the same rules
 * for the cases produced here: an argument is wrapped in double quotes, backslashes are literal
 * unless they precede a double quote, `2n` backslashes + `"` mean n backslashes and a closing
 * quote, `2n+1` backslashes + `"` mean n backslashes and a literal quote.
 * See "Everyone quotes command line arguments the wrong way" (Microsoft, D. Colascione).
 *
 * cmd.exe is NOT such a parser (`&`, `|`, `^`, `%` mean something to it): nothing here is ever
 * handed to cmd.exe.
 */
export function quoteWindowsArg(arg: string, always = false): string {
  if (!always && arg.length > 0 && !/[\s"]/.test(arg)) return arg;
  let out = '"';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      backslashes++;
      continue;
    }
    if (ch === '"') {
      out += '\\'.repeat(backslashes * 2 + 1) + '"';
    } else {
      out += '\\'.repeat(backslashes) + ch;
    }
    backslashes = 0;
  }
  // Backslashes before the closing quote must be doubled so the quote still closes.
  out += '\\'.repeat(backslashes * 2) + '"';
  return out;
}

/**
 * Quotes every argument (Cygwin and MSYS2 glob-expand unquoted arguments such as `--exclude=*.tmp`
 * when started from a Windows process, so `always` is used for rsync).
 */
export function joinWindowsArgs(args: readonly string[], always = false): string {
  return args.map((a) => quoteWindowsArg(a, always)).join(' ');
}

/**
 * The reverse: CommandLineToArgvW's rules for arguments after the program name (post-2008 MSVCRT
 * behaviour: `""` inside quotes is a literal quote). Used by tests to prove round trips.
 */
export function splitWindowsArgs(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
    if (i >= n) break;
    let cur = '';
    let inQuotes = false;
    while (i < n) {
      const ch = line[i]!;
      if (!inQuotes && (ch === ' ' || ch === '\t')) break;
      if (ch === '\\') {
        let count = 0;
        while (i < n && line[i] === '\\') { count++; i++; }
        if (line[i] === '"') {
          cur += '\\'.repeat(Math.floor(count / 2));
          if (count % 2 === 1) { cur += '"'; i++; }
        } else {
          cur += '\\'.repeat(count);
        }
        continue;
      }
      if (ch === '"') {
        if (inQuotes && line[i + 1] === '"') { cur += '"'; i += 2; continue; }
        inQuotes = !inQuotes;
        i++;
        continue;
      }
      cur += ch;
      i++;
    }
    args.push(cur);
  }
  return args;
}

/**
 * Why `"` is refused in rsync's arguments (issue 12, finding 4): Cygwin's startup code (also
 * cwRsync's), with globbing off as the helper runs it, toggles quoting on every `"` and never lets
 * `\` escape it, while MSYS2 and MSVCRT honour `\"`. No quoting of a `"` means the same to both,
 * so a value holding one could split into extra arguments under one of them. Control characters
 * are refused too: nothing legitimate in an rsync argument needs them.
 */
export function rsyncArgProblem(arg: string): string | undefined {
  if (arg.includes('"')) return 'contains a double quote (")';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(arg)) return 'contains a control character';
  return undefined;
}

/**
 * Quotes one rsync argument so that Cygwin's parser and MSVCRT's (MSYS2's) read back exactly
 * the same string: the argument is wrapped in quotes, except for trailing backslashes, which go
 * after the closing quote (inside it MSVCRT would read `\\"` as an escaped backslash, Cygwin as
 * two). With no `"` inside, nothing else differs between the two. Mirrored by Quote-Arg in
 * assets/helper.ps1 (golden pairs in test/fixtures/windows/helper-golden.json).
 */
export function quoteRsyncArg(arg: string): string {
  const problem = rsyncArgProblem(arg);
  if (problem !== undefined) throw new Error(`rsync argument ${JSON.stringify(arg)} ${problem}`);
  const body = arg.replace(/\\+$/, '');
  return `"${body}"${arg.slice(body.length)}`;
}

/** The command-line text after rsync.exe, as the helper builds it. */
export function joinRsyncArgs(args: readonly string[]): string {
  return args.map(quoteRsyncArg).join(' ');
}
