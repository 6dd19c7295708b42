/**
 * What the user is shown before the administrator prompt of Set Up / Update Elevated Helper, and
 * when only rsync's files changed (issue 12 review, H1, M2, M3). Pure (no vscode), unit-tested on
 * Linux; helperFeature.ts shows it.
 */
import type { HelperChange } from '../../core/windows/helperInstall';
import type { HelperPlan } from '../../platform/windows/helperPlan';

/** Where the effective `shadowSlots.target` comes from (vscode's inspect()). */
export type SettingOrigin = 'default' | 'user' | 'workspace' | 'workspace-folder';

/** The most specific scope that sets the value, as VS Code resolves it. */
export function settingOrigin(inspected: { globalValue?: unknown; workspaceValue?: unknown; workspaceFolderValue?: unknown } | undefined): SettingOrigin {
  if (inspected?.workspaceFolderValue !== undefined) return 'workspace-folder';
  if (inspected?.workspaceValue !== undefined) return 'workspace';
  if (inspected?.globalValue !== undefined) return 'user';
  return 'default';
}

export const INSTALL_CONFIRM = 'Install (administrator prompt follows)';

const short = (sha: string | undefined) => (sha === undefined ? 'none' : `${sha.slice(0, 16)}…`);

/**
 * The modal before the UAC prompt: what will run with administrator rights (the rsync files with
 * their origin and SHA-256, the helper script), as which account, and where it will write. A
 * target set by the workspace's own settings (a folder you opened, e.g. a cloned repository) is
 * said to come from there: the workspace chose where SYSTEM writes (review M2).
 */
export function installReview(plan: Pick<HelperPlan, 'storedProfile' | 'files' | 'taskXml'>, targetOrigin: SettingOrigin, update: boolean): { message: string; detail: string } {
  const p = plan.storedProfile;
  const runtime = plan.files.filter((f) => f.name.startsWith('rsync/usr/bin/'));
  const script = (name: string) => plan.files.find((f) => f.name === name)?.sha256;
  const account = /<UserId>S-1-5-18<\/UserId>/.test(plan.taskXml) ? 'SYSTEM' : 'your account';
  // Excludes can come from a workspace too: what the elevated rsync skips is part of what is approved.
  const excluded = p.rsync.options.filter((o) => o.startsWith('--exclude=')).map((o) => o.slice('--exclude='.length));
  const fromWorkspace = targetOrigin === 'workspace' || targetOrigin === 'workspace-folder';
  const lines = [
    `Runs as ${account} with administrator rights when you back up, and writes into ${p.target}.`,
    ...(fromWorkspace ? [`This target is set in this workspace's own settings (${targetOrigin === 'workspace' ? '.vscode/settings.json or the .code-workspace file' : 'the folder\'s .vscode/settings.json'}), not in your user settings: install only if you chose it.`] : []),
    `Backs up ${p.source} (${p.slots} slots), leaving out ${excluded.length === 0 ? 'nothing' : excluded.map((e) => JSON.stringify(e)).join(', ')}.`,
    // A ring on a server: the one host key it will trust, and the key pair Set Up makes (issue 15).
    ...(p.ssh ? [`Connects to ${p.ssh.user}@${p.ssh.host} port ${p.ssh.port} with the ssh copied beside rsync, trusting only the host key ${p.ssh.fingerprint}. Set Up makes a key pair for the task and shows the line to add to ~/.ssh/authorized_keys of ${p.ssh.user} there.`] : []),
    '',
    `rsync, read by the installer from ${p.rsync.origin} (only if administrators alone can change that folder):`,
    ...runtime.map((f) => `  ${f.name.slice('rsync/usr/bin/'.length)}  SHA-256 ${f.sha256}`),
    `helper.ps1  SHA-256 ${script('helper.ps1') ?? 'missing'}`,
    `native.cs  SHA-256 ${script('native.cs') ?? 'missing'}`,
  ];
  return { message: `${update ? 'Update' : 'Install'} the elevated helper for "${p.name}"?`, detail: lines.join('\n') };
}

/**
 * Said (not asked) when only rsync's files or location changed since the helper was set up: the
 * helper keeps running the copy it installed, and nothing is offered with one click (review H1/M3:
 * a changed rsync must never look like changed settings).
 */
export function rsyncChangedNotice(change: HelperChange): string {
  const files = change.rsync.files.map((f) => `${f.name.replace(/^rsync\/usr\/bin\//, '')} ${short(f.installed)} → ${short(f.planned)}`);
  const moved = change.rsync.origin.installed !== change.rsync.origin.planned ? ` rsync was installed from ${change.rsync.origin.installed ?? 'an unknown place'}, the settings now find it at ${change.rsync.origin.planned}.` : '';
  return `rsync at ${change.rsync.origin.planned} is not the one the elevated helper installed${files.length ? ` (${files.join('; ')})` : ''}.${moved} The helper keeps using the copy it installed. If you updated rsync yourself, run "Shadow Slots: Set Up Elevated Helper" to install the new files; if you did not, someone else may have changed them.`;
}
