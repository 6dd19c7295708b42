import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { invalid } from '../../core/errors';
import type { Profile } from '../../core/profile';
import { buildRsyncArgv } from '../../core/rsyncArgs';
import { META_DIR, INCOMING_DIR } from '../../core/layout';
import { joinWindowsArgs } from '../../core/windows/cmdline';
import { checkTargetFilesystem, type HelperProfile, type TargetFilesystem } from '../../core/windows/helperProfile';
import { checkWindowsPath, splitVolume, toRsyncPath, type RsyncFlavor } from '../../core/windows/paths';
import { buildTaskXml, encodeTaskXml } from './taskXml';
import type { TaskPrincipal, TaskSpec } from './taskSpec';

export type HelperAccount = 'user' | 'user-s4u' | 'system';
export const HELPER_ACCOUNTS: readonly HelperAccount[] = ['user', 'user-s4u', 'system'];

/** Everything the planner needs; all of it is data, gathered by the caller (UI or CLI). */
export interface HelperPlanInput {
  /** From validateProfile(…, 'win32'). */
  profile: Profile;
  account: HelperAccount;
  /** The SID of the user who may start the task (and whose task it is, unless SYSTEM). */
  userSid: string;
  rsync: { path: string; flavor: RsyncFlavor };
  targetFilesystem: TargetFilesystem;
  /** `%ProgramData%` and `%SystemRoot%` of the machine the helper is for. */
  programData: string;
  systemRoot: string;
  /** The constant helper script (assets/helper.ps1) and installer (assets/install.ps1). */
  helperScript: string;
  installerScript: string;
}

/** One file the installer copies into the admin-only folder and verifies by hash. */
export interface PlannedFile {
  name: string;
  bytes: Buffer;
  sha256: string;
}

/**
 * The install manifest (`install.json`): read by the elevated installer after it checked the
 * manifest's own hash, which travels on the elevated command line.
 */
export interface InstallManifest {
  format: 1;
  kind: 'shadow-slots-helper-install';
  profile: string;
  taskName: string;
  installRoot: string;
  installDir: string;
  linkDir: string;
  stateDir: string;
  cancelDir: string;
  /** Files copied from the staging folder into installDir, verified after copying. */
  files: Array<{ name: string; sha256: string }>;
  /** icacls argv arrays: after the folders exist (before copying), and after copying. */
  acl: { beforeCopy: string[][]; afterCopy: string[][] };
  register: string[];
  run: string[];
  unregister: string[];
}

export interface HelperPlan {
  taskName: string;
  taskXml: string;
  storedProfile: HelperProfile;
  /** Installed files (helper.ps1, profile.json, task.xml) and the staging-only ones. */
  files: PlannedFile[];
  manifest: InstallManifest;
  /** The staging folder's content: installed files + install.json + acl-commands.json + install.ps1. */
  staging: PlannedFile[];
  notes: string[];
}

