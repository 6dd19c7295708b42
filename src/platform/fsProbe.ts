import { link, mkdtemp, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** statfs(2) magic numbers of the file systems whose behaviour matters to a ring. */
const FS_TYPES: Record<number, string> = {
  0x9123683e: 'btrfs',
  0xef53: 'ext4',
  0x58465342: 'xfs',
  0x2fc12fc1: 'zfs',
  0x01021994: 'tmpfs',
  0x4d44: 'vfat',
  0x2011bab0: 'exfat',
  0x5346544e: 'ntfs',
  0x65735546: 'fuse',
  0x794c7630: 'overlay',
  0x6969: 'nfs',
  0xff534d42: 'cifs',
  0xfe534d42: 'smb2',
};

/** The name of a statfs(2) file system type (also what a server's `stat -f -c %t` prints, in hex). */
export function fileSystemName(magic: number): string {
  return FS_TYPES[magic] ?? `0x${magic.toString(16)}`;
}

export interface TargetProbe {
  fsType: string;
  freeBytes: number;
  totalBytes: number;
  hardLinks: boolean;
}

export async function fileSystemType(path: string): Promise<{ type: string; freeBytes: number; totalBytes: number }> {
  const s = await statfs(path);
  return { type: fileSystemName(s.type), freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
}

/**
 * Hard links are the whole point of the ring: on FAT/exFAT (and some network shares) `link()`
 * fails and every slot would silently be a full copy. Try it for real on the target.
 */
export async function probeTarget(dir: string): Promise<TargetProbe> {
  const { type, freeBytes, totalBytes } = await fileSystemType(dir);
  const scratch = await mkdtemp(join(dir, '.shadow-slots-probe-'));
  let hardLinks = false;
  try {
    const a = join(scratch, 'a');
    await writeFile(a, 'probe');
    try {
      await link(a, join(scratch, 'b'));
      hardLinks = (await stat(a)).nlink === 2;
    } catch {
      hardLinks = false;
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return { fsType: type, freeBytes, totalBytes, hardLinks };
}
