/**
 * A parser of rsync filter-rule lines that accepts and rejects exactly what rsync 3.x's
 * `parse_rule_tok()` (exclude.c) does, so an error shown in the editor is an error rsync would stop
 * the backup with (RERR_SYNTAX, exit 1), and a rule shown as valid is read the same way by rsync.
 */

export type RuleKind = 'exclude' | 'include' | 'hide' | 'show' | 'protect' | 'risk' | 'merge' | 'dir-merge' | 'clear';

/** rsync's rule flags that matter for matching and diagnostics (FILTRULE_* in rsync.h). */
export interface RuleFlags {
  include: boolean;
  senderSide: boolean;
  receiverSide: boolean;
  /** `/` modifier: match against the absolute path of the item. */
  absPath: boolean;
  /** `!` modifier: the rule applies when the pattern does NOT match. */
  negate: boolean;
  perishable: boolean;
  /** `x` modifier: the rule filters extended-attribute names, never files. */
  xattr: boolean;
  /** `C`: the global CVS-ignore list (on `-`) or `.cvsignore` files (on `:`). */
  cvsIgnore: boolean;
  /** Merge rules: the merged file holds bare patterns (`-` or `+` modifier, or `C`). */
  noPrefixes: boolean;
  wordSplit: boolean;
  noInherit: boolean;
  excludeSelf: boolean;
}

/** One rule as written on one line of a filter file. Columns are 0-based UTF-16 offsets. */
export interface FilterRule {
  kind: RuleKind;
  flags: RuleFlags;
  /** The pattern (or merge-file name) exactly as rsync reads it, trailing `/` and spaces included. */
  pattern: string;
  line: number;
  /** Column where the rule starts (its prefix) and where the pattern starts. */
  start: number;
  patternStart: number;
  /** End column of the rule (exclusive). */
  end: number;
  /** The rule's prefix as written, e.g. `-`, `exclude,s` or `:n-`. */
  prefix: string;
  /** File the rule came from (absent for the top-level text). */
  file?: string | undefined;
}

export interface FilterParseError {
  line: number;
  start: number;
  end: number;
  message: string;
  hint?: string | undefined;
  file?: string | undefined;
}

export interface ParsedFilterText {
  rules: FilterRule[];
  errors: FilterParseError[];
}

/** The flags a merge rule passes on to the rules of the file it merges (rsync's "template"). */
export type RuleTemplate = Partial<RuleFlags>;

const LONG_NAMES: Record<string, { name: string; ch: string }> = {
  c: { name: 'clear', ch: '!' },
  d: { name: 'dir-merge', ch: ':' },
  e: { name: 'exclude', ch: '-' },
  h: { name: 'hide', ch: 'H' },
  i: { name: 'include', ch: '+' },
  m: { name: 'merge', ch: '.' },
  p: { name: 'protect', ch: 'P' },
  r: { name: 'risk', ch: 'R' },
  s: { name: 'show', ch: 'S' },
};

const KIND_OF: Record<string, RuleKind> = { '-': 'exclude', '+': 'include', H: 'hide', S: 'show', P: 'protect', R: 'risk', '.': 'merge', ':': 'dir-merge', '!': 'clear' };

/** rsync's MAXPATHLEN: longer patterns are discarded with an error message. */
export const MAX_PATTERN_BYTES = 4096;

