/**
 * The exclude rule the elevated helper writes for one link, junction or mount point it found
 * below the shadowed source (a path relative to the source, `\`-separated, folders ending in
 * `\`): anchored at the transfer root, `/`-separated, with rsync's wildcard characters escaped
 * (rsync honours a backslash escape when the pattern holds a wildcard character, which an escaped
 * one is). Mirrored by Format-ExcludeLine in assets/helper.ps1 (golden pairs in
 * test/fixtures/windows/helper-golden.json).
 */
export function reparseExcludeLine(relative: string): string {
  const folder = relative.endsWith('\\');
  const path = relative.replace(/\\+$/, '').replace(/\\/g, '/').replace(/([[*?])/g, '\\$1');
  return `/${path}${folder ? '/' : ''}`;
}
