/**
 * A byte-for-byte port of rsync's lib/wildmatch.c (dowild, trailing_N_elements, wildmatch_array,
 * litmatch_array). It works on UTF-8 bytes, as rsync does: `?` matches one byte, so a two-byte
 * character needs `??`, and character classes compare bytes. rsync matches against a list of
 * strings joined virtually; callers here pass the joined bytes, which is equivalent.
 */

const TRUE = 1;
const FALSE = 0;
const ABORT_ALL = -1;
const ABORT_TO_STARSTAR = -2;

const SLASH = 0x2f;
const STAR = 0x2a;
const QUESTION = 0x3f;
const BACKSLASH = 0x5c;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const BANG = 0x21;
const CARET = 0x5e;
const DASH = 0x2d;
const COLON = 0x3a;

// The C locale's <ctype.h> classes; bytes >= 0x80 are in none of them (rsync runs them on bytes).
const isUpper = (c: number) => c >= 0x41 && c <= 0x5a;
const isLower = (c: number) => c >= 0x61 && c <= 0x7a;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number) => isUpper(c) || isLower(c);
const isAlnum = (c: number) => isAlpha(c) || isDigit(c);
const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isBlank = (c: number) => c === 0x20 || c === 0x09;
const isCntrl = (c: number) => c < 0x20 || c === 0x7f;
const isPrint = (c: number) => c >= 0x20 && c < 0x7f;
const isGraph = (c: number) => c > 0x20 && c < 0x7f;
const isPunct = (c: number) => isGraph(c) && !isAlnum(c);
const isXdigit = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

const CLASSES: Record<string, (c: number) => boolean> = {
  alnum: isAlnum, alpha: isAlpha, blank: isBlank, cntrl: isCntrl, digit: isDigit, graph: isGraph,
  lower: isLower, print: isPrint, punct: isPunct, space: isSpace, upper: isUpper, xdigit: isXdigit,
};

/** Byte at i, or 0 past the end (C strings end in NUL). */
const at = (b: Uint8Array, i: number) => (i < b.length ? b[i]! : 0);

function dowild(p: Uint8Array, pi: number, t: Uint8Array, ti: number): number {
  for (; ; ti++, pi++) {
    let pCh = at(p, pi);
    if (pCh === 0) break;
    const tCh = at(t, ti);
    if (ti >= t.length && pCh !== STAR) return ABORT_ALL;
    switch (pCh) {
      case BACKSLASH:
        pCh = at(p, ++pi);
        if (tCh !== pCh) return FALSE;
        continue;
      default:
        if (tCh !== pCh) return FALSE;
        continue;
      case QUESTION:
        if (tCh === SLASH) return FALSE;
        continue;
      case STAR: {
        let special: boolean;
        if (at(p, ++pi) === STAR) {
          while (at(p, ++pi) === STAR) { /* skip */ }
          special = true;
        } else special = false;
        if (pi >= p.length) {
          // Trailing "**" matches everything; a trailing "*" only if no slash is left.
          if (!special) { for (let k = ti; k < t.length; k++) if (t[k] === SLASH) return FALSE; }
          return TRUE;
        }
        for (; ti < t.length; ti++) {
          const matched = dowild(p, pi, t, ti);
          if (matched !== FALSE) {
            if (!special || matched !== ABORT_TO_STARSTAR) return matched;
          } else if (!special && t[ti] === SLASH) return ABORT_TO_STARSTAR;
        }
        return ABORT_ALL;
      }
      case LBRACKET: {
        pCh = at(p, ++pi);
        if (pCh === CARET) pCh = BANG;
        const special = pCh === BANG;
        if (special) pCh = at(p, ++pi);
        let prev = 0;
        let matched = false;
        do {
          if (pCh === 0) return ABORT_ALL;
          if (pCh === BACKSLASH) {
            pCh = at(p, ++pi);
            if (pCh === 0) return ABORT_ALL;
            if (tCh === pCh) matched = true;
          } else if (pCh === DASH && prev !== 0 && at(p, pi + 1) !== 0 && at(p, pi + 1) !== RBRACKET) {
            pCh = at(p, ++pi);
            if (pCh === BACKSLASH) {
              pCh = at(p, ++pi);
              if (pCh === 0) return ABORT_ALL;
            }
            if (tCh <= pCh && tCh >= prev) matched = true;
            pCh = 0;
          } else if (pCh === LBRACKET && at(p, pi + 1) === COLON) {
            pi += 2;
            const s = pi;
            while ((pCh = at(p, pi)) !== 0 && pCh !== RBRACKET) pi++;
            if (pCh === 0) return ABORT_ALL;
            const i = pi - s - 1;
            if (i < 0 || at(p, pi - 1) !== COLON) {
              // No ":]": the "[" is an ordinary member of the set.
              pi = s - 2;
              pCh = LBRACKET;
              if (tCh === pCh) matched = true;
              prev = pCh;
              pCh = at(p, ++pi);
              if (pCh === RBRACKET) break;
              continue;
            }
            const name = String.fromCharCode(...p.subarray(s, s + i));
            const test = CLASSES[name];
            if (!test) return ABORT_ALL;
            if (test(tCh)) matched = true;
            pCh = 0;
          } else if (tCh === pCh) matched = true;
          prev = pCh;
          pCh = at(p, ++pi);
        } while (pCh !== RBRACKET);
        if (matched === special || tCh === SLASH) return FALSE;
        continue;
      }
    }
  }
  return ti >= t.length ? TRUE : FALSE;
}

/** Index where the last `count` slash-separated elements start, or -1 if there are fewer. */
function trailingNElements(t: Uint8Array, count: number): number {
  for (let i = t.length - 1; i >= 0; i--) {
    if (t[i] === SLASH && --count === 0) return i + 1;
  }
  return count === 1 ? 0 : -1;
}

/**
 * `where` is 0 (match the whole text), > 0 (match only the trailing N elements) or < 0 (match at
 * the start or after any slash), as in rsync.
 */
export function wildmatchArray(pattern: Uint8Array, text: Uint8Array, where: number): boolean {
  let ti = 0;
  if (where > 0) {
    ti = trailingNElements(text, where);
    if (ti < 0) return false;
  }
  let matched = dowild(pattern, 0, text, ti);
  if (matched !== TRUE && where < 0 && matched !== ABORT_ALL) {
    for (; ;) {
      if (ti >= text.length) return false;
      if (text[ti++] === SLASH) {
        matched = dowild(pattern, 0, text, ti);
        if (matched !== FALSE && matched !== ABORT_TO_STARSTAR) break;
      }
    }
  }
  return matched === TRUE;
}

/** rsync's litmatch_array: a literal pattern against the whole text or its trailing N elements. */
export function litmatchArray(literal: Uint8Array, text: Uint8Array, where: number): boolean {
  let ti = 0;
  if (where > 0) {
    ti = trailingNElements(text, where);
    if (ti < 0) return false;
  }
  if (text.length - ti !== literal.length) return false;
  for (let i = 0; i < literal.length; i++) if (text[ti + i] !== literal[i]) return false;
  return true;
}

/** Plain wildmatch() of one pattern against one text (both strings, compared as UTF-8). */
export function wildmatch(pattern: string, text: string): boolean {
  return dowild(Buffer.from(pattern, 'utf8'), 0, Buffer.from(text, 'utf8'), 0) === TRUE;
}
