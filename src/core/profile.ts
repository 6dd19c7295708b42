import * as path from 'node:path';
import { invalid } from './errors';
import { anchoredDirExclude, validateExcludePattern } from './filters';
import { isTargetMode, TARGET_MODES, type TargetMode } from './target';
import { formatRemoteTarget, parseRemoteTarget } from './remoteTarget';

export const SNAPSHOT_METHODS = ['auto', 'none', 'btrfs', 'vss', 'apfs', 'lvm'] as const;
export type SnapshotMethod = (typeof SNAPSHOT_METHODS)[number];

export const DEFAULT_SLOTS = 16;
export const MIN_SLOTS = 1;
/** Above this a ring stops being a nightly ring; NTFS's own 1023-link limit is checked in preflight. */
export const MAX_SLOTS = 1000;

/** What the user (settings, CLI flags or a profile file) supplies; every field is untrusted. */
export interface ProfileInput {
  name?: unknown;
  source?: unknown;
  target?: unknown;
  slots?: unknown;
  excludes?: unknown;
  snapshot?: unknown;
  rsyncPath?: unknown;
  rsyncArgs?: unknown;
  /** A file of rsync filter rules (e.g. the workspace's `.shadowslots-filter`), applied after `excludes`. */
  filterFile?: unknown;
  /** How slots are stored: `auto` (copy-on-write on btrfs/ZFS, else hard links), `links`, `cow`. */
  targetMode?: unknown;
  /** The ssh program for a ring on a server (default: `ssh` from PATH). */
  sshPath?: unknown;
}

declare const validated: unique symbol;

/**
 * A validated backup profile: absolute, normalised paths and checked values. Only validateProfile
 * makes one (the brand), so a profile is validated once where it enters — CLI arguments, a profile
 * file, a request from the extension — and code that takes a Profile never validates again.
 */
export interface Profile {
  readonly [validated]: true;
  name: string;
  source: string;
  /** A folder here, or a ring on a server: `ssh://[user@]host[:port]/path` or `[user@]host:/path`. */
  target: string;
  slots: number;
  excludes: string[];
  snapshot: SnapshotMethod;
  rsyncPath: string | undefined;
  rsyncArgs: string[];
  filterFile: string | undefined;
  targetMode: TargetMode;
  /** The ssh program for a ring on a server; undefined: `ssh` from PATH. */
  sshPath: string | undefined;
}

export interface ValidatedProfile {
  profile: Profile;
  /** Things the user should be told although the profile is valid (e.g. an automatic exclude). */
  notes: string[];
}

export type PathFlavor = 'posix' | 'win32';

/**
 * rsync options that would break the ring's contract. `--inplace` and friends rewrite the shared
 * inode that every older slot hard-links to, silently changing history.
 */
const FORBIDDEN_ARGS: Array<{ match: RegExp; why: string }> = [
  { match: /^--inplace$/, why: 'rewrites files in place, which changes the shared inode of every older slot hard-linked to it' },
  { match: /^--append(-verify)?$/, why: 'appends to the shared inode of every older slot hard-linked to it' },
  { match: /^--(link|copy|compare)-dest(=|$)/, why: 'the ring chooses the --link-dest itself' },
  { match: /^--delete-(before|during|delay|after|excluded)$|^--del$/, why: 'the ring already deletes into a fresh slot; extra delete modes are not needed' },
  { match: /^--remove-source-files$/, why: 'would delete your source files' },
  { match: /^--(dry-run)$|^-n$/, why: 'a dry run never produces a slot; use the preview instead' },
  { match: /^--(files-from|exclude-from|include-from|filter|exclude|include)(=|$)/, why: 'set excludes through the profile so they are validated and recorded' },
  { match: /^--(backup|backup-dir|suffix)(=|$)/, why: 'the ring keeps history itself' },
  { match: /^--(partial|partial-dir)(=|$)/, why: 'partial files would be hard-linked into later slots' },
  { match: /^--(write-batch|only-write-batch|read-batch|log-file|out-format|info|itemize-changes)(=|$)/, why: 'the engine needs its own output format' },
  { match: /^--(rsh|rsync-path)(=|$)|^-e/, why: 'remote shells are not supported by the local ring' },
  { match: /^-[a-zA-Z]*[n]/, why: '-n is a dry run' },
];

const SAFE_ARG = /^-/;

/**
 * Everything else must be on this list. rsync has hundreds of options and aliases (the old
 * `--remove-sent-files`, `-f` for `--filter`, `--log-format`, `--existing` that makes an empty
 * "complete" slot…): a blocklist cannot keep up, so extra arguments are opt-in.
 */
