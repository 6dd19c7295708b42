import * as path from 'node:path';
import { invalid } from '../../core/errors';
import { formatRemoteTarget, parseRemoteTarget } from '../../core/remoteTarget';
import type { Profile } from '../../core/profile';
import { META_DIR, INCOMING_DIR } from '../../core/layout';
import { adminsOnly, expectedRules, RIGHTS, SID_ADMINISTRATORS, toSddl, type AceSpec } from '../../core/windows/acl';
import { rsyncArgProblem } from '../../core/windows/cmdline';
import { CANCEL_REQUEST_FILE, checkTargetFilesystem, HELPER_EXTRA_FLAGS, helperOptionProblem, rsyncHost, RSYNC_EXE_PATH, USER_SID, type HelperProfile, type TargetFilesystem } from '../../core/windows/helperProfile';
import { helperRsyncOptions } from '../../core/windows/helperRsyncOptions';
import { checkWindowsPath, splitVolume, toRsyncPath, type RsyncFlavor } from '../../core/windows/paths';
import { plannedFile, type PlannedFile } from './plannedFile';
import { helperKeygenArguments, planHelperSsh, type HelperSshPlan } from './helperSsh';
import { formatRsyncVersion, HELPER_SSH_MIN_RSYNC, parseRsyncVersion, versionAtLeast } from '../../core/rsyncVersion';
import { runtimeFiles, SSH_PACKAGE_HINT, SSH_PROGRAMS, type RsyncRuntimeFile } from './rsyncRuntime';
import { buildTaskXml, encodeTaskXml } from './taskXml';
import type { TaskPrincipal, TaskSpec } from './taskSpec';

/**
 * Which account runs the helper task. `system` is the default: the task then runs in SYSTEM's
 * own environment, which no user can change. With `user`/`user-s4u` the elevated PowerShell
 * starts in the user's environment and profile, so any program running as that user can act
 * with administrator rights through it: only on an explicit choice (USER_ACCOUNT_WARNING).
 */
export type HelperAccount = 'system' | 'user' | 'user-s4u';
export const HELPER_ACCOUNTS: readonly HelperAccount[] = ['system', 'user', 'user-s4u'];
export const DEFAULT_HELPER_ACCOUNT: HelperAccount = 'system';

/** What SYSTEM cannot reach, said wherever the account is chosen. */
export const SYSTEM_ACCOUNT_LIMITS = 'The task runs as SYSTEM: it cannot see your mapped drive letters and has none of your network credentials, so a network share as target must be given as \\\\server\\share\\… and must grant write access to this computer\'s account (DOMAIN\\COMPUTER$).';

/** The warning a user account needs before it is accepted (wizard, CLI, docs/windows.md). */
export const USER_ACCOUNT_WARNING = 'Running the elevated helper as your own account starts it with administrator rights in your environment: any program running as you (a malicious npm package, a browser exploit) can then make it load its code with administrator rights, for example through environment variables or modules in your Documents folder. Choose it only on a machine where you are the only user and already an administrator, when the backup needs your network credentials.';

export { sha256, type PlannedFile } from './plannedFile';
export type { RsyncRuntimeFile } from './rsyncRuntime';

/** Everything the planner needs; all of it is data, gathered by the caller (UI or CLI). */
export interface HelperPlanInput {
  /** From validateProfile(…, 'win32'). */
  profile: Profile;
  account: HelperAccount;
  /** For 'user' and 'user-s4u': the user was shown USER_ACCOUNT_WARNING and chose the account anyway. */
  userAccountAccepted?: boolean | undefined;
  /** The SID of the user the helper is for: who may start it, whose source it reads, who may read its slots. */
  userSid: string;
  /**
   * The rsync to install: `path` is rsync.exe's Windows path on the machine the helper is for
   * (the elevated installer reads it and its DLLs from there, after checking that only
   * administrators can change that location), `files` the bytes of rsync.exe and the DLLs it
   * loads from its folder as read now (their SHA-256 must match what the installer reads).
   * `version` is its `rsync --version` output: a ring on a server needs rsync 3.4.0 or later.
   */
  rsync: { path: string; flavor: RsyncFlavor; files: RsyncRuntimeFile[]; version?: string | undefined };
  /**
   * For a ring on a server: the host-key line the user accepted unelevated (one line of
   * `ssh-keyscan` output), written as the helper's known_hosts. rsync.files must then hold
   * ssh.exe and ssh-keygen.exe from rsync's folder (collectRsyncRuntime(…, { ssh: true })).
   */
  hostKey?: string | undefined;
  /** This computer's names (host name, NetBIOS name, FQDN): a share on it is refused as target. */
  localNames?: readonly string[] | undefined;
  targetFilesystem: TargetFilesystem;
  /** `%ProgramData%` and `%SystemRoot%` as the unelevated side sees them; the installer checks both against its own. */
  programData: string;
  systemRoot: string;
  /** The constant helper script (assets/helper.ps1), installer (assets/install.ps1) and their native code (assets/native.cs). */
  helperScript: string;
  installerScript: string;
  nativeSource: string;
}

