/**
 * What Windows' numeric results mean for the user. The same tables are in the elevated helper
 * script (assets/helper.ps1, which cannot import TypeScript); test/unit/windows/codes.test.ts
 * checks that both agree.
 */

/** Return values of `Win32_ShadowCopy.Create` (documented 0–13). */
export const VSS_CREATE_MESSAGES: Readonly<Record<number, string>> = {
  0: 'The shadow copy was created.',
  1: 'Access denied: creating a shadow copy needs administrator rights. Run Set Up Elevated Helper again.',
  2: 'Windows rejected the shadow copy request as invalid (Win32_ShadowCopy code 2). Please report this.',
  3: 'The source drive was not found. Check that the source folder is on a local drive that is connected.',
  4: 'This drive does not support shadow copies (network, FAT/exFAT or removable drives do not). Use snapshot method "none" for it.',
  5: 'Windows does not support this kind of shadow copy here (unsupported context). Client-accessible shadow copies need Windows 10 or later.',
  6: 'The shadow storage area is too small. Enlarge it from an administrator prompt: vssadmin resize shadowstorage /for=C: /on=C: /maxsize=10%',
  7: 'The drive is in use by another shadow copy operation. Try again in a few minutes.',
  8: 'The drive already has the maximum number of shadow copies (64). Delete old restore points or shadow copies (System Protection settings), then try again.',
  9: 'Another shadow copy operation is in progress (another backup program or System Restore). Try again when it has finished.',
  10: 'A shadow copy provider refused the request (vetoed). See the Application event log for VSS errors.',
  11: 'The shadow copy provider is not registered. Check that the "Volume Shadow Copy" and "Microsoft Software Shadow Copy provider" services can start.',
  12: 'The shadow copy provider failed. See the Application event log for VSS errors, and check that the "Volume Shadow Copy" service can start.',
  13: 'Creating the shadow copy failed for an unknown reason (Win32_ShadowCopy code 13). See the Application event log for VSS errors.',
};

/** Kopia and this tool retry Create once after a short wait on "another operation in progress". */
export const VSS_RETRY_CODE = 9;

/**
 * `LastTaskResult` values of Task Scheduler (HRESULTs and SCHED_S_* codes). Anything else is the
 * helper's own exit code (see HELPER_EXIT_MESSAGES).
 */
export const TASK_RESULT_MESSAGES: Readonly<Record<number, string>> = {
  0x0: 'The last backup finished successfully.',
  0x41300: 'The helper task is ready.',
  0x41301: 'The helper task is running now.',
  0x41303: 'The helper task has not run yet.',
  0x41306: 'The helper task was stopped before it finished (terminated by the user or the time limit).',
  0x41325: 'The helper task is queued and will start soon.',
  0x8004131f: 'A backup by the helper task is already running; this request was ignored.',
  0x80041324: 'The helper task did not start because a condition was not met (for example the computer is on battery).',
  0x4131c: 'The task\'s account lacks the "Log on as a batch job" right. Choose another account in Set Up Elevated Helper, or ask an administrator to grant the right.',
};

/** Exit codes of the helper script, so a LastTaskResult can be explained without its state file. */
export const HELPER_EXIT_MESSAGES: Readonly<Record<number, string>> = {
  0: 'The backup finished successfully.',
  1: 'The backup failed; see the helper log in the profile\'s state folder.',
  2: 'The stored profile is invalid or was changed; run Set Up Elevated Helper again.',
  3: 'The backup copied most but not all files; the ring was not rotated.',
  4: 'Another backup of this ring is running.',
  5: 'The shadow copy could not be created.',
  6: 'The helper must run in 64-bit PowerShell with administrator rights.',
  7: 'The backup was cancelled; the ring was not rotated.',
};

/** Exit codes of the elevated installer (assets/install.ps1); 1223 is the declined UAC prompt. */
export const INSTALL_EXIT_MESSAGES: Readonly<Record<number, string>> = {
  0: 'The elevated helper is installed.',
  10: 'The installer refused its plan (install.ps1 or install.json changed after they were made, or they name folders, files or a task other than planned). Run Set Up Elevated Helper again.',
  11: 'Copying the helper failed or a copied file did not match its planned SHA-256; nothing was installed.',
  12: 'The permissions of the install folders could not be set, or did not read back as planned; nothing was installed.',
  13: 'Registering the task (schtasks) failed; nothing was installed.',
  14: 'The folder %ProgramData%\\Shadow Slots (or the profile\'s folder in it) was made by another account, or was created by someone else while the installer ran, and could not be set aside. The installer names the processes that hold it; delete it as administrator and try again.',
  15: 'rsync\'s folder (or a folder above it) can be changed by accounts other than administrators, so rsync was not installed from it. The installer shows the icacls commands that lock it down; or install MSYS2 or cwRsync under Program Files.',
  1223: 'The administrator prompt was declined; nothing was installed. Backups of this profile run without a shadow copy (a live copy, marked as such in each slot) until you set up the helper.',
};

/** Message for a `Win32_ShadowCopy.Create` return value. */
export function describeVssCreate(code: number): string {
  return VSS_CREATE_MESSAGES[code] ?? `Creating the shadow copy failed with unexpected code ${code}.`;
}

/** Message for a task's `LastTaskResult` (a signed or unsigned 32-bit number). */
export function describeTaskResult(result: number): string {
  const u = result >>> 0;
  return TASK_RESULT_MESSAGES[u] ?? HELPER_EXIT_MESSAGES[u] ?? `The helper task ended with code 0x${u.toString(16).toUpperCase()}.`;
}
