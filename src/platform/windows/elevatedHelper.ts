import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { ShadowSlotsError } from '../../core/errors';
import type { Profile } from '../../core/profile';
import type { ProgressEvent } from '../../core/progress';
import { looksRemote, type RemoteTarget } from '../../core/remoteTarget';
import { describeTaskResult, INSTALL_EXIT_MESSAGES } from '../../core/windows/codes';
import { compareHelperProfiles, installedServerHelper, type HelperChange } from '../../core/windows/helperInstall';
import { CANCEL_REQUEST_FILE, type HelperProfile } from '../../core/windows/helperProfile';
import type { HelperState } from '../../core/windows/helperState';
import type { RsyncFlavor } from '../../core/windows/paths';
import { locateWindowsRsync } from '../../core/windows/rsyncLocate';
import { run } from '../runner';
import { ELEVATION_DECLINED, elevationCommand } from './elevation';
import { readHelperAsset } from './helperAssets';
import { acceptHostKey } from './helperSsh';
import { helperTaskName, planHelper, powershellPath, type HelperAccount, type HelperPlan } from './helperPlan';
import { writeHelperStaging } from './helperStaging';
import { currentUser, fileExists, programData, systemRoot, windowsFileSystem } from './probe';
import { collectRsyncRuntime, windowsRsyncVersion } from './rsyncRuntime';
import { followHelperState, HelperDidNotStart } from './stateFollower';

/**
 * Set Up / Remove Elevated Helper and Back Up Now through it, for the extension to wire into
 * commands. Uses only the platform modules (no vscode here): the caller shows prompts,
 * notifications and progress.
 */
export interface HelperSetupOptions {
  profile: Profile;
  account: HelperAccount;
  /** For the user accounts: the user confirmed USER_ACCOUNT_WARNING. */
  userAccountAccepted?: boolean | undefined;
  rsyncFlavor?: RsyncFlavor | undefined;
  /** For a ring on a server: the ssh-keyscan line the user accepted (HelperPlanInput.hostKey). */
  hostKey?: string | undefined;
  signal?: AbortSignal;
}

export type HelperSetupOutcome =
  | { kind: 'done'; taskName: string; notes: string[] }
  | { kind: 'declined'; message: string }
  | { kind: 'failed'; exitCode: number; message: string };

/** Plans on this machine; throws invalid-input / preflight errors before anything is written. */
export async function planForThisMachine(o: HelperSetupOptions): Promise<HelperPlan> {
  if (process.platform !== 'win32') throw new ShadowSlotsError('preflight', 'The elevated helper exists only on Windows.');
  const user = await currentUser(o.signal);
  const rsync = locateWindowsRsync({
    setting: o.profile.rsyncPath, flavor: o.rsyncFlavor, pathEnv: process.env['PATH'], programFiles: process.env['ProgramFiles'],
    programFilesX86: process.env['ProgramFiles(x86)'], programData: programData(), systemDrive: process.env['SystemDrive'], exists: fileExists,
  });
  const remote = looksRemote(o.profile.target);
  const files = await collectRsyncRuntime(rsync.path, { ssh: remote });
  const version = remote ? await windowsRsyncVersion(rsync.path, o.signal) : undefined;
  return planHelper({
    profile: o.profile, account: o.account, userAccountAccepted: o.userAccountAccepted, userSid: user.sid, rsync: { ...rsync, files, version }, hostKey: o.hostKey,
    targetFilesystem: remote ? 'unknown' : await windowsFileSystem(o.profile.target, o.signal),
    programData: programData(), systemRoot: systemRoot(), helperScript: readHelperAsset('helper.ps1'), installerScript: readHelperAsset('install.ps1'),
    nativeSource: readHelperAsset('native.cs'), localNames: [hostname(), hostname().split('.')[0]!],
  });
}

