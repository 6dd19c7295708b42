import { invalid } from '../errors';
import { parseRemoteTarget, type RemoteTarget } from '../remoteTarget';
import { MAX_SLOTS, MIN_SLOTS } from '../profile';
import { rsyncArgProblem } from './cmdline';
import { NTFS_MAX_LINKS } from './ntfs';
import { RSYNC_FLAVORS, toRsyncPath, type RsyncFlavor } from './paths';
import { helperRsyncShell, helperSessionArgv, helperSshConfig } from './sshConfig';

/**
 * The profile the elevated helper runs, stored as `profile.json` beside helper.ps1 in the
 * admin-only folder. Every decision is made by the TypeScript planner and written here; the
 * helper only joins the run's slot id into the prefixes below, so it stays small. The helper
 * re-validates this shape (see Assert-Profile in assets/helper.ps1).
 */
export interface HelperProfile {
  format: 3;
  kind: 'shadow-slots-helper';
  name: string;
  /**
   * The SID of the user the helper works for (who may start it). The source must be theirs
   * (owned by them or inside their profile folder), the target may be writable by nobody else,
   * and the slots the helper makes are readable by them and administrators only.
   */
  requester: string;
  /** Windows paths, as the user chose them. */
  source: string;
  target: string;
  slots: number;
  /** Volume to shadow, `C:\`; the source is always below it, never the volume itself. */
  volume: string;
  /** Where helper.ps1 and this file live; the helper refuses to run from anywhere else. */
  installDir: string;
  /** Admin-only folder for the per-run directory symlinks to the shadow. */
  linkDir: string;
  /** progress.json and helper.log, readable by the requester only. */
  stateDir: string;
  /** Holds the one file `request`, which only the requester may write: non-empty asks the run to stop. */
  cancelDir: string;
  /** Admin-only scratch folder: TEMP of the helper (Add-Type compiles there) and the per-run exclude lists. */
  tmpDir: string;
  /** SDDL every new slot folder is created with (protected: SYSTEM, Administrators, the requester read-only). */
  slotSddl: string;
  rsync: {
    /** The admin-only copy: `<installDir>\rsync\usr\bin\rsync.exe`. */
    exe: string;
    /**
     * Where the installer read rsync.exe from (its DLLs are beside it), after checking that only
     * administrators can change that location. Recorded so an update can say what changed.
     */
    origin: string;
    flavor: RsyncFlavor;
    /** Every file of the copy (paths relative to installDir, `/`-separated) and its SHA-256, checked before each run. */
    files: Array<{ name: string; sha256: string }>;
    /** Options before `--`, without --link-dest (buildRsyncArgv order). */
    options: string[];
    /** Where `--link-dest=<slot 0>` is inserted into `options` when slot 0 was made by the helper. */
    linkDestAt: number;
    linkDest: string;
    /** rsync source = snapshotPrefix + slotId + snapshotSuffix (the link, then the source below the volume). */
    snapshotPrefix: string;
    snapshotSuffix: string;
    /** rsync destination = incomingPrefix + slotId + '/'. */
    incomingPrefix: string;
    /** `--exclude-from=` + this + slotId + `.exclude`: the links and junctions found in the shadowed source. */
    excludeFromPrefix: string;
  };
  /** Copied into every slot manifest (e.g. the FAT/exFAT hard-link warning). */
  warnings: string[];
  /**
   * Only for a ring on a server (issue 15): `target` is then `user@host:/path` or `ssh://…`, and
   * `rsync.incomingPrefix`/`linkDest` name the server's folders. helper.ps1 runs it through the
   * scripts of helperRemote.ts (see docs/windows.md, "Rings on a server over SSH").
   */
  ssh?: HelperSsh;
}

