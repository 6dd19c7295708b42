/**
 * Which way Back Up Now goes on this machine: the engine (every platform), or on Windows with a
 * shadow-copy method the elevated helper task. Pure (no vscode, no Windows calls), so the decision
 * is unit-tested on Linux; src/ui/windows/helperFeature.ts acts on it.
 */

import type { HelperInstallState } from '../../core/windows/helperInstall';

export { installStateOf, type HelperInstallState } from '../../core/windows/helperInstall';

export interface BackupRouteInput {
  platform: NodeJS.Platform;
  /** The shadowSlots.snapshot setting as written (validated later by the engine). */
  snapshot: string;
  /** Asked only on Windows with vss/auto; undefined when it was not (or could not be) checked. */
  helper: HelperInstallState | undefined;
  /** The user declined to set up (or update) the helper of this profile before. */
  declined: boolean;
  /** The target is a ring on a server over SSH. Absent: not. */
  remote?: boolean;
  /**
   * For a server ring, its installed helper (installedServerHelper): 'installed' backs up exactly
   * these settings; 'outdated' was set up with other excludes or rsync options. Absent: none for
   * this profile name, source, ring and slot count. Back Up Now never sets one up or updates it
   * itself: Set Up asks for the server's host key and makes a new key pair the server must be given.
   */
  remoteHelper?: 'installed' | 'outdated' | undefined;
}

export type BackupRoute =
  /** The engine process runs the backup, exactly as on other platforms. */
  | { kind: 'engine' }
  /** `schtasks /Run` the helper task and follow its state file. */
  | { kind: 'helper' }
  /** Ask once whether to set up (or update) the helper; see routeAfterOffer. */
  | { kind: 'offer-setup'; why: 'first-time' | 'outdated' }
  /**
   * A server ring's helper was set up with other excludes or rsync options (review 15b finding 7):
   * the user is told to run Set Up again and chooses a live copy or no backup now; see
   * serverOutdatedText and routeAfterServerNotice.
   */
  | { kind: 'server-outdated' }
  /**
   * The engine without a snapshot: a live copy, marked as such in the slot. `remote`: a server ring
   * with no helper installed for these settings (or one the user chose not to set up again); Back
   * Up Now does not set one up itself (Set Up asks for the server's host key, which is the user's
   * to check), the warning names the command.
   */
  | { kind: 'live-copy'; why: string; remote?: true };

const SHADOW_METHODS = new Set(['vss', 'auto']);

/** Needs the helper's install state only when this returns true (saves Windows probes otherwise). */
export function helperMatters(platform: NodeJS.Platform, snapshot: string): boolean {
  return platform === 'win32' && SHADOW_METHODS.has(snapshot);
}

export function chooseBackupRoute(i: BackupRouteInput): BackupRoute {
  if (!helperMatters(i.platform, i.snapshot)) return { kind: 'engine' };
  if (i.remote) {
    if (i.remoteHelper === 'installed') return { kind: 'helper' };
    if (i.remoteHelper === 'outdated') return i.declined ? { kind: 'live-copy', why: SERVER_OUTDATED_WHY, remote: true } : { kind: 'server-outdated' };
    return { kind: 'live-copy', why: 'no elevated helper is set up for this ring on a server', remote: true };
  }
  // Only rsync's bytes changed: the installed helper still runs its own copy (the caller says so).
  if (i.helper === 'installed' || i.helper === 'rsync-changed') return { kind: 'helper' };
  if (i.helper === undefined) return { kind: 'live-copy', why: 'the elevated helper\'s state could not be checked' };
  if (i.declined) {
    return { kind: 'live-copy', why: i.helper === 'outdated' ? 'the elevated helper was set up for different settings and was not updated' : 'the elevated helper is not set up' };
  }
  return { kind: 'offer-setup', why: i.helper === 'outdated' ? 'outdated' : 'first-time' };
}

const SERVER_OUTDATED_WHY = 'the elevated helper of this ring on a server was set up with different excludes or rsync options and was not set up again';

/**
 * What is asked when a server ring's helper backs up other excludes or rsync options than the
 * settings now: running it would copy what was planned at Set Up (a newly excluded folder too).
 * `changes` names what differs (installedServerHelper).
 */
