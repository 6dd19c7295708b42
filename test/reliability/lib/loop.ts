import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface LoopFs {
  image: string;
  device: string;
  mountPoint: string;
  /** Unmounts, detaches and deletes; safe to call twice, never throws. */
  cleanup(): void;
}

function sh(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why a loop file system cannot be made here, or null when it can (root, losetup, mkfs). */
export function loopUnavailableReason(fsType: 'ext4' | 'btrfs'): string | null {
  if (process.getuid?.() !== 0) return 'loop mounts need root';
  try {
    sh('losetup', ['--version']);
    sh(`mkfs.${fsType}`, ['-V']);
  } catch {
    return `losetup or mkfs.${fsType} is missing`;
  }
  return null;
}

/**
 * A real file system of `sizeMiB` on a loop device, mounted under `dir`. The caller registers
 * `cleanup` with t.after, and it also runs here when any step of the setup fails.
 */
export function makeLoopFs(dir: string, fsType: 'ext4' | 'btrfs', sizeMiB: number, name: string = fsType): LoopFs {
  const image = join(dir, `${name}.img`);
  const mountPoint = join(dir, `${name}-mnt`);
  let device = '';
  let mounted = false;
  const cleanup = () => {
    if (mounted) {
      for (let i = 0; i < 20 && mounted; i++) {
        try { sh('umount', [mountPoint]); mounted = false; } catch { execFileSync('sleep', ['0.2']); }
      }
      if (mounted) { try { sh('umount', ['-l', mountPoint]); mounted = false; } catch { /* reported by the leak check */ } }
    }
    if (device) {
      try { sh('losetup', ['-d', device]); } catch { /* already detached */ }
      device = '';
    }
    rmSync(image, { force: true });
    try { rmSync(mountPoint, { recursive: true, force: true }); } catch { /* still busy */ }
  };
  try {
    sh('truncate', ['-s', `${sizeMiB}M`, image]);
    if (fsType === 'ext4') sh('mkfs.ext4', ['-q', '-F', '-m', '0', '-E', 'nodiscard', image]);
    else sh('mkfs.btrfs', ['-q', '-f', image]);
    device = sh('losetup', ['--find', '--show', image]).trim();
    mkdirSync(mountPoint, { recursive: true });
    sh('mount', [device, mountPoint]);
    mounted = true;
  } catch (error) {
    cleanup();
    throw error;
  }
  return { image, device, mountPoint, cleanup };
}
