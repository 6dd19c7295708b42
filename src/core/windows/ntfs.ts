/**
 * NTFS allows 1023 hard links per file, and every slot adds one link to each unchanged file.
 * The single definition: the engine's preflight, the helper planner and (mirrored, checked by
 * test/unit/windows/helperScript.test.ts) the helper script all use this value.
 */
export const NTFS_MAX_LINKS = 1023;
