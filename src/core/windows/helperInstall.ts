import { parseRemoteTarget } from '../remoteTarget';
import { validateHelperProfile, type HelperProfile } from './helperProfile';
import { helperRsyncOptions } from './helperRsyncOptions';

/**
 * Whether the helper of this profile is installed and installs what the current settings plan.
 * 'rsync-changed': the settings are the same and only rsync's files (or where rsync is) differ;
 * the installed helper still runs its own installed copy, so it keeps running and the user is told,
 * but an update is never offered as if the settings had changed (issue 12 review, H1/M3).
 */
export type HelperInstallState = 'installed' | 'outdated' | 'missing' | 'rsync-changed';

/**
 * Compares the installed profile.json (hash, undefined when absent) with the one the current
 * settings plan: the helper runs only what was installed, so any difference means "outdated".
 */
export function installStateOf(installedSha256: string | undefined, plannedSha256: string): HelperInstallState {
  if (installedSha256 === undefined) return 'missing';
  return installedSha256 === plannedSha256 ? 'installed' : 'outdated';
}

/** What differs between the installed helper profile and the planned one, said to the user. */
export interface HelperChange {
  state: HelperInstallState;
  /** Settings that differ, e.g. `target: D:\A → E:\B`. */
  settings: string[];
  /** rsync: where it is (installed → planned) and each file whose SHA-256 differs. */
  rsync: { origin: { installed: string | undefined; planned: string }; files: Array<{ name: string; installed: string | undefined; planned: string | undefined }> };
}

const SHOWN: Array<[keyof HelperProfile, string]> = [['source', 'source'], ['target', 'target'], ['slots', 'slots'], ['name', 'profile name'], ['requester', 'account (SID)']];

/**
 * Compares an installed profile.json (parsed; undefined when none is installed) with the planned
 * one. Any settings difference makes it 'outdated'; a difference only in rsync's files or origin
 * makes it 'rsync-changed'. A profile of an older format is 'outdated' with no details.
 */
export function compareHelperProfiles(installed: unknown, planned: HelperProfile): HelperChange {
  const rsync: HelperChange['rsync'] = { origin: { installed: undefined, planned: planned.rsync.origin }, files: [] };
  if (installed === undefined) return { state: 'missing', settings: [], rsync };
  const old = installed as Partial<HelperProfile> & { rsync?: Partial<HelperProfile['rsync']> };
  if (typeof old !== 'object' || old === null || old.format !== planned.format || typeof old.rsync !== 'object') return { state: 'outdated', settings: ['the helper was installed by an older version'], rsync };
  const settings: string[] = [];
  for (const [key, label] of SHOWN) {
    if (JSON.stringify(old[key]) !== JSON.stringify(planned[key])) settings.push(`${label}: ${String(old[key])} → ${String(planned[key])}`);
  }
  if (JSON.stringify(old.rsync.options) !== JSON.stringify(planned.rsync.options)) settings.push('excludes or rsync options');
  rsync.origin.installed = old.rsync.origin;
  const before = new Map((old.rsync.files ?? []).map((f) => [f.name, f.sha256]));
  const after = new Map(planned.rsync.files.map((f) => [f.name, f.sha256]));
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    if (before.get(name) !== after.get(name)) rsync.files.push({ name, installed: before.get(name), planned: after.get(name) });
  }
  const rsyncChanged = rsync.files.length > 0 || old.rsync.origin !== planned.rsync.origin;
  // Everything else in the profile follows from the settings above (paths, flavor, warnings).
  const { rsync: oldRsync, ...oldRest } = old;
  const { rsync: newRsync, ...newRest } = planned;
  const restDiffers = JSON.stringify(oldRest) !== JSON.stringify(newRest)
    || JSON.stringify({ ...oldRsync, files: [], origin: '' }) !== JSON.stringify({ ...newRsync, files: [], origin: '' });
  if (settings.length === 0 && restDiffers) settings.push('other planned details (rsync flavor or paths)');
  const state = settings.length > 0 ? 'outdated' : rsyncChanged ? 'rsync-changed' : 'installed';
  return { state, settings, rsync };
}

/** An installed server ring's helper for this profile, and whether it backs up what the settings plan now. */
export interface InstalledServerHelper {
  profile: HelperProfile;
  /** 'outdated': its excludes or rsync options differ from what the settings plan now (`settings` says so). */
  state: 'installed' | 'outdated';
  settings: string[];
}

/**
 * The installed helper of a ring on a server for this profile (issue 15). Such a helper cannot be
 * planned again to compare (the plan needs the host key the user accepted at Set Up), so its
 * installed profile.json, validated as the helper validates it, is compared with the settings
 * instead. Undefined when there is none, it is invalid, or it backs up another profile name,
 * source, server ring or slot count. 'outdated' when it would run rsync with other options than
 * the settings plan now (excludes, extra arguments: review 15b finding 7), so a newly excluded
 * folder is never copied by the old helper without the user being told.
 */
export function installedServerHelper(installed: unknown, want: { name: string; source: string; target: string; slots: number; excludes: readonly string[]; rsyncArgs: readonly string[] }): InstalledServerHelper | undefined {
  let p: HelperProfile;
  try { p = validateHelperProfile(installed); } catch { return undefined; }
  const folder = (s: string) => s.replace(/\\+$/, '').toLowerCase();
  if (p.ssh === undefined || p.name !== want.name || p.slots !== want.slots || folder(p.source) !== folder(want.source)) return undefined;
  let t;
  try { t = parseRemoteTarget(want.target); } catch { return undefined; }
  if (!t || t.user !== p.ssh.user || t.host !== p.ssh.host || (t.port ?? 22) !== p.ssh.port || t.path !== p.ssh.path) return undefined;
  // A server's slots are POSIX hard links with whole-second times, as the planner plans them.
  const planned = helperRsyncOptions({ excludes: want.excludes, extraArgs: want.rsyncArgs, linkDestPath: `${t.path}/0`, coarseTimes: false });
  const same = JSON.stringify([p.rsync.options, p.rsync.linkDestAt, p.rsync.linkDest]) === JSON.stringify([planned.options, planned.linkDestAt, planned.linkDest]);
  return same ? { profile: p, state: 'installed', settings: [] } : { profile: p, state: 'outdated', settings: [optionChange(p.rsync.options, planned.options)] };
}

/** `excludes or rsync options`, naming the options added and dropped since Set Up (the order aside). */
function optionChange(installed: readonly string[], planned: readonly string[]): string {
  const added = planned.filter((o) => !installed.includes(o));
  const dropped = installed.filter((o) => !planned.includes(o));
  const parts = [...(added.length ? [`now ${added.join(' ')}`] : []), ...(dropped.length ? [`no longer ${dropped.join(' ')}`] : [])];
  return `excludes or rsync options${parts.length ? ` (${parts.join('; ')})` : ' (their order or repetition)'}`;
}