function emptyFlags(): RuleFlags {
  return { include: false, senderSide: false, receiverSide: false, absPath: false, negate: false, perishable: false, xattr: false, cvsIgnore: false, noPrefixes: false, wordSplit: false, noInherit: false, excludeSelf: false };
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';

type TokResult = { rule: FilterRule } | { error: FilterParseError };

/**
 * Parses one rule token (a whole line in line mode, one word in word-split mode) starting at
 * `col`. Mirrors parse_rule_tok(): `template` holds the flags of the merge rule that read the file.
 */
function parseRuleToken(text: string, line: number, col: number, endLimit: number, template: RuleTemplate): TokResult {
  const flags = emptyFlags();
  // FILTRULES_FROM_CONTAINER: what a merge rule hands down to the rules it reads.
  flags.absPath = template.absPath === true;
  flags.include = template.include === true;
  flags.negate = template.negate === true;
  flags.perishable = template.perishable === true;
  const err = (message: string, at: number, to: number, hint?: string): TokResult => ({ error: { line, start: at, end: Math.max(to, at + 1), message, hint } });
  let s = col;
  let ch = '';
  let clearTentative = false;
  let sepConsumed = false;
  if (template.noPrefixes) {
    if (text[s] === '!' && template.cvsIgnore) clearTentative = true;
  } else {
    let prefixSpecifiesSide = false;
    const first = text[s] ?? '';
    const long = LONG_NAMES[first];
    if (long) {
      // rule_strcmp(): the long name must be followed by white space, `_`, `,` or the end.
      if (!text.startsWith(long.name, s)) return err(`Unknown filter rule: \`${text.slice(col, endLimit)}'`, col, endLimit, 'Start the rule with -, +, H, S, P, R, ., :, ! or a long name such as "exclude".');
      const after = text[s + long.name.length];
      if (after === undefined || s + long.name.length >= endLimit || isSpace(after) || after === '_') s = s + long.name.length - 1;
      else if (after === ',') s = s + long.name.length;
      else return err(`Unknown filter rule: \`${text.slice(col, endLimit)}'`, col, endLimit, `Write "${long.name} PATTERN" with one space after the rule name.`);
      ch = long.ch;
    } else {
      ch = first;
      if (text[s + 1] === ',') s++;
    }
    const isMerge = ch === '.' || ch === ':';
    switch (ch) {
      case '+': flags.include = true; break;
      case 'S': flags.include = true; flags.senderSide = true; prefixSpecifiesSide = true; break;
      case 'H': flags.senderSide = true; prefixSpecifiesSide = true; break;
      case 'R': flags.include = true; flags.receiverSide = true; prefixSpecifiesSide = true; break;
      case 'P': flags.receiverSide = true; prefixSpecifiesSide = true; break;
      case '-': case '.': case ':': case '!': break;
      default:
        return err(`Unknown filter rule: \`${text.slice(col, endLimit)}'`, col, endLimit,
          first === ' ' || first === '\t' ? 'Remove the white space before the rule: rsync reads it as the rule type.' : 'Start the rule with -, +, H, S, P, R, ., :, ! or a long name such as "exclude".');
    }
    while (ch !== '!') {
      s++;
      if (s >= endLimit) break;
      const m = text[s]!;
      if (m === ' ' || m === '_') break;
      if (template.wordSplit && isSpace(m)) { s--; break; }
      const invalidMod = (why: string) => err(`invalid modifier '${m}' at position ${s - col} in filter rule: ${text.slice(col, endLimit)}`, s, s + 1, why);
      switch (m) {
        case '-':
        case '+':
          if (!isMerge || flags.noPrefixes) return invalidMod(`"${m}" is only valid on a merge rule (".${m}" or ":${m}"), once.`);
          flags.noPrefixes = true;
          if (m === '+') flags.include = true;
          break;
        case '/': flags.absPath = true; break;
        case '!':
          if (isMerge) return invalidMod('Negation goes with a pattern; it cannot be a merge-file default.');
          flags.negate = true;
          break;
        case 'C':
          if (flags.noPrefixes || prefixSpecifiesSide) return invalidMod('"C" is only valid on "-" (global CVS excludes) or ":" (.cvsignore files), without "-"/"+".');
          flags.noPrefixes = true; flags.wordSplit = true; flags.noInherit = true; flags.cvsIgnore = true;
          break;
        case 'e':
          if (!isMerge) return invalidMod('"e" (exclude the merge file itself) is only valid on a merge rule.');
          flags.excludeSelf = true;
          break;
        case 'n':
          if (!isMerge) return invalidMod('"n" (no inheritance) is only valid on a merge rule.');
          flags.noInherit = true;
          break;
        case 'p': flags.perishable = true; break;
        case 'r':
          if (prefixSpecifiesSide) return invalidMod('H, S, P and R already say which side the rule applies to.');
          flags.receiverSide = true;
          break;
        case 's':
          if (prefixSpecifiesSide) return invalidMod('H, S, P and R already say which side the rule applies to.');
          flags.senderSide = true;
          break;
        case 'w':
          if (!isMerge) return invalidMod('"w" (split the merged file into words) is only valid on a merge rule.');
          flags.wordSplit = true;
          break;
        case 'x': flags.xattr = true; break;
        default:
          return invalidMod('Valid modifiers are / ! C s r p x and, on merge rules, - + e n w; put one space between the rule and its pattern.');
      }
    }
    if (s < endLimit) { sepConsumed = ch !== '!'; s++; }
    if (ch === '!') clearTentative = true;
  }
  if (template.senderSide || template.receiverSide) {
    if (flags.senderSide || flags.receiverSide) {
      return err(`specified-side merge file contains specified-side filter: ${text.slice(col, endLimit)}`, col, endLimit, 'Remove the side (s/r, H/S/P/R) from either the merge rule or this rule.');
    }
    flags.senderSide = template.senderSide === true;
    flags.receiverSide = template.receiverSide === true;
  }
  let len: number;
  if (template.wordSplit) {
    let cp = s;
    while (cp < endLimit && !isSpace(text[cp])) cp++;
    len = cp - s;
  } else len = endLimit - s;
  const prefix = text.slice(col, sepConsumed ? s - 1 : s);
  if (clearTentative) {
    if (!template.noPrefixes && len > 0) {
      return err(`'!' rule has trailing characters: ${text.slice(col, endLimit)}`, s, s + len, 'A clear rule ("!" or "clear") takes nothing after it, not even spaces.');
    }
    if (len <= 1) {
      return { rule: { kind: 'clear', flags, pattern: '', line, start: col, patternStart: s, end: s + len, prefix } };
    }
  } else if (len === 0 && !flags.cvsIgnore) {
    return err(`unexpected end of filter rule: ${text.slice(col, endLimit)}`, col, endLimit, 'Write a pattern after the rule, e.g. "- node_modules/".');
  }
  const kind: RuleKind = template.noPrefixes ? (flags.include ? 'include' : 'exclude') : (KIND_OF[ch] ?? 'exclude');
  return { rule: { kind, flags, pattern: text.slice(s, s + len), line, start: col, patternStart: s, end: s + len, prefix } };
}

/**
 * Parses the text of a filter file the way rsync's parse_filter_file() reads it: lines end at
 * `\n` or `\r`; a line starting with `#` or `;` is a comment (not in word-split mode); nothing is
 * trimmed, so trailing spaces belong to the pattern. Errors do not stop parsing (rsync stops at the
 * first one; the editor shows them all).
 */
export function parseFilterText(text: string, template: RuleTemplate = {}, file?: string): ParsedFilterText {
  const rules: FilterRule[] = [];
  const errors: FilterParseError[] = [];
  const lines = text.split(/\r\n|\n|\r/);
  for (let line = 0; line < lines.length; line++) {
    const t = lines[line]!;
    if (template.wordSplit) {
      let i = 0;
      while (i < t.length) {
        while (i < t.length && isSpace(t[i])) i++;
        if (i >= t.length) break;
        let end = i;
        while (end < t.length && !isSpace(t[end])) end++;
        const r = parseRuleToken(t, line, i, end, template);
        if ('rule' in r) rules.push({ ...r.rule, file }); else errors.push({ ...r.error, file });
        i = Math.max(end, 'rule' in r ? r.rule.end : end);
      }
      continue;
    }
    if (t.length === 0 || t[0] === '#' || t[0] === ';') continue;
    const r = parseRuleToken(t, line, 0, t.length, template);
    if ('rule' in r) rules.push({ ...r.rule, file }); else errors.push({ ...r.error, file });
  }
  return { rules, errors };
}

/** The template a merge rule hands to the file it reads (FILTRULES_FROM_CONTAINER plus parse modes). */
export function templateOf(rule: FilterRule): RuleTemplate {
  const f = rule.flags;
  return {
    absPath: f.absPath, include: f.include, negate: f.negate, perishable: f.perishable,
    noPrefixes: f.noPrefixes, wordSplit: f.wordSplit, cvsIgnore: f.cvsIgnore,
    senderSide: f.senderSide, receiverSide: f.receiverSide,
  };
}

/** rsync's built-in `-C` list (exclude.c default_cvsignore), parsed word by word as excludes. */
export const DEFAULT_CVS_IGNORE = 'RCS SCCS CVS CVS.adm RCSLOG cvslog.* tags TAGS .make.state .nse_depinfo *~ #* .#* ,* _$* *$ *.old *.bak *.BAK *.orig *.rej .del-* *.a *.olb *.o *.obj *.so *.exe *.Z *.elc *.ln core .svn/ .git/ .hg/ .bzr/';