const SID = /^S-1-[0-5](-\d{1,10}){1,14}$/;
const SYSTEM = '*S-1-5-18';
const ADMINS = '*S-1-5-32-544';
const USERS = '*S-1-5-32-545';
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

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
  if (!SID.test(input.userSid)) throw invalid(`${JSON.stringify(input.userSid)} is not a Windows SID.`, 'Give the SID shown by "whoami /user", e.g. S-1-5-21-…-1001.');
  if (/[. ]$/.test(profile.name) || RESERVED.test(profile.name)) {
    throw invalid(`The profile name ${JSON.stringify(profile.name)} cannot be a Windows folder name (it ends with a dot or space, or is a reserved device name).`, 'Rename the profile.');
  }
  if (profile.snapshot !== 'vss' && profile.snapshot !== 'auto') {
    throw invalid(`The elevated helper takes shadow copies, but this profile's snapshot method is "${profile.snapshot}".`, 'Set the snapshot method to "vss" or "auto", or back up without the helper.');
  }
  const source = checkWindowsPath(profile.source);
  const target = checkWindowsPath(profile.target);
  const rsyncExe = checkWindowsPath(input.rsync.path);
  const programData = checkWindowsPath(input.programData);
  const systemRoot = checkWindowsPath(input.systemRoot);
  const { volume, relative } = splitVolume(source);
  const fs = checkTargetFilesystem(input.targetFilesystem, profile.slots);
  const targetIsUnc = target.startsWith('\\\\');
  if (targetIsUnc && input.account === 'user-s4u') {
    throw invalid('An S4U task has no network credentials, so it cannot write to a network share.', 'Choose account "user" (runs while you are logged on) or "system" (the share must allow the computer account).');
  }
  if (targetIsUnc && input.account === 'system') notes.push('The task runs as SYSTEM: the share must grant write access to this computer\'s account (DOMAIN\\COMPUTER$).');
  notes.push(...fs.warnings);

  const installRoot = w.join(programData, 'Shadow Slots');
  const installDir = w.join(installRoot, profile.name);
  const linkDir = w.join(installDir, 'links');
  const stateDir = w.join(installDir, 'state');
  const cancelDir = w.join(installDir, 'cancel');
  const flavor = input.rsync.flavor;

  const targetRsync = toRsyncPath(target, flavor);
  const linkDestPath = `${targetRsync}/0`;
  const argv = buildRsyncArgv({
    source: '/placeholder-source', destination: '/placeholder-destination', linkDest: linkDestPath,
    excludes: profile.excludes, extraArgs: profile.rsyncArgs, windowsRsync: true, timePrecision: fs.coarseTimes ? 'coarse' : 'seconds', progress: true,
  });
  const linkDest = `--link-dest=${linkDestPath}`;
  const linkDestAt = argv.indexOf(linkDest);
  const dashDash = argv.lastIndexOf('--');
  const options = argv.slice(0, dashDash).filter((_, i) => i !== linkDestAt);
  const relativePosix = relative === '' ? '' : `${relative.replace(/\\/g, '/')}/`;

  const storedProfile: HelperProfile = {
    format: 1,
    kind: 'shadow-slots-helper',
    name: profile.name,
    source,
    target,
    slots: profile.slots,
    volume,
    installDir,
    linkDir,
    stateDir,
    cancelDir,
    rsync: {
      exe: rsyncExe,
      flavor,
      options,
      linkDestAt,
      linkDest,
      snapshotPrefix: `${toRsyncPath(linkDir, flavor)}/`,
      snapshotSuffix: `/${relativePosix}`,
      incomingPrefix: `${targetRsync}/${META_DIR}/${INCOMING_DIR}/`,
    },
    warnings: fs.warnings,
  };

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
      arguments: ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-WindowStyle', 'Hidden', '-File', w.join(installDir, 'helper.ps1')],
      workingDirectory: installDir,
    },
    // Started by the user on purpose, so it runs on battery; a first full copy can take long.
    settings: { runOnBattery: true, wakeToRun: false, catchUp: false, stopAfterHours: 72 },
    // SYSTEM and Administrators manage the task; the user may read and run it (schtasks /Run).
    securityDescriptor: `D:(A;;FA;;;SY)(A;;FA;;;BA)(A;;FRFX;;;${input.userSid})`,
  };
  const taskXml = buildTaskXml(spec);

  const file = (name: string, bytes: Buffer): PlannedFile => ({ name, bytes, sha256: sha256(bytes) });
  const files = [
    file('helper.ps1', Buffer.from(input.helperScript, 'utf8')),
    file('profile.json', Buffer.from(JSON.stringify(storedProfile, null, 2) + '\n', 'utf8')),
    file('task.xml', encodeTaskXml(taskXml)),
  ];

  const icacls = w.join(systemRoot, 'System32', 'icacls.exe');
  const schtasks = w.join(systemRoot, 'System32', 'schtasks.exe');
  const acl = {
    beforeCopy: [
      // Inheritance from ProgramData is cut: there, every user may create files and folders.
      [icacls, installRoot, '/inheritance:r', '/grant:r', `${SYSTEM}:(OI)(CI)F`, `${ADMINS}:(OI)(CI)F`, `${USERS}:(OI)(CI)RX`],
      // The links expose the whole shadowed volume: administrators only.
      [icacls, linkDir, '/inheritance:r', '/grant:r', `${SYSTEM}:(OI)(CI)F`, `${ADMINS}:(OI)(CI)F`],
      // Only a file named "cancel" is ever looked at here; its content is ignored.
      [icacls, cancelDir, '/grant', `*${input.userSid}:(OI)(CI)M`],
    ],
    afterCopy: [
      [icacls, installRoot, '/setowner', ADMINS, '/T', '/C'],
    ],
  };
  const manifest: InstallManifest = {
    format: 1,
    kind: 'shadow-slots-helper-install',
    profile: profile.name,
    taskName,
    installRoot,
    installDir,
    linkDir,
    stateDir,
    cancelDir,
    files: files.map((f) => ({ name: f.name, sha256: f.sha256 })),
    acl,
    register: [schtasks, '/Create', '/XML', w.join(installDir, 'task.xml'), '/TN', taskName, '/F'],
    run: [schtasks, '/Run', '/TN', taskName],
    unregister: [schtasks, '/Delete', '/TN', taskName, '/F'],
  };
  const staging = [
    ...files,
    file('install.json', Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8')),
    file('acl-commands.json', Buffer.from(JSON.stringify(acl, null, 2) + '\n', 'utf8')),
    file('install.ps1', Buffer.from(input.installerScript, 'utf8')),
  ];
  return { taskName, taskXml, storedProfile, files, manifest, staging, notes };
}