/** How the helper reaches its server: the copied MSYS2/Cygwin ssh with the helper's own ssh_config. */
export interface HelperSsh {
  /** `<installDir>\rsync\usr\bin\ssh.exe`: the copy beside rsync.exe, never PATH's or System32's. */
  exe: string;
  /** `<installDir>\ssh\ssh_config`, passed with `-F`. */
  config: string;
  user: string;
  host: string;
  port: number;
  /** The ring's folder on the server. */
  path: string;
  /** ssh's arguments after the executable for the session shell that holds the lock and runs the engine's scripts (sshHost.ts). */
  session: string[];
  /** Inserted before rsync's options: `-e <copied ssh -F config -T>` (rsync's own quoting) and `-s`. */
  rsyncTransport: string[];
  /** SHA-256 fingerprint of the accepted host key, for messages. */
  fingerprint: string;
  /** `ssh/ssh_config` and `ssh/known_hosts` (relative to installDir) and their SHA-256, to check before a run like the rsync copy. */
  files: Array<{ name: string; sha256: string }>;
}

export const CANCEL_REQUEST_FILE = 'request';
export const RSYNC_EXE_PATH = 'rsync/usr/bin/rsync.exe';

/** What the helper passes to rsync after the executable, for one run (mirrors helper.ps1). */
export function helperRsyncArgv(p: HelperProfile, slotId: string, linkDest: boolean): string[] {
  const options = [...p.rsync.options];
  if (linkDest) options.splice(p.rsync.linkDestAt, 0, p.rsync.linkDest);
  // First among the filter rules, so no exclude or include of the profile can take precedence.
  // A ring on a server: the copied ssh (rsync's -e) and -s, so names never reach the server's
  // shell; and, last so it wins over a planned --timeout, the helper's I/O timeout.
  const timeout = p.ssh ? [`--timeout=${HELPER_SERVER_RSYNC_TIMEOUT_S}`] : [];
  return [`--exclude-from=${p.rsync.excludeFromPrefix}${slotId}.exclude`, ...(p.ssh?.rsyncTransport ?? []), ...options, ...timeout, '--', `${p.rsync.snapshotPrefix}${slotId}${p.rsync.snapshotSuffix}`, `${p.rsync.incomingPrefix}${slotId}/`];
}

/**
 * rsync's `--timeout` for a ring on a server (review 15b, finding 2): the helper's rsync has its
 * own connection, so if the session holding the ring's lock is lost the server-side rsync must
 * not keep writing (its `--delete` included) once its peer is gone. With a timeout set, rsync
 * sends keep-alives every half of it, so a slow but live copy (a long file-list scan, a big file
 * checksummed) never trips it. 300 s is well above ssh's own dead-peer detection (ServerAlive
 * 15 s × 4 = 60 s), so ssh normally notices first; the timeout covers a peer that stops answering
 * while its TCP connection stays up.
 */
export const HELPER_SERVER_RSYNC_TIMEOUT_S = 300;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
// A drive path or a UNC share; never a device path (\\?\, \\.\), which skips Win32 path checks.
const WIN_ABS = /^([A-Za-z]:\\|\\\\[^\\?.][^\\]*\\[^\\]+)/;
/**
 * A user account's SID: local or domain (S-1-5-21-…) or Microsoft Entra (S-1-12-1-…). Never a
 * group or well-known SID: the requester may start the task and read every slot (review L2).
 */
export const USER_SID = /^S-1-(5-21(-\d{1,10}){4}|12-1(-\d{1,10}){4})$/;
/** A runtime file name of the rsync copy; `_` occurs in e.g. msys-gcc_s-seh-1.dll (review L9b). */
export const RUNTIME_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}\.(exe|dll)$/;
const FILE_NAME = new RegExp(`^rsync/(usr/bin/${RUNTIME_FILE_NAME.source.slice(1, -1)}|etc/fstab)$`);

/** Options the planner writes for the helper whatever the profile (buildRsyncArgv for Windows rsync). */
export const HELPER_FIXED_OPTIONS = ['-rtDx', '--delete', '--chmod=ugo=rwX', '--modify-window=1', '--out-format=%i %n', '--stats', '--info=progress2'];
/**
 * Extra rsync options the elevated helper accepts: none follows links, preserves permissions or
 * ACLs (slot files must take the slot folder's protected permissions) or changes what counts as
 * copied. Mirrored by Test-HelperOption in assets/helper.ps1 (golden pairs).
 */
