/** Whether the helper of this profile is installed and installs what the current settings plan. */
export type HelperInstallState = 'installed' | 'outdated' | 'missing';

/**
 * Compares the installed profile.json (hash, undefined when absent) with the one the current
 * settings plan: the helper runs only what was installed, so any difference means "outdated".
 */
export function installStateOf(installedSha256: string | undefined, plannedSha256: string): HelperInstallState {
  if (installedSha256 === undefined) return 'missing';
  return installedSha256 === plannedSha256 ? 'installed' : 'outdated';
}
