/**
 * rsync's version, read from `rsync --version` output, and the floors it is held to. One parser
 * for the engine's rsync, a server's rsync and the Windows helper's; Get-RsyncVersion and
 * Test-VersionBelow in assets/helper.ps1 mirror it (golden pairs), so its rules stay exactly theirs.
 */

/** A version as three numbers (a missing patch level is 0). */
export type RsyncVersion = readonly [number, number, number];

/**
 * The engine's rsync and a server's: --info=progress2 and the "Number of created files" stat,
 * which the engine reads, came with rsync 3.1.0.
 */
export const MIN_RSYNC_VERSION: RsyncVersion = [3, 1, 0];

/**
 * The local rsync of a Windows helper that backs up to a server (issue 15, review H2): it runs as
 * SYSTEM and speaks rsync's protocol with a peer the requesting user chose. 3.4.0 fixed
 * CVE-2024-12084 (a heap overflow in the checksum handling a server can trigger) and
 * CVE-2024-12085 (an info leak).
 */
export const HELPER_SSH_MIN_RSYNC: RsyncVersion = [3, 4, 0];

/**
 * The first `rsync version x.y[.z]` in `text` (the first line of `rsync --version`, or a server
 * script's `rsync …` line), or null: openrsync and anything else that does not say so has none.
 * Each field is read as at most four digits, so no text can make a number beyond 9999.
 */
export function parseRsyncVersion(text: string): RsyncVersion | null {
  const m = /rsync\s+version\s+v?([0-9]{1,4})\.([0-9]{1,4})(?:\.([0-9]{1,4}))?/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

/** Whether `version` is `floor` or newer. */
export function versionAtLeast(version: RsyncVersion, floor: RsyncVersion): boolean {
  for (let i = 0; i < 3; i++) if (version[i] !== floor[i]) return version[i]! > floor[i]!;
  return true;
}

/** `x.y.z`, as messages and slot records name it. */
export function formatRsyncVersion(version: RsyncVersion): string {
  return version.join('.');
}
