/**
 * Why rsync (Cygwin or MSYS2) would see a name below the source differently from how Windows
 * stores it, or undefined when it sees it alike (issue 12 review, H3). Cygwin presents
 * U+F001–U+F07F as the ASCII characters they stand for and U+F080–U+F0FF as raw bytes,
 * converts unpaired surrogates lossily, and maps reserved characters and a trailing dot or space.
 * An exclude rule written from the Windows name would then not match, and rsync would follow the
 * link: the helper stops the run for such a link instead of excluding it. Mirrored by
 * CygwinNames.Problem in assets/native.cs (both run on the same names in
 * test/unit/windows/nativeCs.test.ts).
 */
export function cygwinNameProblem(relative: string): string | undefined {
  for (let i = 0; i < relative.length; i++) {
    const c = relative.charCodeAt(i);
    if (c >= 0xf000 && c <= 0xf0ff) return `a private-use character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = relative.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) { i++; continue; }
      return 'an unpaired surrogate';
    }
    if (c >= 0xdc00 && c <= 0xdfff) return 'an unpaired surrogate';
    if (c < 0x20 || '*?:"<>|/'.includes(relative[i]!)) return 'a character Windows reserves';
  }
  if (relative.split('\\').some((part) => part.endsWith('.') || part.endsWith(' '))) return 'a name ending in a dot or space';
  return undefined;
}

/**
 * The exclude rule the elevated helper writes for one link, junction or mount point it found
 * below the shadowed source (a path relative to the source, `\`-separated, folders ending in
 * `\`): anchored at the transfer root, `/`-separated, never ending in `/` (a junction can point at
 * a file, and Cygwin then shows rsync a file: a folder-only rule would not match it), with rsync's wildcard characters escaped
 * (rsync honours a backslash escape when the pattern holds a wildcard character, which an escaped
 * one is). Throws for a name rsync would see differently (cygwinNameProblem): no rule could match
 * it. Mirrored by Format-ExcludeLine in assets/helper.ps1 (golden pairs in
 * test/fixtures/windows/helper-golden.json).
 */
export function reparseExcludeLine(relative: string): string {
  const bare = relative.replace(/\\+$/, '');
  const problem = cygwinNameProblem(bare);
  if (problem !== undefined) throw new Error(`${JSON.stringify(bare)} contains ${problem}: rsync would see another name, so no exclude rule can match it`);
  const path = bare.replace(/\\/g, '/').replace(/([[*?])/g, '\\$1');
  return `/${path}`;
}
