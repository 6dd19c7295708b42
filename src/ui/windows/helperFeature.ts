import * as vscode from 'vscode';
import { describeError } from '../../core/errors';
import { signalFromToken } from '../../core/cancellation';
import { type Profile, type ProfileInput, validateProfile } from '../../core/profile';
import type { HelperPlan } from '../../platform/windows/helperPlan';
import { ACCOUNT_ITEMS, rememberedChoice, USER_ACCOUNT_CONFIRM, userAccountQuestion, type AccountChoice } from './accountChoice';
import type { BackupResult } from '../../rpc/protocol';
import type { BackupRunner } from '../backup/backupController';
import type { BackupProgress } from '../engineClient/engineClient';
import type { FeatureModule, Services } from '../services';
import { profileFromSettings, readSettings, sourceFolder } from '../settings';
import {
  chooseBackupRoute, fallbackSnapshot, helperMatters, helperUnavailableMessage, liveCopyExplanation, routeAfterOffer, routeAfterServerNotice, serverOutdatedText, setupOfferText,
  type BackupRoute, type HelperInstallState, type OfferAnswer, type ServerNoticeAnswer,
} from './backupRoute';
import { HelperCommands, type HelperCommandOutcome } from './helperCommandIds';
import { looksRemote, parseRemoteTarget } from '../../core/remoteTarget';
import { helperOutcome, helperProgress } from './helperResult';
import { INSTALL_CONFIRM, installReview, rsyncChangedNotice, settingOrigin } from './installReview';
import { hostKeyPrompt } from './hostKeyPrompt';
import type { HelperChange } from '../../core/windows/helperInstall';

const DECLINED_KEY = (profile: string) => `shadowSlots.helperDeclined.${profile}`;
const ACCOUNT_KEY = (profile: string) => `shadowSlots.helperAccount.${profile}`;
const ACCEPTED_KEY = (profile: string) => `shadowSlots.helperUserAccountAccepted.${profile}`;

function remembered(services: Services, profile: Profile): AccountChoice {
  return rememberedChoice(services.context.globalState.get(ACCOUNT_KEY(profile.name)), services.context.globalState.get(ACCEPTED_KEY(profile.name)));
}

/** The Windows-only module is loaded on Windows only, so other platforms never evaluate its imports. */
type WindowsHelper = typeof import('../../platform/windows/elevatedHelper');
const windowsHelper = (): Promise<WindowsHelper> => import('../../platform/windows/elevatedHelper');

function workspaceHelperProfile(): { profile: Profile } | { message: string } {
  const folder = sourceFolder();
  if (!folder) return { message: 'Open the folder you want to back up first.' };
  const settings = readSettings(folder.uri);
  if (settings.target === '') return { message: 'Configure a backup target first (Shadow Slots: Configure Backup Target).' };
  try {
    return { profile: validateProfile(profileFromSettings(settings, folder.uri.fsPath), 'win32').profile };
  } catch (error) {
    return { message: describeError(error) };
  }
}

/**
 * Set Up / Remove Elevated Helper (every platform, so the command list is the same everywhere;
 * off Windows they explain why there is nothing to do) and, on Windows, Back Up Now through the
 * helper task when the snapshot method is `vss` or `auto` (see backupRoute.ts for the decision).
 */
export const helperFeature: FeatureModule = {
  id: 'windows-helper',
  activate: (services) => [
    vscode.commands.registerCommand(HelperCommands.setUp, () => setUpCommand(services)),
    vscode.commands.registerCommand(HelperCommands.remove, () => removeCommand(services)),
    ...(process.platform === 'win32' ? [services.backup.useRunner(helperRunner(services))] : []),
  ],
};

/** What both commands check first: Windows, and a workspace profile; else the outcome to return. */
function commandProfile(title: string): { profile: Profile } | HelperCommandOutcome {
  if (process.platform !== 'win32') {
    const message = helperUnavailableMessage(process.platform);
    void vscode.window.showInformationMessage(message);
    return { kind: 'unavailable', message };
  }
  const p = workspaceHelperProfile();
  if ('message' in p) {
    void vscode.window.showWarningMessage(`${title}: ${p.message}`);
    return { kind: 'not-configured', message: p.message };
  }
  return p;
}