export const HELPER_EXTRA_FLAGS = ['-c', '--checksum', '-W', '--whole-file', '--no-whole-file', '-S', '--sparse', '--preallocate', '--no-specials', '--no-devices', '-O', '--omit-dir-times', '-J', '--omit-link-times'];
const HELPER_EXTRA_VALUED = /^--(bwlimit|max-size|min-size|timeout|checksum-choice)=[0-9A-Za-z.+-]{1,32}$/;

/**
 * Why the helper would refuse an rsync option in profile.json (review L2: the stored options are
 * checked against an allow-list, not only their shape), or undefined when it runs it.
 */
export function helperOptionProblem(option: string): string | undefined {
  const problem = rsyncArgProblem(option);
  if (problem !== undefined) return problem;
  if (HELPER_FIXED_OPTIONS.includes(option) || HELPER_EXTRA_FLAGS.includes(option) || HELPER_EXTRA_VALUED.test(option)) return undefined;
  if (option.startsWith('--exclude=') && option.length > '--exclude='.length) {
    // rsync reads "!" as "clear every earlier rule" (the link excludes too) and "- x"/"+ x" as rules.
    const pattern = option.slice('--exclude='.length);
    if (pattern === '!' || /^[-+PHSRp!:.],? /.test(pattern)) return 'is a filter-rule command, not a pattern: it could undo the link excludes';
    return undefined;
  }
  return 'is not an option the elevated helper runs rsync with';
}