/**
 * The tiny constant script the unelevated side runs to raise the UAC prompt. The executable and
 * its (already quoted) argument string arrive as environment variables: data, never code, and
 * never parsed by cmd.exe. Exit code 1223 means the user declined the prompt.
 */
export const ELEVATION_LAUNCHER = [
  '$ErrorActionPreference = "Stop"',
  'try {',
  '  $p = Start-Process -FilePath $env:SHADOW_SLOTS_ELEVATE_FILE -ArgumentList $env:SHADOW_SLOTS_ELEVATE_ARGS -Verb RunAs -Wait -PassThru -WindowStyle Hidden',
  '  exit $p.ExitCode',
  '} catch {',
  '  $e = $_.Exception',
  '  while ($null -ne $e) { if ($e -is [System.ComponentModel.Win32Exception] -and $e.NativeErrorCode -eq 1223) { exit 1223 }; $e = $e.InnerException }',
  '  [Console]::Error.WriteLine($_.Exception.Message)',
  '  exit 1',
  '}',
].join('\r\n');

export const ELEVATION_DECLINED = 1223;

export interface ElevationCommand {
  command: string;
  argv: string[];
  env: Record<string, string>;
}

/**
 * The command (for platform/runner's run()) that asks for elevation and runs the installer from
 * the staging folder. `install.json`'s hash rides on the elevated command line, so a staging
 * folder changed after planning is refused by the installer.
 */
export function elevationCommand(systemRoot: string, stagingDir: string, manifestSha256: string, mode: 'install' | 'remove'): ElevationCommand {
  if (!/^[0-9a-f]{64}$/.test(manifestSha256)) throw invalid('The install manifest hash is not a SHA-256 hex digest.');
  const ps = powershellPath(checkWindowsPath(systemRoot));
  const staging = checkWindowsPath(stagingDir);
  const elevatedArgs = ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', path.win32.join(staging, 'install.ps1'),
    '-Plan', path.win32.join(staging, 'install.json'), '-PlanSha256', manifestSha256, '-Mode', mode];
  return {
    command: ps,
    argv: ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', Buffer.from(ELEVATION_LAUNCHER, 'utf16le').toString('base64')],
    env: { SHADOW_SLOTS_ELEVATE_FILE: ps, SHADOW_SLOTS_ELEVATE_ARGS: joinWindowsArgs(elevatedArgs) },
  };
}