async function setUpCommand(services: Services): Promise<HelperCommandOutcome> {
  const p = commandProfile('Set Up Elevated Helper');
  if (!('profile' in p)) return p;
  const choice = await pickAccount(services, p.profile);
  if (choice === undefined) return { kind: 'cancelled' };
  return setUp(services, p.profile, choice);
}

async function pickAccount(services: Services, profile: Profile): Promise<AccountChoice | undefined> {
  const current = remembered(services, profile).account;
  const picked = await vscode.window.showQuickPick(ACCOUNT_ITEMS.map((i) => ({ ...i, picked: i.id === current })), {
    title: 'Set Up Elevated Helper', placeHolder: `Which account runs the shadow-copy backups of ${profile.source}?`,
  });
  if (picked === undefined) return undefined;
  if (picked.id === 'system') return { account: 'system', userAccountAccepted: false };
  // The user accounts give programs running as this user a way to administrator rights: only on
  // an explicit confirmation of what that means.
  const { message, detail } = userAccountQuestion(picked.id);
  const answer = await vscode.window.showWarningMessage(message, { modal: true, detail }, USER_ACCOUNT_CONFIRM);
  return answer === USER_ACCOUNT_CONFIRM ? { account: picked.id, userAccountAccepted: true } : undefined;
}

/** Where the effective target setting comes from: a workspace's own settings must be named (review M2). */
function targetOrigin() {
  const folder = sourceFolder();
  return settingOrigin(vscode.workspace.getConfiguration('shadowSlots', folder?.uri).inspect('target'));
}

/**
 * Shows what will be installed (review M3), then one UAC prompt; the outcome is told to the user
 * and returned. From Back Up Now, a declined prompt is explained by the live-copy warning that
 * follows, so it is not told twice.
 */
async function setUp(services: Services, profile: Profile, choice: AccountChoice, fromBackup = false, update = false): Promise<HelperCommandOutcome> {
  const helper = await windowsHelper();
  try {
    // A ring on a server: the helper trusts exactly one host key, which the user gives here.
    let hostKey: string | undefined;
    const server = parseRemoteTarget(profile.target);
    if (server !== null) {
      hostKey = (await vscode.window.showInputBox(hostKeyPrompt(server, (line) => helper.hostKeyProblem(line, server))))?.trim();
      if (hostKey === undefined) return { kind: 'cancelled' };
    }
    const plan = await helper.planForThisMachine({ profile, ...choice, hostKey });
    const review = installReview(plan, targetOrigin(), update);
    const confirmed = await vscode.window.showWarningMessage(review.message, { modal: true, detail: review.detail }, INSTALL_CONFIRM);
    if (confirmed !== INSTALL_CONFIRM) return { kind: 'cancelled' };
    const outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Setting up the elevated helper: confirm the administrator prompt…' },
      () => helper.runElevatedInstaller(plan, 'install'),
    );
    if (outcome.kind === 'done') {
      await services.context.globalState.update(DECLINED_KEY(profile.name), undefined);
      await services.context.globalState.update(ACCOUNT_KEY(profile.name), choice.account);
      await services.context.globalState.update(ACCEPTED_KEY(profile.name), choice.userAccountAccepted);
      services.log.info(`Elevated helper set up: task ${outcome.taskName} (${choice.account})`);
      for (const n of outcome.notes) services.log.warn(n);
      void vscode.window.showInformationMessage(`The elevated helper is set up: Back Up Now now backs up ${profile.source} from a shadow copy.${outcome.notes.length ? ` ${outcome.notes.join(' ')}` : ''}`);
      return { kind: 'done', taskName: outcome.taskName };
    }
    if (outcome.kind === 'declined') {
      await services.context.globalState.update(DECLINED_KEY(profile.name), true);
      const message = `${outcome.message} ${liveCopyExplanation('the administrator prompt was declined')}`;
      services.log.info(message);
      if (!fromBackup) void vscode.window.showWarningMessage(message);
      return { kind: 'declined', message };
    }
    services.log.error(`Set Up Elevated Helper failed (exit ${outcome.exitCode}): ${outcome.message}`);
    void vscode.window.showErrorMessage(`Set Up Elevated Helper failed: ${outcome.message}`, 'Open Log').then((a) => { if (a) services.log.show(false); });
    return { kind: 'failed', message: outcome.message };
  } catch (error) {
    const message = describeError(error);
    services.log.error(`Set Up Elevated Helper failed: ${message}`);
    void vscode.window.showErrorMessage(`Set Up Elevated Helper failed: ${message}`);
    return { kind: 'failed', message };
  }
}