/** Checks a parsed profile.json; the same rules as the helper's Assert-Profile. */
export function validateHelperProfile(raw: unknown): HelperProfile {
  const remote = typeof raw === 'object' && raw !== null && 'ssh' in raw ? validateHelperSsh((raw as Record<string, unknown>)['ssh'], raw as Record<string, unknown>) : undefined;
  const bad = (what: string): never => { throw invalid(`The stored helper profile is invalid: ${what}.`, 'Run "Set Up Elevated Helper" again.'); };
  if (typeof raw !== 'object' || raw === null) return bad('not an object');
  const p = raw as Record<string, unknown>;
  if (p['format'] !== 3 || p['kind'] !== 'shadow-slots-helper') bad('unknown format');
  if (typeof p['name'] !== 'string' || !/^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$/u.test(p['name'])) bad('name');
  if (typeof p['requester'] !== 'string' || !USER_SID.test(p['requester'])) bad('requester');
  for (const key of ['source', 'target', 'installDir', 'linkDir', 'stateDir', 'cancelDir', 'tmpDir']) {
    const v = p[key];
    if (key === 'target' && remote !== undefined) {
      const t = typeof v === 'string' ? tryParseRemote(v) : null;
      if (t === null || t.host !== remote.host || t.user !== remote.user || t.path !== remote.path || (t.port ?? 22) !== remote.port) bad('target is not the server the ssh settings name');
      continue;
    }
    if (typeof v !== 'string' || !WIN_ABS.test(v) || CONTROL.test(v) || v.split('\\').includes('..')) bad(key);
  }
  const installDir = p['installDir'] as string;
  for (const [key, leaf] of [['linkDir', 'links'], ['stateDir', 'state'], ['cancelDir', 'cancel'], ['tmpDir', 'tmp']] as const) {
    if (p[key] !== `${installDir}\\${leaf}`) bad(`${key} is not ${leaf} in the install folder`);
  }
  if (typeof p['volume'] !== 'string' || !/^[A-Z]:\\$/.test(p['volume'])) bad('volume');
  const source = p['source'] as string;
  if (!source.toUpperCase().startsWith(p['volume'] as string) || source.length <= (p['volume'] as string).length) bad('source is the volume itself or not on it');
  if (typeof p['slots'] !== 'number' || !Number.isInteger(p['slots']) || p['slots'] < MIN_SLOTS || p['slots'] > MAX_SLOTS) bad('slots');
  if (typeof p['slotSddl'] !== 'string' || !/^O:S-1-5-32-544D:P(\([A-Z]*;[A-Z]*;0x[0-9a-f]+;;;S-1-[0-9-]+\))+$/.test(p['slotSddl'])) bad('slotSddl');
  const r = p['rsync'] as Record<string, unknown> | undefined;
  if (typeof r !== 'object' || r === null) return bad('rsync');
  if (r['exe'] !== `${installDir}\\${RSYNC_EXE_PATH.replace(/\//g, '\\')}`) bad('rsync.exe is not the installed copy');
  if (typeof r['origin'] !== 'string' || !/^[A-Za-z]:\\/.test(r['origin'])) bad('rsync.origin');
  if (!RSYNC_FLAVORS.includes(r['flavor'] as RsyncFlavor)) bad('rsync.flavor');
  const files = r['files'];
  if (!Array.isArray(files) || files.length === 0 || files.some((f) => typeof f !== 'object' || f === null || typeof f.name !== 'string' || !FILE_NAME.test(f.name) || typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256))) bad('rsync.files');
  if (!(files as Array<{ name: string }>).some((f) => f.name === RSYNC_EXE_PATH)) bad('rsync.files lacks rsync.exe');
  if (!Array.isArray(r['options']) || r['options'].some((o) => typeof o !== 'string' || helperOptionProblem(o) !== undefined)) bad('rsync.options');
  const options = r['options'] as string[];
  if (typeof r['linkDestAt'] !== 'number' || !Number.isInteger(r['linkDestAt']) || r['linkDestAt'] < 0 || r['linkDestAt'] > options.length) bad('rsync.linkDestAt');
  if (typeof r['linkDest'] !== 'string' || !r['linkDest'].startsWith('--link-dest=/') || rsyncArgProblem(r['linkDest']) !== undefined) bad('rsync.linkDest');
  for (const key of ['snapshotPrefix', 'snapshotSuffix', 'incomingPrefix', 'excludeFromPrefix']) {
    if (typeof r[key] !== 'string' || rsyncArgProblem(r[key]) !== undefined) bad(`rsync.${key}`);
  }
  for (const key of ['snapshotPrefix', 'incomingPrefix', 'excludeFromPrefix']) {
    const start = key === 'incomingPrefix' && remote !== undefined ? `${rsyncHost(remote.host)}:/` : '/';
    if (!(r[key] as string).startsWith(start) || !(r[key] as string).endsWith('/')) bad(`rsync.${key}`);
  }
  if (!(r['snapshotSuffix'] as string).endsWith('/')) bad('rsync.snapshotSuffix');
  if (!Array.isArray(p['warnings']) || p['warnings'].some((w) => typeof w !== 'string')) bad('warnings');
  return raw as HelperProfile;
}

/** rsync's name for the server in `host:path` (an IPv6 address in brackets). */
export function rsyncHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function tryParseRemote(text: string): RemoteTarget | null {
  try { return parseRemoteTarget(text); } catch { return null; }
}

/** The server account and host helper.ps1 accepts (Assert-ServerProfile): nothing ssh or a shell could read as more. */
const SSH_USER = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
const SSH_HOST = /^([A-Za-z0-9_][A-Za-z0-9._-]{0,252}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9_.-]+)?)$/;

/**
 * The same rules as helper.ps1's Assert-ServerProfile (review M5): the copies in the install
 * folder, one server, and the session's argv and rsync's -e exactly as planHelperSsh makes them
 * from that folder (review H1: no -F file or ssh.exe the planner chose), the incoming folder and
 * --link-dest on that server's ring.
 */
