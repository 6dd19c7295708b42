import { invalid } from './errors';

/**
 * Validation of user-supplied exclude patterns. They reach rsync as `--exclude=PATTERN` argv
 * entries (never through a shell or a filter file), so the only hazards are patterns rsync would
 * read differently from what the user meant, or that silently exclude everything.
 */
export function validateExcludePattern(pattern: unknown, index: number): string {
  const where = `exclude #${index + 1}`;
  if (typeof pattern !== 'string') throw invalid(`${where} must be a string, got ${typeof pattern}.`);
  if (pattern.length === 0 || pattern.trim().length === 0) {
    throw invalid(`${where} is empty.`, 'Remove the empty entry or write a pattern such as "node_modules/".');
  }
  if (/[\r\n\0]/.test(pattern)) {
    throw invalid(`${where} contains a line break or NUL character: ${JSON.stringify(pattern)}.`, 'Write one pattern per entry.');
  }
  if (pattern.length > 4096) throw invalid(`${where} is longer than 4096 characters.`);
  if (pattern !== pattern.trim()) {
    throw invalid(
      `${where} ${JSON.stringify(pattern)} has leading or trailing spaces, which rsync treats as part of the name.`,
      'Remove the spaces (a name that really ends in a space can be matched with "name[ ]").',
    );
  }
  if (unbalancedBracket(pattern)) {
    throw invalid(`${where} ${JSON.stringify(pattern)} has a "[" without a matching "]".`, 'Close the character class, or escape a literal bracket as "\\[".');
  }
  if (pattern === '!') {
    throw invalid(`${where} "!" is not a pattern: rsync reads it as "clear every earlier rule".`, 'Remove it; to start over, edit the list instead.');
  }
  const wholeSource = ['/', '*', '**', '/*', '/**', '***', '/***', './', '.'];
  if (wholeSource.includes(pattern)) {
    throw invalid(`${where} ${JSON.stringify(pattern)} would exclude the whole source, so every backup would be empty.`, 'Exclude specific folders, e.g. "/node_modules/" or "*.tmp".');
  }
  if (/^[-+PHSRp!:.],? /.test(pattern)) {
    throw invalid(
      `${where} ${JSON.stringify(pattern)} starts with a filter-rule prefix; exclude patterns are taken literally.`,
      'Write only the pattern (e.g. "*.log"), or put full filter rules in a filter file.',
    );
  }
  return pattern;
}

function unbalancedBracket(pattern: string): boolean {
  let open = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') { i++; continue; }
    if (!open && ch === '[') { open = true; if (pattern[i + 1] === ']' || pattern[i + 1] === '!' && pattern[i + 2] === ']') i += pattern[i + 1] === '!' ? 2 : 1; continue; }
    if (open && ch === ']') open = false;
  }
  return open;
}

/** An anchored, directory-only exclude for a path relative to the source (posix separators). */
export function anchoredDirExclude(relativePosixPath: string): string {
  const escaped = relativePosixPath.replace(/[[\]*?\\]/g, (c) => `\\${c}`);
  return `/${escaped}/`;
}