const ALLOWED_FLAGS = new Set([
  '-H', '--hard-links', '-A', '--acls', '-X', '--xattrs', '--numeric-ids', '-p', '--perms', '-E', '--executability',
  '-o', '--owner', '-g', '--group', '-S', '--sparse', '--preallocate', '--no-specials', '--no-devices',
  '--safe-links', '--copy-unsafe-links', '--munge-links', '-O', '--omit-dir-times', '-J', '--omit-link-times',
  '--fake-super', '-c', '--checksum', '-W', '--whole-file', '--no-whole-file',
]);
const ALLOWED_VALUED = new Set(['--bwlimit', '--max-size', '--min-size', '--timeout', '--chmod', '--iconv', '--checksum-choice']);
const ALLOWED_SHORT = new Set('HAXpEoSgOJcW'.split(''));

function allowedArg(arg: string): boolean {
  if (ALLOWED_FLAGS.has(arg)) return true;
  const eq = arg.indexOf('=');
  if (eq > 2 && ALLOWED_VALUED.has(arg.slice(0, eq)) && arg.length > eq + 1) return true;
  return /^-[A-Za-z]{2,}$/.test(arg) && [...arg.slice(1)].every((c) => ALLOWED_SHORT.has(c));
}

/**
 * Checks everything the user supplied and returns the Profile the rest of the code trusts. Call it
 * once, at the boundary where the input arrives; `flavor` picks the path rules (`win32` plans the
 * Windows helper on any OS).
 */
export function validateProfile(input: ProfileInput, flavor: PathFlavor = process.platform === 'win32' ? 'win32' : 'posix'): ValidatedProfile {
  const p = flavor === 'win32' ? path.win32 : path.posix;
  const notes: string[] = [];

  const source = validateAbsolutePath(input.source, 'source', p);
  // A ring on a server (ssh://… or host:/path) is parsed as such; it cannot overlap the source.
  const remote = typeof input.target === 'string' ? parseRemoteTarget(input.target) : null;
  const target = remote ? formatRemoteTarget(remote) : validateAbsolutePath(input.target, 'target', p);

  const name = input.name === undefined ? defaultName(source, p) : validateName(input.name);
  const slots = validateSlots(input.slots);
  const snapshot = validateSnapshot(input.snapshot);
  const excludes = validateExcludes(input.excludes);
  const rsyncPath = input.rsyncPath === undefined || input.rsyncPath === '' ? undefined : validateAbsolutePath(input.rsyncPath, 'rsync path', p);
  const rsyncArgs = validateRsyncArgs(input.rsyncArgs);
  const filterFile = input.filterFile === undefined || input.filterFile === null || input.filterFile === '' ? undefined : validateAbsolutePath(input.filterFile, 'filter file', p);
  const targetMode = validateTargetMode(input.targetMode);
  const sshPath = input.sshPath === undefined || input.sshPath === null || input.sshPath === '' ? undefined : validateAbsolutePath(input.sshPath, 'ssh path', p);

  if (remote) return { profile: { name, source, target, slots, excludes, snapshot, rsyncPath, rsyncArgs, filterFile, targetMode, sshPath } as Profile, notes };
  const same = flavor === 'win32' ? (a: string, b: string) => a.toLowerCase() === b.toLowerCase() : (a: string, b: string) => a === b;
  if (same(source, target)) {
    throw invalid(`The target ${target} is the source itself.`, 'Choose a target folder outside the source, ideally on another disk.');
  }
  const sourceInTarget = relativeInside(target, source, p, flavor);
  if (sourceInTarget !== undefined) {
    throw invalid(`The source ${source} is inside the target ${target}; slots would be mixed with the data they back up.`, 'Choose a target folder that does not contain the source.');
  }
  const targetInSource = relativeInside(source, target, p, flavor);
  if (targetInSource !== undefined) {
    const rule = anchoredDirExclude(targetInSource.split(p.sep).join('/'));
    if (!excludes.includes(rule)) excludes.push(rule);
    notes.push(`The target is inside the source, so it is excluded from the backup automatically (exclude "${rule}"). A ring on another disk is safer.`);
  }

  return { profile: { name, source, target, slots, excludes, snapshot, rsyncPath, rsyncArgs, filterFile, targetMode, sshPath } as Profile, notes };
}