async function removeCommand(services: Services): Promise<HelperCommandOutcome> {
  const p = commandProfile('Remove Elevated Helper');
  if (!('profile' in p)) return p;
  const remove = 'Remove Elevated Helper';
  const answer = await vscode.window.showWarningMessage(`Remove the elevated helper of "${p.profile.name}"?`, {
    modal: true, detail: 'Its scheduled task and installed files are removed (one administrator prompt). The ring and its slots stay as they are; later backups are live copies until you set it up again.',
  }, remove);
  if (answer !== remove) return { kind: 'cancelled' };
  const helper = await windowsHelper();
  const choice = remembered(services, p.profile);
  try {
    const outcome = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Removing the elevated helper: confirm the administrator prompt…' },
      () => helper.removeElevatedHelper({ profile: p.profile, ...choice }));
    if (outcome.kind === 'done') {
      services.log.info(`Elevated helper removed: ${outcome.taskName}`);
      void vscode.window.showInformationMessage('The elevated helper was removed. Backups are live copies (no snapshot) until you set it up again.');
      return { kind: 'done', taskName: outcome.taskName };
    }
    const message = outcome.message;
    void vscode.window.showWarningMessage(`The elevated helper was not removed: ${message}`);
    return outcome.kind === 'declined' ? { kind: 'declined', message } : { kind: 'failed', message };
  } catch (error) {
    const message = describeError(error);
    void vscode.window.showErrorMessage(`Remove Elevated Helper failed: ${message}`);
    return { kind: 'failed', message };
  }
}

