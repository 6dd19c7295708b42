/**
 * A name or server text for a message, as helper.ps1's Format-Name writes it (golden pairs in
 * test/fixtures/windows/helper-golden.json): every character that would not show, or would change
 * how the rest shows, becomes `\uXXXX` — C0 and C1 controls and DEL (U+009B is CSI on terminals
 * that honour 8-bit C1), the zero-width and direction marks and embeddings, the line and
 * paragraph separators, the byte order mark, surrogates and private use (review 15b, finding 5).
 */
export function formatName(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    out += HIDDEN.some(([lo, hi]) => c >= lo && c <= hi) ? `\\u${c.toString(16).toUpperCase().padStart(4, '0')}` : name[i];
  }
  return out;
}

const HIDDEN: ReadonlyArray<readonly [number, number]> = [
  [0x0000, 0x001f], [0x007f, 0x009f], [0x200b, 0x200f], [0x2028, 0x202e], [0x2066, 0x2069], [0xd800, 0xf8ff], [0xfeff, 0xfeff],
];