function validateHelperSsh(raw: unknown, profile: Record<string, unknown>): HelperSsh {
  const bad = (what: string): never => { throw invalid(`The stored helper profile is invalid: ssh.${what}.`, 'Run "Set Up Elevated Helper" again.'); };
  const installDir = profile['installDir'];
  const r = (typeof profile['rsync'] === 'object' && profile['rsync'] !== null ? profile['rsync'] : {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || typeof installDir !== 'string') return bad('settings');
  const s = raw as Record<string, unknown>;
  if (s['exe'] !== `${installDir}\\rsync\\usr\\bin\\ssh.exe`) bad('exe is not the installed copy');
  if (s['config'] !== `${installDir}\\ssh\\ssh_config`) bad('config is not the installed ssh_config');
  if (typeof s['user'] !== 'string' || !SSH_USER.test(s['user'])) bad('user');
  if (typeof s['host'] !== 'string' || !SSH_HOST.test(s['host'])) bad('host');
  if (typeof s['port'] !== 'number' || !Number.isInteger(s['port']) || s['port'] < 1 || s['port'] > 65535) bad('port');
  const [user, host, port] = [s['user'] as string, s['host'] as string, s['port'] as number];
  if (typeof s['path'] !== 'string' || !s['path'].startsWith('/') || rsyncArgProblem(s['path']) !== undefined || s['path'].split('/').includes('..')) bad('path');
  const t = tryParseRemote(`ssh://${user}@${rsyncHost(host)}:${port}${s['path'] as string}`);
  if (t === null || t.path !== s['path'] || t.host !== host) bad('server');
  let want: { session: string[]; rsyncTransport: string[] } | undefined;
  try {
    const flavor = r['flavor'] as RsyncFlavor;
    const posix = (leaf: string) => toRsyncPath(`${installDir}\\${leaf}`, flavor);
    if (!RSYNC_FLAVORS.includes(flavor)) throw new Error('flavor');
    helperSshConfig({ knownHosts: posix('ssh\\known_hosts'), identity: posix('ssh\\id_ed25519'), target: { user, host, port, path: '/' } });
    want = { session: helperSessionArgv(posix('ssh\\ssh_config'), host), rsyncTransport: ['-e', helperRsyncShell(posix('rsync\\usr\\bin\\ssh.exe'), posix('ssh\\ssh_config')), '-s'] };
  } catch { bad('settings (no ssh_config can be written for this server)'); }
  const same = (a: unknown, b: string[]) => Array.isArray(a) && a.length === b.length && a.every((x, i) => x === b[i]);
  if (!same(s['session'], want!.session)) bad('session');
  if (!same(s['rsyncTransport'], want!.rsyncTransport)) bad('rsyncTransport');
  if (typeof s['fingerprint'] !== 'string' || !/^SHA256:[A-Za-z0-9+/]{43}$/.test(s['fingerprint'])) bad('fingerprint');
  const files = s['files'];
  if (!Array.isArray(files) || files.map((f: { name?: unknown }) => f?.name).join() !== 'ssh/ssh_config,ssh/known_hosts' || files.some((f: { sha256?: unknown }) => typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256))) bad('files');
  if (r['incomingPrefix'] !== `${rsyncHost(host)}:${s['path'] as string}/.shadow-slots/incoming/`) bad('rsync.incomingPrefix is not the server ring');
  if (r['linkDest'] !== `--link-dest=${s['path'] as string}/0`) bad('rsync.linkDest is not the server ring');
  return raw as HelperSsh;
}

export type TargetFilesystem = 'NTFS' | 'ReFS' | 'FAT32' | 'FAT' | 'exFAT' | 'unknown';

/** What the target's filesystem means for the ring: refuse, warn, and which rsync options. */
export function checkTargetFilesystem(fs: TargetFilesystem, slots: number): { coarseTimes: boolean; warnings: string[] } {
  if ((fs === 'NTFS' || fs === 'unknown') && slots > NTFS_MAX_LINKS) {
    throw invalid(`A ring of ${slots} slots on NTFS would need ${slots} hard links per unchanged file; NTFS allows ${NTFS_MAX_LINKS}.`, `Use at most ${NTFS_MAX_LINKS} slots.`);
  }
  if (fs === 'FAT32' || fs === 'FAT' || fs === 'exFAT') {
    return {
      coarseTimes: true,
      warnings: [`The target is on ${fs}, which has no hard links: every slot is a full copy and takes the full size of the source. Use an NTFS disk for a ring that stores only changes.`],
    };
  }
  return { coarseTimes: false, warnings: [] };
}