/** Back Up Now on Windows: decides the route (backupRoute.ts), asks at most once, then runs it. */
function helperRunner(services: Services): BackupRunner {
  return async (input: ProfileInput, onProgress: (p: BackupProgress) => void, token: vscode.CancellationToken): Promise<BackupResult | null> => {
    const engine = (p: ProfileInput) => services.engine.backup(p, onProgress, token);
    const snapshot = typeof input.snapshot === 'string' ? input.snapshot : 'auto';
    if (!helperMatters(process.platform, snapshot)) return engine(input);
    let profile: Profile;
    try {
      profile = validateProfile(input, 'win32').profile;
    } catch {
      return engine(input); // the engine reports the validation message, as on every platform
    }
    const helper = await windowsHelper();
    const signal = signalFromToken(token);
    const choice = remembered(services, profile);
    const remote = looksRemote(profile.target);
    let plan: HelperPlan | undefined;
    let state: HelperInstallState | undefined;
    let change: HelperChange | undefined;
    // A server ring cannot be planned here (the plan needs the accepted host key): the installed
    // helper runs it when it was set up for exactly these settings (issue 15), and the user is
    // told to set it up again when its excludes or rsync options differ (review 15b finding 7).
    let serverHelper: Awaited<ReturnType<WindowsHelper['installedServerHelperOf']>>;
    if (remote) {
      serverHelper = await helper.installedServerHelperOf(profile).catch((error: unknown) => {
        services.log.warn(`Could not check the elevated helper: ${describeError(error)}`);
        return undefined;
      });
    } else {
      try {
        plan = await helper.planForThisMachine({ profile, ...choice, signal });
        change = await helper.installedHelperState(plan);
        state = change.state;
      } catch (error) {
        services.log.warn(`Could not check the elevated helper: ${describeError(error)}`);
      }
    }
    const initial = chooseBackupRoute({
      platform: process.platform, snapshot, helper: state, declined: services.context.globalState.get<boolean>(DECLINED_KEY(profile.name)) === true, remote, remoteHelper: serverHelper?.state,
    });
    if (state === 'rsync-changed' && change !== undefined) {
      const notice = rsyncChangedNotice(change);
      services.log.warn(notice);
      void vscode.window.showWarningMessage(notice, 'Set Up Elevated Helper').then((a) => { if (a) void vscode.commands.executeCommand(HelperCommands.setUp); });
    }
    let route: Exclude<BackupRoute, { kind: 'offer-setup' | 'server-outdated' }> | { kind: 'cancel' };
    if (initial.kind === 'offer-setup') route = routeAfterOffer(await offerSetUp(services, profile, choice, initial.why, change?.settings ?? []));
    else if (initial.kind === 'server-outdated') route = routeAfterServerNotice(await serverOutdatedNotice(services, profile, serverHelper?.settings ?? []));
    else route = initial;
    switch (route.kind) {
      case 'cancel': return null;
      case 'engine': return engine(input);
      case 'live-copy': {
        const why = liveCopyExplanation(route.why, route.remote === true);
        services.log.warn(why);
        void vscode.window.showWarningMessage(why, 'Set Up Elevated Helper').then((a) => { if (a) void vscode.commands.executeCommand(HelperCommands.setUp); });
        return engine({ ...input, snapshot: fallbackSnapshot(snapshot) });
      }
      case 'helper': {
        const ran = serverHelper ?? plan ?? await helper.planForThisMachine({ profile, ...choice, signal });
        services.log.info(`Back Up Now through the elevated helper task ${ran.taskName}`);
        const final = await helper.backUpThroughHelper(ran, (e) => onProgress(helperProgress(e)), signal);
        const listing = await services.engine.list(profile.target).catch(() => undefined);
        const outcome = helperOutcome(final, listing?.slots ?? []);
        if (outcome.kind === 'cancelled') return null;
        if (outcome.kind === 'failed') throw new Error(outcome.message);
        return outcome.result;
      }
    }
  };
}

async function offerSetUp(services: Services, profile: Profile, choice: AccountChoice, why: 'first-time' | 'outdated', changes: readonly string[]): Promise<OfferAnswer> {
  const { message, detail } = setupOfferText(why, changes);
  const setUpLabel = why === 'first-time' ? 'Set Up Elevated Helper' : 'Update Elevated Helper';
  const without = 'Back Up Without Snapshot';
  const answer = await vscode.window.showInformationMessage(message, { modal: true, detail }, setUpLabel, without);
  if (answer === undefined) return 'dismissed';
  if (answer === without) {
    await services.context.globalState.update(DECLINED_KEY(profile.name), true);
    return 'declined';
  }
  const outcome = await setUp(services, profile, choice, true, why === 'outdated');
  if (outcome.kind === 'cancelled') return 'dismissed';
  return outcome.kind === 'done' ? 'set-up' : outcome.kind === 'declined' ? 'declined' : 'failed';
}

/**
 * A server ring's helper backs up other excludes or rsync options (review 15b finding 7): never run
 * it; Set Up (started from here, no backup now), a live copy (remembered as for a local ring), or
 * Escape (nothing runs).
 */
async function serverOutdatedNotice(services: Services, profile: Profile, changes: readonly string[]): Promise<ServerNoticeAnswer> {
  const { message, detail } = serverOutdatedText(changes);
  const setUpLabel = 'Set Up Elevated Helper';
  const without = 'Back Up Without Snapshot';
  const answer = await vscode.window.showWarningMessage(message, { modal: true, detail }, setUpLabel, without);
  if (answer === without) {
    await services.context.globalState.update(DECLINED_KEY(profile.name), true);
    return 'live-copy';
  }
  if (answer === setUpLabel) {
    void vscode.commands.executeCommand(HelperCommands.setUp);
    return 'set-up';
  }
  return 'dismissed';
}