function validateAbsolutePath(value: unknown, what: string, p: path.PlatformPath): string {
  if (value === undefined || value === null || value === '') {
    throw invalid(`The ${what} folder is missing.`, `Give the ${what} as an absolute path.`);
  }
  if (typeof value !== 'string') throw invalid(`The ${what} must be a path (text), got ${typeof value}.`);
  if (/[\0\r\n]/.test(value)) throw invalid(`The ${what} path contains a line break or NUL character.`, 'Rename the folder or choose another one.');
  if (value.trim() !== value) throw invalid(`The ${what} path ${JSON.stringify(value)} starts or ends with spaces.`, 'Remove the spaces.');
  if (!p.isAbsolute(value) || (p === path.win32 && !/^([a-zA-Z]:\\|\\\\[^\\]+\\[^\\]+)/.test(value.replace(/\//g, '\\')))) {
    throw invalid(`The ${what} path ${JSON.stringify(value)} is not absolute.`, p === path.win32 ? 'Use a full path such as D:\\Backups\\project or \\\\server\\share\\backups.' : 'Use a full path such as /mnt/backup/project.');
  }
  // Only the separators of the path's own flavour: on POSIX `\` is an ordinary file-name character,
  // and stripping it as one turned `/mnt/backup x \` into another folder ending in a space.
  const separators = p === path.win32 ? /[\\/]/ : /\//;
  if (value.split(separators).includes('..')) {
    throw invalid(`The ${what} path ${JSON.stringify(value)} contains "..".`, 'Write the resolved path without "..".');
  }
  const normal = p.normalize(value);
  const root = p.parse(normal).root;
  return normal.length > root.length ? normal.replace(p === path.win32 ? /[\\/]+$/ : /\/+$/, '') : normal;
}

function validateName(value: unknown): string {
  if (typeof value !== 'string' || !/^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$/u.test(value)) {
    throw invalid(`The profile name ${JSON.stringify(value)} is not valid.`, 'Use 1–64 letters, digits, spaces, dots, dashes or underscores, starting with a letter or digit.');
  }
  return value;
}

function defaultName(source: string, p: path.PlatformPath): string {
  const base = p.basename(source).replace(/[^\p{L}\p{N} ._-]/gu, '_').replace(/^[^\p{L}\p{N}]+/u, '').slice(0, 64);
  return base.length > 0 ? base : 'default';
}

export function validateSlots(value: unknown): number {
  if (value === undefined || value === null || value === '') return DEFAULT_SLOTS;
  const n = typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < MIN_SLOTS || n > MAX_SLOTS) {
    throw invalid(`The slot count ${JSON.stringify(value)} is not a whole number from ${MIN_SLOTS} to ${MAX_SLOTS}.`, `Use e.g. ${DEFAULT_SLOTS} (one slot per night for about two weeks).`);
  }
  return n;
}

function validateSnapshot(value: unknown): SnapshotMethod {
  if (value === undefined || value === null || value === '') return 'auto';
  if (typeof value === 'string' && (SNAPSHOT_METHODS as readonly string[]).includes(value)) return value as SnapshotMethod;
  throw invalid(`The snapshot method ${JSON.stringify(value)} is not known.`, `Use one of: ${SNAPSHOT_METHODS.join(', ')}.`);
}

function validateTargetMode(value: unknown): TargetMode {
  if (value === undefined || value === null || value === '') return 'auto';
  if (isTargetMode(value)) return value;
  throw invalid(`The target mode ${JSON.stringify(value)} is not known.`, `Use one of: ${TARGET_MODES.join(', ')} (auto: copy-on-write snapshots on btrfs or ZFS, hard-linked folders elsewhere).`);
}

function validateExcludes(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid('Excludes must be a list of patterns.', 'e.g. ["node_modules/", "*.tmp"]');
  return value.map((v, i) => validateExcludePattern(v, i));
}

function validateRsyncArgs(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid('Extra rsync arguments must be a list.', 'e.g. ["--no-specials"]');
  return value.map((arg, i) => {
    if (typeof arg !== 'string' || arg.length === 0 || /[\0\r\n]/.test(arg)) {
      throw invalid(`Extra rsync argument #${i + 1} ${JSON.stringify(arg)} is not valid.`);
    }
    if (!SAFE_ARG.test(arg)) {
      throw invalid(`Extra rsync argument ${JSON.stringify(arg)} is not an option; the source and target come from the profile.`, 'Only options starting with "-" are allowed.');
    }
    const bad = FORBIDDEN_ARGS.find((f) => f.match.test(arg));
    if (bad) throw invalid(`The rsync option ${JSON.stringify(arg)} is not allowed: it ${bad.why}.`, 'Remove it from the extra rsync arguments.');
    if (!allowedArg(arg)) {
      throw invalid(`The rsync option ${JSON.stringify(arg)} is not one Shadow Slots allows: options outside a short, known-safe list can break the ring (empty or partial slots counted as complete, changed output, deleted sources).`,
        `Allowed: ${[...ALLOWED_FLAGS].join(' ')} and ${[...ALLOWED_VALUED].map((v) => `${v}=…`).join(' ')}.`);
    }
    return arg;
  });
}

/** The path of `inner` relative to `outer` if it is strictly inside it, else undefined. */
function relativeInside(outer: string, inner: string, p: path.PlatformPath, flavor: PathFlavor): string | undefined {
  const a = flavor === 'win32' ? outer.toLowerCase() : outer;
  const b = flavor === 'win32' ? inner.toLowerCase() : inner;
  const rel = p.relative(a, b);
  if (rel === '' || rel.startsWith('..') || p.isAbsolute(rel)) return undefined;
  return p.relative(outer, inner);
}