export function serverOutdatedText(changes: readonly string[]): { message: string; detail: string } {
  return {
    message: 'The elevated helper of this ring on a server was set up with different excludes or rsync options. Run Set Up again?',
    detail: `${changes.length > 0 ? `Changed since it was set up: ${changes.join('; ')}.\n\n` : ''}The helper backs up what was planned when it was set up, so it is not run with the old options. "Shadow Slots: Set Up Elevated Helper" asks for the server's host key and makes a new key pair, whose public key must be added to the server's authorized_keys before the next backup; nothing is backed up now. Without it, this backup is a live copy, marked as such.`,
  };
}

/** The answers to serverOutdatedText: run Set Up (no backup now), a live copy, or Escape. */
export type ServerNoticeAnswer = 'set-up' | 'live-copy' | 'dismissed';

export function routeAfterServerNotice(answer: ServerNoticeAnswer): Extract<BackupRoute, { kind: 'live-copy' }> | { kind: 'cancel' } {
  // Set Up needs the host key and a new key on the server first: this backup does not run.
  return answer === 'live-copy' ? { kind: 'live-copy', why: SERVER_OUTDATED_WHY, remote: true } : { kind: 'cancel' };
}

/** What the offer led to: the helper was set up, the user said no (or declined UAC), or it failed. */
export type OfferAnswer = 'set-up' | 'declined' | 'failed' | 'dismissed';

export function routeAfterOffer(answer: OfferAnswer): Extract<BackupRoute, { kind: 'helper' | 'live-copy' }> | { kind: 'cancel' } {
  switch (answer) {
    case 'set-up': return { kind: 'helper' };
    case 'declined': return { kind: 'live-copy', why: 'you chose not to set up the elevated helper' };
    case 'failed': return { kind: 'live-copy', why: 'setting up the elevated helper failed' };
    // Escape on the question: nothing was decided, so nothing is backed up and nothing remembered.
    case 'dismissed': return { kind: 'cancel' };
  }
}

/**
 * The snapshot method the engine gets for a live-copy fallback: `vss` cannot run unelevated and
 * would fail, so it becomes `auto`, which on Windows copies live and records why in the manifest.
 */
export function fallbackSnapshot(snapshot: string): string {
  return snapshot === 'vss' ? 'auto' : snapshot;
}

/** The explanation shown with the fallback (and in the log). */
export function liveCopyExplanation(why: string, remote = false): string {
  const what = remote
    ? 'Run "Shadow Slots: Set Up Elevated Helper" (it asks for the server\'s host key, one administrator prompt) for shadow-copy backups to this server; set the snapshot method to "none" to back up there without this warning.'
    : 'Run "Shadow Slots: Set Up Elevated Helper" (one administrator prompt) for shadow-copy backups.';
  return `Backing up without a shadow copy because ${why}: files that change during the copy may be copied in an inconsistent state, and the slot is marked "live copy (no snapshot)". ${what}`;
}

/**
 * The question asked the first time (or when the settings no longer match the installed helper);
 * `changes` names what differs (compareHelperProfiles), so an update is never a blank request.
 */
export function setupOfferText(why: 'first-time' | 'outdated', changes: readonly string[] = []): { message: string; detail: string } {
  return why === 'first-time'
    ? {
      message: 'Back up from a shadow copy? This needs the Shadow Slots elevated helper.',
      detail: 'Set Up Elevated Helper asks once for administrator rights (one UAC prompt) and installs a scheduled task that takes a Volume Shadow Copy for each backup of this folder. No password is stored. Without it, backups are live copies, marked as such.',
    }
    : {
      message: 'The elevated helper was set up for different backup settings. Update it?',
      detail: `${changes.length > 0 ? `Changed since it was set up: ${changes.join('; ')}.\n\n` : ''}The helper backs up what was planned when it was set up (source, target, slots, excludes). Updating shows what will be installed, then asks once for administrator rights. Without it, this backup is a live copy, marked as such.`,
    };
}

/** What Set Up / Remove Elevated Helper say off Windows (the commands exist everywhere). */
export function helperUnavailableMessage(platform: NodeJS.Platform): string {
  const here = platform === 'linux' ? 'On Linux, snapshot method "auto" uses a btrfs snapshot when the folder is on btrfs, else a live copy.'
    : platform === 'darwin' ? 'On macOS, backups are live copies for now (snapshot method "none").'
      : 'On this system, backups use the engine\'s own snapshot methods.';
  return `The elevated helper is only needed and available on Windows, where it takes Volume Shadow Copies with administrator rights. ${here}`;
}
