import { mkdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/platform/runner';

/**
 * Mounts and loop devices the benchmark creates, recorded in a state file as they are made, so
 * that they are released in `finally` after a failure or Ctrl-C, and — should the benchmark itself
 * be killed — by the next benchmark run before it starts. Only what is still ours is released: a
 * loop device is detached only while it is backed by our image, a folder unmounted only while it
 * is a mount point, so a stale state file never touches someone else's device.
 */
interface ScratchState { images: string[]; loops: { device: string; image: string }[]; mounts: string[] }

export class Scratch {
  private state: ScratchState = { images: [], loops: [], mounts: [] };
  constructor(private readonly stateFile: string) {}

  private async save(): Promise<void> {
    await writeFile(this.stateFile, JSON.stringify(this.state, null, 2));
  }

  /** Releases whatever a previous, killed benchmark run left behind; returns what it released. */
  async recover(): Promise<string[]> {
    try { this.state = JSON.parse(await readFile(this.stateFile, 'utf8')) as ScratchState; } catch { return []; }
    const listed = [...this.state.mounts, ...this.state.loops.map((l) => l.device)];
    await this.release();
    return listed;
  }

  /**
   * A fresh file system on a sparse image file, loop-mounted at `mountPoint`. Needs root.
   * `mkfs` is the argv of the mkfs command without the device (it is appended).
   */
  async loopVolume(image: string, sizeBytes: number, mountPoint: string, mkfs: string[], mountOptions: string[] = [], signal?: AbortSignal): Promise<void> {
    this.state.images.push(image);
    await this.save();
    await writeFile(image, '');
    await truncate(image, sizeBytes);
    await run(mkfs[0]!, [...mkfs.slice(1), image], { signal });
    const { stdout } = await run('losetup', ['--find', '--show', image], { signal });
    this.state.loops.push({ device: stdout.trim(), image });
    await this.save();
    await mkdir(mountPoint, { recursive: true });
    this.state.mounts.push(mountPoint);
    await this.save();
    await run('mount', [...mountOptions, stdout.trim(), mountPoint], { signal });
  }

  /** A btrfs volume with one subvolume `name` (the source, so `--snapshot btrfs` can snapshot it). */
  async btrfsSubvolume(image: string, sizeBytes: number, mountPoint: string, name: string, signal?: AbortSignal): Promise<string> {
    await this.loopVolume(image, sizeBytes, mountPoint, ['mkfs.btrfs', '-q'], [], signal);
    const sub = join(mountPoint, name);
    await run('btrfs', ['subvolume', 'create', sub], { signal });
    return sub;
  }

  /**
   * The target disk: a fresh ext4 (the usual Linux backup disk), so every run starts from the
   * same empty file system and cleaning up a million hard links is one unmount. `noinit_itable`
   * keeps ext4's background inode-table initialisation from writing during the measurements.
   */
  async ext4Volume(image: string, sizeBytes: number, mountPoint: string, bytesPerInode: number, signal?: AbortSignal): Promise<void> {
    await this.loopVolume(image, sizeBytes, mountPoint, ['mkfs.ext4', '-q', '-F', '-i', String(bytesPerInode), '-E', 'nodiscard'], ['-o', 'noinit_itable'], signal);
  }

  /** Unmounts, detaches and deletes, newest first; keeps going past errors, then reports them. */
  async release(options: { keepImages?: boolean } = {}): Promise<void> {
    const errors: string[] = [];
    for (const m of [...this.state.mounts].reverse()) {
      if (await isMountPoint(m)) {
        try {
          await run('umount', [m]);
        } catch {
          // A straggling process still holds a file: detach lazily so the loop device can go.
          try { await run('umount', ['-l', m]); } catch (e) { errors.push(`umount ${m}: ${String(e)}`); continue; }
        }
      }
      this.state.mounts = this.state.mounts.filter((x) => x !== m);
      await this.save();
    }
    for (const l of [...this.state.loops].reverse()) {
      if (await loopBacking(l.device) === l.image) {
        try { await run('losetup', ['-d', l.device]); } catch (e) { errors.push(`losetup -d ${l.device}: ${String(e)}`); continue; }
      }
      this.state.loops = this.state.loops.filter((x) => x !== l);
      await this.save();
    }
    if (errors.length > 0) throw new Error(`Could not release benchmark mounts: ${errors.join('; ')}. Release them by hand (umount, losetup -d), then delete ${this.stateFile}.`);
    if (!options.keepImages) for (const i of this.state.images) await rm(i, { force: true });
    this.state.images = [];
    await rm(this.stateFile, { force: true });
  }
}

async function isMountPoint(dir: string): Promise<boolean> {
  try { await run('mountpoint', ['-q', dir]); return true; } catch { return false; }
}

/** The file backing a loop device, or null when the device is not set up. */
async function loopBacking(device: string): Promise<string | null> {
  try {
    const { stdout } = await run('losetup', ['--noheadings', '--raw', '--output', 'BACK-FILE', device]);
    return stdout.trim() || null;
  } catch {
    return null;
  }
}
