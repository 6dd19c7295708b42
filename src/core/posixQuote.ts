/**
 * The one way a value reaches a POSIX shell on a ring's server. Everything the engine runs there
 * is a script built from constant text and values quoted here; no value is ever spliced in raw.
 *
 * Single quotes keep every byte literally in every POSIX shell (dash, bash, ksh, busybox ash):
 * spaces, `$()`, backticks, `;`, `&`, `%`, `\`, newlines and any UTF-8. The only character that
 * cannot appear inside them is the single quote itself, written as `'\''` (close, escaped quote,
 * reopen). NUL cannot be passed to a shell at all, so it is refused rather than cut short.
 */
export function shQuote(value: string): string {
  if (value.includes('\0')) throw new Error('A NUL character cannot be passed to a shell.');
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** An argv as one shell command line: every word quoted, so none is split, globbed or expanded. */
export function shCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('An empty command.');
  return argv.map(shQuote).join(' ');
}