/** One UAC prompt; installs (or with mode 'remove', removes) the helper of one profile. */
export async function runElevatedInstaller(plan: HelperPlan, mode: 'install' | 'remove', signal?: AbortSignal): Promise<HelperSetupOutcome> {
  const staging = await mkdtemp(path.join(tmpdir(), 'shadow-slots-helper-'));
  try {
    await writeHelperStaging(staging, plan);
    const staged = (name: string) => plan.staging.find((f) => f.name === name)!.sha256;
    const cmd = elevationCommand(systemRoot(), staging, { installer: staged('install.ps1'), manifest: staged('install.json') }, mode);
    const result = await run(cmd.command, cmd.argv, { env: cmd.env, okExitCodes: [0, ELEVATION_DECLINED, 1, 10, 11, 12, 13, 14, 15], ...(signal ? { signal } : {}) });
    if (result.exitCode === 0) {
      // A ring on a server: the installer leaves the task's new public key in staging.
      const publicKey = plan.storedProfile.ssh === undefined ? '' : (await readFile(path.join(staging, 'public-key.txt'), 'utf8').catch(() => '')).trim();
      const keyNote = publicKey === '' ? [] : [`Add this line to ~/.ssh/authorized_keys of ${plan.storedProfile.ssh!.user} on ${plan.storedProfile.ssh!.host} (ideally prefixed with "restrict,"): ${publicKey}`];
      return { kind: 'done', taskName: plan.taskName, notes: [...plan.notes, ...keyNote] };
    }
    if (result.exitCode === ELEVATION_DECLINED) return { kind: 'declined', message: INSTALL_EXIT_MESSAGES[ELEVATION_DECLINED]! };
    // The installer's own words (UAC cannot redirect its output, so it leaves them in the staging
    // folder): they name the folder, the processes or the icacls commands.
    const said = (await readFile(path.join(staging, 'installer-message.txt'), 'utf8').catch(() => result.stderr)).trim().slice(-3000);
    const known = INSTALL_EXIT_MESSAGES[result.exitCode];
    return { kind: 'failed', exitCode: result.exitCode, message: known === undefined ? `The installer failed (exit ${result.exitCode}): ${said}` : said === '' ? known : `${known}\n${said}` };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export async function setUpElevatedHelper(o: HelperSetupOptions): Promise<HelperSetupOutcome> {
  return runElevatedInstaller(await planForThisMachine(o), 'install', o.signal);
}

export async function removeElevatedHelper(o: HelperSetupOptions): Promise<HelperSetupOutcome> {
  return runElevatedInstaller(await planForThisMachine(o), 'remove', o.signal);
}

/**
 * Back Up Now on Windows: starts the task and follows its progress file until the run ends.
 * Cancelling appends to `cancel\request` (the one file the user may write in the helper's folder)
 * and waits for the helper to clean up.
 */
export async function backUpThroughHelper(plan: Pick<HelperPlan, 'taskName' | 'storedProfile'>, onProgress: (e: ProgressEvent) => void, signal?: AbortSignal): Promise<HelperState> {
  const schtasks = path.win32.join(systemRoot(), 'System32', 'schtasks.exe');
  const notBefore = new Date();
  await run(schtasks, ['/Run', '/TN', plan.taskName]);
  const stateFile = path.win32.join(plan.storedProfile.stateDir, 'progress.json');
  const stop = new AbortController();
  const onAbort = () => {
    // The requester may write this one file and nothing else in the helper's folder.
    void appendFile(path.win32.join(plan.storedProfile.cancelDir, CANCEL_REQUEST_FILE), 'cancel\n').catch(() => undefined);
    // Keep following for a while so the shadow release is reported; then give up.
    setTimeout(() => stop.abort(new ShadowSlotsError('cancelled', 'The backup was cancelled.')), 120_000).unref();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await followHelperState(stateFile, { notBefore, onProgress, signal: stop.signal });
  } catch (error) {
    if (error instanceof HelperDidNotStart) {
      const last = await lastTaskResult(plan.taskName).catch(() => undefined);
      throw new ShadowSlotsError('process', `The elevated helper did not start. ${last === undefined ? '' : describeTaskResult(last)}`.trim(), { hint: 'Run "Set Up Elevated Helper" again if the problem persists.' });
    }
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** LastTaskResult of a task (Get-ScheduledTaskInfo); the task path travels as data. */
export async function lastTaskResult(taskName: string): Promise<number> {
  const folder = taskName.slice(0, taskName.lastIndexOf('\\') + 1);
  const name = taskName.slice(taskName.lastIndexOf('\\') + 1);
  const result = await run(powershellPath(systemRoot()), ['-NoProfile', '-NonInteractive', '-Command', '(Get-ScheduledTaskInfo -TaskPath $env:SS_TASK_PATH -TaskName $env:SS_TASK_NAME).LastTaskResult'], {
    env: { SS_TASK_PATH: folder, SS_TASK_NAME: name },
  });
  return Number(result.stdout.trim());
}

/**
 * The installed helper of `profile` when it is a ring on a server for this profile name, source,
 * ring and slot count (installedServerHelper): Back Up Now runs it when its state is 'installed',
 * and tells the user to set it up again when it is 'outdated' (other excludes or rsync options).
 * Undefined when there is none.
 */
export async function installedServerHelperOf(profile: Profile): Promise<(Pick<HelperPlan, 'taskName' | 'storedProfile'> & Pick<HelperChange, 'settings'> & { state: 'installed' | 'outdated' }) | undefined> {
  const file = path.win32.join(programData(), 'Shadow Slots', profile.name, 'profile.json');
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { return undefined; }
  const stored = installedServerHelper(parsed, profile);
  return stored === undefined ? undefined : { taskName: helperTaskName(profile.name), storedProfile: stored.profile, state: stored.state, settings: stored.settings };
}

/** Why the host-key line would be refused (acceptHostKey), or undefined: for the Set Up input box. */
export function hostKeyProblem(line: string, target: RemoteTarget): string | undefined {
  try {
    acceptHostKey(line, target);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Whether the helper the plan describes is installed, and what differs: its profile.json in the
 * admin-only folder (readable by the requester) compared with the one the current settings plan.
 */
export async function installedHelperState(plan: Pick<HelperPlan, 'storedProfile'>): Promise<HelperChange> {
  const installed = await readFile(path.win32.join(plan.storedProfile.installDir, 'profile.json'), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  let parsed: unknown = undefined;
  if (installed !== undefined) {
    try { parsed = JSON.parse(installed) as HelperProfile; } catch { parsed = {}; }
  }
  return compareHelperProfiles(parsed, plan.storedProfile);
}
