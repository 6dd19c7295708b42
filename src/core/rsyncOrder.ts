/**
 * The order in which rsync lists the entries of a transfer (its sorted file list, walked folder by
 * folder), restricted to what a slot's checksum list holds: files, symlinks and other non-folder
 * entries. Within a folder rsync puts every non-folder entry before every subfolder, compares
 * names bytewise (UTF-8), and compares folder names as if they ended in `/` (`a.b/` before `a/`
 * before `a0/`); a folder's content follows its name. rsync's itemized output (`-ii`) and a
 * checksum list written from it are in this order, so the two can be merge-joined.
 *
 * Byte order of UTF-8 is code point order; JavaScript strings compare UTF-16 code units, which
 * differ from it only between a surrogate and a code unit ≥ U+E000 (see codePointKey).
 */
export function compareRsyncOrder(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  // Where the paths part, each is either still in a folder's name (a `/` follows) or in its leaf.
  const aInFolder = a.indexOf('/', i) !== -1;
  const bInFolder = b.indexOf('/', i) !== -1;
  if (aInFolder !== bInFolder) return aInFolder ? 1 : -1;
  if (i === a.length) return -1;
  if (i === b.length) return 1;
  // Two folder names compare with their `/`, which is what charCodeAt sees where a name ends.
  return codePointKey(a.charCodeAt(i)) - codePointKey(b.charCodeAt(i));
}

/** Maps UTF-16 code units to keys that sort in code point order (surrogates above U+FFFF's BMP). */
function codePointKey(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/** Sorts the names of one folder's entries as rsync lists them: non-folders first, then folders. */
export function compareNamesInFolder(a: { name: string; folder: boolean }, b: { name: string; folder: boolean }): number {
  if (a.folder !== b.folder) return a.folder ? 1 : -1;
  return compareRsyncOrder(a.folder ? `${a.name}/` : a.name, b.folder ? `${b.name}/` : b.name);
}
