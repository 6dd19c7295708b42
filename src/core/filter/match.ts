import type { FilterRule } from './parse';
import { litmatchArray, wildmatchArray } from './wildmatch';

/**
 * A rule prepared for matching exactly as rsync's add_rule() prepares it: a trailing `/` becomes
 * "directories only", slashes are counted, and `*`, `**`, a leading `**` and a trailing `***` are
 * noted, because rule_matches() chooses what part of the path to match from these facts.
 */
export interface CompiledPattern {
  /** Pattern bytes without the trailing `/` and without the leading `/` of an anchored rule. */
  bytes: Uint8Array;
  anchored: boolean;
  directoryOnly: boolean;
  slashCount: number;
  wild: boolean;
  wild2: boolean;
  wild2Prefix: boolean;
  wild3Suffix: boolean;
  negate: boolean;
  absPath: boolean;
  xattr: boolean;
}

export function compilePattern(pattern: string, opts: { negate?: boolean; absPath?: boolean; xattr?: boolean } = {}): CompiledPattern {
  let pat = pattern;
  let directoryOnly = false;
  if (pat.length > 1 && pat.endsWith('/')) { pat = pat.slice(0, -1); directoryOnly = true; }
  let slashCount = 0;
  for (const c of pat) if (c === '/') slashCount++;
  const wild = /[*[?]/.test(pat);
  const i2 = wild ? pat.indexOf('**') : -1;
  const wild2 = i2 >= 0;
  const wild2Prefix = i2 === 0;
  const wild3Suffix = wild2 && pat.length >= 3 && pat.endsWith('***');
  const anchored = pat.startsWith('/');
  return {
    bytes: Buffer.from(anchored ? pat.slice(1) : pat, 'utf8'),
    anchored, directoryOnly, slashCount, wild, wild2, wild2Prefix, wild3Suffix,
    negate: opts.negate === true, absPath: opts.absPath === true, xattr: opts.xattr === true,
  };
}

const SLASH = Buffer.from('/');

/**
 * One path being checked against many rules. rsync matches a rule against the name, the full
 * path, "/" + path (for a leading `**`), the absolute path (the `/` modifier), each optionally with
 * a "/" appended (a directory against a trailing `***`); the variants are built once per path.
 */
export class MatchPath {
  readonly rel: string;
  readonly isDir: boolean;
  private readonly full: Uint8Array;
  private readonly absRoot: Uint8Array | undefined;
  private readonly cache = new Map<number, Uint8Array>();

  /**
   * @param rel path relative to the transfer root, `/`-separated, no leading or trailing slash
   * @param absRoot absolute path of the source folder (only used by rules with the `/` modifier)
   */
  constructor(rel: string, isDir: boolean, absRoot?: Uint8Array) {
    this.rel = rel;
    this.isDir = isDir;
    this.full = Buffer.from(rel, 'utf8');
    this.absRoot = absRoot;
  }

  /** kind: 0 name, 1 full, 2 "/"+full, 3 abs+"/"+full; +4 appends "/". */
  bytes(kind: number): Uint8Array {
    const hit = this.cache.get(kind);
    if (hit) return hit;
    let b: Uint8Array;
    const base = kind & 3;
    if (base === 0) {
      const i = this.full.lastIndexOf(0x2f);
      b = i < 0 ? this.full : this.full.subarray(i + 1);
    } else if (base === 1) b = this.full;
    else if (base === 2) b = Buffer.concat([SLASH, this.full]);
    else b = Buffer.concat([this.absRoot ?? new Uint8Array(), SLASH, this.full]);
    if (kind & 4) b = Buffer.concat([b, SLASH]);
    this.cache.set(kind, b);
    return b;
  }

  get hasAbsRoot(): boolean { return this.absRoot !== undefined && this.absRoot.length > 0; }

  /** Number of path elements (1 for a top-level entry). */
  get depth(): number {
    let d = 1;
    for (let i = 0; i < this.rel.length; i++) if (this.rel.charCodeAt(i) === 0x2f) d++;
    return d;
  }
}

/** rsync's rule_matches() for a file or directory name (never an xattr name). */
export function patternMatches(p: CompiledPattern, path: MatchPath): boolean {
  const hit = !p.negate;
  if (path.rel.length === 0) return false;
  if (p.xattr) return false;
  let base: number;
  if (p.slashCount === 0 && !p.wild2) base = 0;
  else if (p.absPath && path.hasAbsRoot) base = 3; // rsync skips this when its curr_dir is "/"
  else if (p.wild2Prefix) base = 2;
  else base = 1;
  let suffix = 0;
  if (path.isDir) {
    if (p.wild3Suffix) suffix = 4;
  } else if (p.directoryOnly) return !hit;
  const text = path.bytes(base | suffix);
  let where: number;
  if (!p.anchored && p.slashCount > 0 && !p.wild2) where = p.slashCount + 1;
  else if (!p.anchored && !p.wild2Prefix && p.wild2) where = -1;
  else where = 0;
  if (p.wild) return wildmatchArray(p.bytes, text, where) ? hit : !hit;
  if (base >= 2 || suffix !== 0) return litmatchArray(p.bytes, text, where) ? hit : !hit;
  if (p.anchored) return equalBytes(text, p.bytes) ? hit : !hit;
  // Unanchored literal: the name, or the path's tail starting right after a slash.
  const l1 = text.length;
  const l2 = p.bytes.length;
  if (l2 <= l1 && equalBytes(text.subarray(l1 - l2), p.bytes) && (l1 === l2 || text[l1 - l2 - 1] === 0x2f)) return hit;
  return !hit;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One entry of an evaluated rule list: a rule (possibly from a merged file) ready to match. */
export interface RuleEntry {
  rule: FilterRule;
  include: boolean;
  pattern: CompiledPattern;
  /**
   * A list checked in place of this entry, first match wins inside it (rsync's check_filter() on a
   * sub-list): the global CVS-ignore list for `-C`, or for a `:` dir-merge rule the rules read from
   * the per-folder files of the folder being walked and its parents (set by the walker as it goes).
   * `pattern` is unused then.
   */
  sub?: RuleEntry[] | undefined;
  /** Set on a `:` dir-merge entry: the per-folder file name and how to read it. */
  dirMerge?: DirMerge | undefined;
  /** Set for the pattern of a CVS list entry: the `-C` rule that brought it in. */
  via?: FilterRule | undefined;
}

/**
 * rsync's check_filter(): the index of the first entry that matches (first match wins), or -1
 * when none does (the path is included). `matchedCvs` receives the CVS pattern that matched.
 */
export function firstMatch(entries: readonly RuleEntry[], path: MatchPath, from = 0): number {
  for (let i = from; i < entries.length; i++) {
    if (entryMatches(entries[i]!, path)) return i;
  }
  return -1;
}

export interface DirMerge {
  /** File name looked for in every folder. */
  name: string;
  /** Flags the `:` rule hands to the rules of each file (parse template). */
  template: import('./parse').RuleTemplate;
  /** `n`: rules of a folder's file do not apply in its subfolders. */
  noInherit: boolean;
}

export function entryMatches(e: RuleEntry, path: MatchPath): boolean {
  if (e.sub) return e.sub.some((c) => entryMatches(c, path));
  return patternMatches(e.pattern, path);
}

/** Include (true) or exclude (false) of an entry that matched `path`. */
export function includeOf(e: RuleEntry, path: MatchPath): boolean {
  if (e.sub) {
    const hit = e.sub.find((c) => entryMatches(c, path));
    return hit ? includeOf(hit, path) : true;
  }
  return e.include;
}

/** Whether the matching entry includes (true) or excludes (false); an unmatched path is included. */
export function isIncluded(entries: readonly RuleEntry[], path: MatchPath): boolean {
  const i = firstMatch(entries, path);
  if (i < 0) return true;
  return includeOf(entries[i]!, path);
}