/** A folder the installer creates (or repairs) with exactly this owner and protected DACL, then reads back. */
export interface PlannedFolder {
  path: string;
  sddl: string;
  /** expectedRules() of the DACL: what the installer must read back. */
  rules: string[];
}

/**
 * The install manifest (`install.json`): read by the elevated installer after it checked the
 * manifest's own hash, which travels on the elevated command line.
 */
export interface InstallManifest {
  format: 3;
  kind: 'shadow-slots-helper-install';
  profile: string;
  taskName: string;
  installRoot: string;
  installDir: string;
  /** The root first, then the install folder and its subfolders, in creation order. */
  folders: PlannedFolder[];
  /** Copied from the staging folder into installDir (same relative names), verified after copying. */
  files: Array<{ name: string; sha256: string }>;
  /**
   * rsync.exe first, then its DLLs: read by the installer from `from` (all in one folder) only if
   * that file, its folder and every folder above it can be changed by administrators alone, and
   * only if the bytes have this SHA-256. The staged copy under rsync/ only documents them.
   */
  rsync: Array<{ name: string; from: string; sha256: string }>;
  /** Created empty: the requester may write it (and nothing else there) to cancel a run. */
  cancelRequest: string;
  /**
   * Only for a ring on a server: ssh-keygen (the installed copy) and its arguments, run by the
   * installer in `<installDir>\\ssh` after the files are in place; it builds the same list itself.
   */
  keygen?: { exe: string; arguments: string[]; workingDirectory: string };
  /** The schtasks commands the installer builds itself (it refuses a plan whose copy here differs). */
  register: string[];
  run: string[];
  unregister: string[];
}

export interface HelperPlan {
  taskName: string;
  taskXml: string;
  storedProfile: HelperProfile;
  /** Installed files (helper.ps1, native.cs, profile.json, task.xml, the rsync copy). */
  files: PlannedFile[];
  manifest: InstallManifest;
  /** The staging folder's content: installed files + install.json + acl.json + install.ps1. */
  staging: PlannedFile[];
  notes: string[];
}

const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
/** rsync options that follow links out of the tree; the helper reads with administrator rights. */
const LINK_FOLLOWING = /^(--copy-links|--copy-unsafe-links|--copy-dirlinks|--keep-dirlinks|-[A-Za-z]*[LkK][A-Za-z]*)$/;

/** Windows PowerShell 5.1, 64-bit: a 32-bit PowerShell cannot create shadow copies. */
export function powershellPath(systemRoot: string): string {
  return path.win32.join(systemRoot, 'System32', 'WindowsPowerShell', 'v1.0', 'powershell.exe');
}

export function helperTaskName(profileName: string): string {
  return `\\Shadow Slots\\helper-${profileName}`;
}

/** Plans everything Set Up Elevated Helper installs; pure, so it is tested on any OS. */
export function planHelper(input: HelperPlanInput): HelperPlan {
  const { profile } = input;
  const w = path.win32;
  const notes: string[] = [];
  if (!HELPER_ACCOUNTS.includes(input.account)) throw invalid(`Unknown account ${JSON.stringify(input.account)}.`, `Use one of: ${HELPER_ACCOUNTS.join(', ')}.`);
  if (input.account !== 'system' && input.userAccountAccepted !== true) {
    throw invalid(`The account "${input.account}" must be chosen explicitly. ${USER_ACCOUNT_WARNING}`, 'Use the default account "system", or confirm the choice (CLI: --account user --accept-user-account-risk).');
  }
  if (!USER_SID.test(input.userSid)) {
    throw invalid(`${JSON.stringify(input.userSid)} is not the SID of a user account.`, 'Give the SID "whoami /user" shows for the account that backs up (S-1-5-21-…-1001); a group such as Users or Everyone cannot be the requester.');
  }
  if (/[. ]$/.test(profile.name) || RESERVED.test(profile.name)) {
    throw invalid(`The profile name ${JSON.stringify(profile.name)} cannot be a Windows folder name (it ends with a dot or space, or is a reserved device name).`, 'Rename the profile.');
  }
  if (profile.snapshot !== 'vss' && profile.snapshot !== 'auto') {
    throw invalid(`The elevated helper takes shadow copies, but this profile's snapshot method is "${profile.snapshot}".`, 'Set the snapshot method to "vss" or "auto", or back up without the helper.');
  }
  const source = checkWindowsPath(profile.source);
  const remote = parseRemoteTarget(profile.target);
  // Windows has neither btrfs nor ZFS: the helper's slots are hard-linked folders (auto picks that).
  if (profile.targetMode === 'cow') {
    throw invalid('The elevated helper keeps hard-linked slots: copy-on-write slots need a btrfs or ZFS target, which Windows does not have.',
      'Set the target mode (shadowSlots.targetMode, --target-mode) to "auto" or "links".');
  }
  const target = remote === null ? checkWindowsPath(profile.target) : formatRemoteTarget(remote);
  const programData = checkWindowsPath(input.programData);
  const systemRoot = checkWindowsPath(input.systemRoot);
  const { volume, relative } = splitVolume(source);
  if (relative === '') {
    throw invalid(`The elevated helper does not back up a whole drive (${volume}): a drive holds other users' files and the system's registry hives, and the helper's slots are readable by you.`,
      'Back up a folder of your own (for example your user folder or a project folder); back up a whole drive with a tool an administrator runs.');
  }
  if (remote === null) checkHelperTarget(target, input.localNames ?? []);
  const rsyncOrigin = checkRsyncOrigin(input.rsync.path);
  // A server's file system is not this computer's to probe; its slots are POSIX hard links.
  const fs = remote === null ? checkTargetFilesystem(input.targetFilesystem, profile.slots) : { coarseTimes: false, warnings: [] };
  const targetIsUnc = target.startsWith('\\\\');
  if (targetIsUnc && input.account === 'user-s4u') {
    throw invalid('An S4U task has no network credentials, so it cannot write to a network share.', 'Choose account "user" (runs while you are logged on) or "system" (the share must allow the computer account).');
  }
  if (input.account !== 'system') notes.push(USER_ACCOUNT_WARNING);
  // SYSTEM's missing network credentials matter for a share, not for the helper's own ssh key.
  else if (remote === null) notes.push(SYSTEM_ACCOUNT_LIMITS);
  notes.push(...fs.warnings);
  if (profile.filterFile !== undefined) notes.push(`The elevated helper does not read the filter file ${profile.filterFile} (a file you can change, read with administrator rights): its rules do not apply to shadow-copy backups; use excludes.`);
  checkRsyncValues(profile);

  const installRoot = w.join(programData, 'Shadow Slots');
  const installDir = w.join(installRoot, profile.name);
  const linkDir = w.join(installDir, 'links');
  const stateDir = w.join(installDir, 'state');
  const cancelDir = w.join(installDir, 'cancel');
  const tmpDir = w.join(installDir, 'tmp');
  const rsyncDir = w.join(installDir, 'rsync');
  const flavor = input.rsync.flavor;

  const runtime = runtimeFiles(input.rsync.files, flavor);
  let ssh: HelperSshPlan | undefined;
  if (remote !== null) {
    const have = new Set(input.rsync.files.map((f) => f.name.toLowerCase()));
    const missing = SSH_PROGRAMS.filter((p) => !have.has(p));
    if (missing.length > 0) throw invalid(`${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not beside rsync.exe (${input.rsync.path}): the elevated helper reaches ${remote.host} only with the ssh of rsync's own runtime.`, SSH_PACKAGE_HINT);
    checkServerRsyncFloor(input.rsync.version, input.rsync.path);
    ssh = planHelperSsh({ target: remote, hostKey: input.hostKey, installDir, flavor, profileName: profile.name });
    notes.push(...ssh.notes);
  }
  // On a server, rsync names the ring host:/path (the user is in the helper's ssh_config) and
  // --link-dest is the server's own path.
  const targetRsync = remote === null ? toRsyncPath(target, flavor) : remote.path;
  const targetDestination = remote === null ? targetRsync : `${rsyncHost(remote.host)}:${remote.path}`;
  const { options, linkDestAt, linkDest } = helperRsyncOptions({ excludes: profile.excludes, extraArgs: profile.rsyncArgs, linkDestPath: `${targetRsync}/0`, coarseTimes: fs.coarseTimes });
  const relativePosix = `${relative.replace(/\\/g, '/')}/`;
  const requesterRead: AceSpec = { sid: input.userSid, rights: RIGHTS.readExecute, scope: 'tree' };

  const storedProfile: HelperProfile = {
    format: 3,
    kind: 'shadow-slots-helper',
    name: profile.name,
    requester: input.userSid,
    source,
    target,
    slots: profile.slots,
    volume,
    installDir,
    linkDir,
    stateDir,
    cancelDir,
    tmpDir,
    slotSddl: toSddl({ owner: SID_ADMINISTRATORS, aces: [...adminsOnly(), requesterRead] }),
    rsync: {
      exe: w.join(installDir, ...RSYNC_EXE_PATH.split('/')),
      origin: rsyncOrigin,
      flavor,
      files: runtime.map((f) => ({ name: f.name, sha256: f.sha256 })),
      options,
      linkDestAt,
      linkDest,
      snapshotPrefix: `${toRsyncPath(linkDir, flavor)}/`,
      snapshotSuffix: `/${relativePosix}`,
      incomingPrefix: `${targetDestination}/${META_DIR}/${INCOMING_DIR}/`,
      excludeFromPrefix: `${toRsyncPath(tmpDir, flavor)}/`,
    },
    warnings: fs.warnings,
    ...(ssh ? { ssh: ssh.stored } : {}),
  };
  for (const option of options) {
    const problem = helperOptionProblem(option);
    if (problem !== undefined) {
      throw invalid(`The rsync option ${JSON.stringify(option)} ${problem}.`, `Extra options the helper accepts: ${HELPER_EXTRA_FLAGS.join(' ')} and --bwlimit= --max-size= --min-size= --timeout= --checksum-choice= with a plain value.`);
    }
  }
  for (const value of [...options, ...(ssh?.stored.rsyncTransport ?? []), linkDest, storedProfile.rsync.snapshotPrefix, storedProfile.rsync.snapshotSuffix, storedProfile.rsync.incomingPrefix, storedProfile.rsync.excludeFromPrefix]) {
    const problem = rsyncArgProblem(value);
    if (problem !== undefined) throw invalid(`The rsync argument ${JSON.stringify(value)} ${problem}; the elevated helper refuses it.`, 'Rename the folder or change the value.');
  }

  const taskName = helperTaskName(profile.name);
  const principal: TaskPrincipal = input.account === 'system' ? { kind: 'system' }
    : { kind: input.account === 'user-s4u' ? 's4u' : 'interactive', userId: input.userSid };
  const spec: TaskSpec = {
    path: taskName,
    description: `Shadow Slots elevated helper for profile "${profile.name}": backs up ${source} to ${target} from a Volume Shadow Copy. Started on demand by the Shadow Slots extension.`,
    author: 'Shadow Slots',
    principal,
    runLevel: 'HighestAvailable',
    triggers: [],
    action: {
      command: powershellPath(systemRoot),
      arguments: helperTaskArguments(w.join(installDir, 'helper.ps1')),
      workingDirectory: installDir,
    },
    // Started by the user on purpose, so it runs on battery; a first full copy can take long.
    settings: { runOnBattery: true, wakeToRun: false, catchUp: false, stopAfterHours: 72 },
    // Owned by Administrators; SYSTEM and Administrators manage it; the user may read and run it.
    securityDescriptor: `O:BAD:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FRFX;;;${input.userSid})`,
  };
  const taskXml = buildTaskXml(spec);

  const file = plannedFile;
  const copied = [
    file('helper.ps1', Buffer.from(input.helperScript, 'utf8')),
    file('native.cs', Buffer.from(input.nativeSource, 'utf8')),
    file('profile.json', Buffer.from(JSON.stringify(storedProfile, null, 2) + '\n', 'utf8')),
    file('task.xml', encodeTaskXml(taskXml)),
    ...(ssh?.files ?? []),
    ...runtime.filter((f) => !f.name.startsWith('rsync/usr/bin/')),
  ];
  const fromOrigin = runtime.filter((f) => f.name.startsWith('rsync/usr/bin/'));
  const files = [...copied, ...fromOrigin];

  const folder = (p: string, aces: AceSpec[]): PlannedFolder => {
    const acl = { owner: SID_ADMINISTRATORS, aces } as const;
    return { path: p, sddl: toSddl(acl), rules: expectedRules(acl) };
  };
  const folders = [
    // ProgramData lets every user create folders; nothing is inherited from it.
    folder(installRoot, adminsOnly()),
    folder(installDir, [...adminsOnly(), requesterRead]),
    // The links expose the whole shadowed volume: administrators only.
    folder(linkDir, adminsOnly()),
    folder(stateDir, [...adminsOnly(), { sid: input.userSid, rights: RIGHTS.read, scope: 'tree' }]),
    // Write access to the files in it (only "request" is ever there), none to the folder itself.
    folder(cancelDir, [...adminsOnly(), { sid: input.userSid, rights: RIGHTS.cancelAppend, scope: 'files-below' }]),
    folder(tmpDir, adminsOnly()),
    folder(rsyncDir, adminsOnly()),
    // The task's private key, known_hosts and ssh_config: administrators and SYSTEM only.
    ...(ssh ? [folder(w.join(installDir, 'ssh'), adminsOnly())] : []),
  ];
  const system32 = w.join(systemRoot, 'System32');
  const schtasks = w.join(system32, 'schtasks.exe');
  const rsyncDirOrigin = w.dirname(rsyncOrigin);
  const manifest: InstallManifest = {
    format: 3,
    kind: 'shadow-slots-helper-install',
    profile: profile.name,
    taskName,
    installRoot,
    installDir,
    folders,
    files: copied.map((f) => ({ name: f.name, sha256: f.sha256 })),
    rsync: fromOrigin.map((f) => ({ name: f.name, from: f.name === RSYNC_EXE_PATH ? rsyncOrigin : w.join(rsyncDirOrigin, f.name.slice('rsync/usr/bin/'.length)), sha256: f.sha256 })),
    cancelRequest: w.join(cancelDir, CANCEL_REQUEST_FILE),
    ...(ssh ? { keygen: { exe: w.join(rsyncDir, 'usr', 'bin', 'ssh-keygen.exe'), arguments: helperKeygenArguments(profile.name), workingDirectory: w.join(installDir, 'ssh') } } : {}),
    register: [schtasks, '/Create', '/XML', w.join(installDir, 'task.xml'), '/TN', taskName, '/F'],
    run: [schtasks, '/Run', '/TN', taskName],
    unregister: [schtasks, '/Delete', '/TN', taskName, '/F'],
  };
  const staging = [
    ...files,
    file('install.json', Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8')),
    file('acl.json', Buffer.from(JSON.stringify(folders, null, 2) + '\n', 'utf8')),
    file('install.ps1', Buffer.from(input.installerScript, 'utf8')),
  ];
  return { taskName, taskXml, storedProfile, files, manifest, staging, notes };
}

/**
 * The helper task's PowerShell arguments. install.ps1 builds the same list (Test-TaskXml) and
 * refuses a task.xml whose action differs, so a planner fed a changed %SystemRoot% or paths
 * cannot register anything else.
 */
export function helperTaskArguments(helperScript: string): string[] {
  return ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-WindowStyle', 'Hidden', '-File', helperScript];
}

/**
 * The target must be a folder of the requester's (the helper checks ownership when it runs:
 * review M2); what can be refused from the path alone is refused here: a drive's root, an
 * administrative share, and a share on this computer (a way around the local checks).
 */
function checkHelperTarget(target: string, localNames: readonly string[]): void {
  if (/^[A-Za-z]:\\$/.test(target)) {
    throw invalid(`The elevated helper does not write into a drive's root (${target}): the folder must be yours, and a drive's root belongs to Windows.`, `Create a folder on that drive (for example ${target}Backups) and choose it as the target.`);
  }
  const unc = /^\\\\([^\\]+)\\([^\\]+)/.exec(target);
  if (!unc) return;
  const server = unc[1]!.toLowerCase();
  const share = unc[2]!;
  if (/^([A-Za-z]|ADMIN|IPC|PRINT)\$$/i.test(share)) {
    throw invalid(`The target ${target} is an administrative share.`, 'Give a share made for backups on another computer, or the folder\'s local path.');
  }
  const local = ['localhost', '.', '::1', '0:0:0:0:0:0:0:1', ...localNames.map((n) => n.toLowerCase())];
  if (local.includes(server) || /^127\./.test(server) || /^\[?::1\]?$/.test(server) || /^\[?[0:]+1\]?$/.test(server) || server.endsWith('.localhost')) {
    throw invalid(`The target ${target} names this computer: the helper would reach its own disk around the checks of a local path.`, 'Give the folder\'s local path instead (for example D:\\Backups).');
  }
}

/** rsync.exe's path on the Windows machine: a local drive (the installer checks who can change it). */
function checkRsyncOrigin(origin: string): string {
  const p = checkWindowsPath(origin);
  if (!/^[A-Za-z]:\\.+\\[^\\]+\.exe$/i.test(p)) {
    throw invalid(`rsync at ${origin} is not on a local drive: the elevated installer copies rsync only from a folder on this computer that only administrators can change.`, 'Install MSYS2 or cwRsync on this computer (for example under C:\\Program Files) and point the rsync setting there.');
  }
  return p;
}

/**
 * The icacls commands (run as administrator) that let only Administrators and SYSTEM change a
 * folder and everything in it, users keeping read access: what the installer tells the user when
 * rsync's folder fails its check (exit 15). Mirrored by Get-LockDownFix in assets/install.ps1.
 */
export function rsyncLocationFix(folder: string): string {
  return [
    `  icacls "${folder}" /reset /T /C /Q`,
    `  icacls "${folder}" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F *S-1-5-32-545:(OI)(CI)RX`,
    `  icacls "${folder}" /setowner *S-1-5-32-544 /T /C /Q`,
  ].join('\r\n');
}

/** Each exclude and extra argument on its own, so the message names the one to fix. */
function checkRsyncValues(profile: Profile): void {
  profile.excludes.forEach((pattern, i) => {
    const problem = rsyncArgProblem(pattern);
    if (problem !== undefined) {
      throw invalid(`Exclude pattern #${i + 1} ${JSON.stringify(pattern)} ${problem}. Cygwin's rsync would split it into separate arguments, run with administrator rights.`, 'Remove the double quote from the pattern (match it with ? instead).');
    }
  });
  for (const arg of profile.rsyncArgs) {
    const problem = rsyncArgProblem(arg);
    if (problem !== undefined) throw invalid(`The rsync option ${JSON.stringify(arg)} ${problem}; the elevated helper refuses it.`, 'Remove it from the extra rsync arguments.');
    if (LINK_FOLLOWING.test(arg)) throw invalid(`The rsync option ${JSON.stringify(arg)} follows links out of the backed-up folder, which the elevated helper must never do.`, 'Remove it from the extra rsync arguments.');
  }
}


/**
 * Review H2: for a ring on a server, rsync.exe runs as SYSTEM and speaks rsync's protocol with a
 * peer the requesting user picks, so it must have the fixes of rsync 3.4.0 (CVE-2024-12084, a heap
 * overflow a server can trigger; CVE-2024-12085, memory disclosure). helper.ps1 checks the
 * installed copy again before it connects.
 */
function checkServerRsyncFloor(versionText: string | undefined, exe: string): void {
  const version = versionText === undefined ? null : parseRsyncVersion(versionText);
  const floor = formatRsyncVersion(HELPER_SSH_MIN_RSYNC);
  const update = `Update rsync (MSYS2: pacman -Syu rsync; Cygwin: setup-x86_64.exe; cwRsync: a current release) to ${floor} or later, then run Set Up again.`;
  if (version === null) throw invalid(`The version of ${exe} is unknown ("rsync --version" printed no version); a ring on a server needs rsync ${floor} or later.`, `${update} Off Windows, give it with --rsync-version.`);
  if (!versionAtLeast(version, HELPER_SSH_MIN_RSYNC)) {
    throw invalid(`${exe} is rsync ${formatRsyncVersion(version)}. For a ring on a server the elevated helper runs rsync as SYSTEM against a server you choose, and rsync before ${floor} has flaws a server can exploit (CVE-2024-12084, CVE-2024-12085).`, update);
  }
}
