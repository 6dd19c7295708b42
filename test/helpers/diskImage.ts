import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';

const MiB = 1024 * 1024;

/** A disk image of `size` random bytes (incompressible: a copy-on-write target must store it once). */
export async function writeDiskImage(path: string, size: number): Promise<void> {
  const handle = await open(path, 'w');
  try {
    for (let written = 0; written < size; written += 16 * MiB) await handle.write(randomBytes(Math.min(16 * MiB, size - written)));
  } finally {
    await handle.close();
  }
}

/** Rewrites `length` bytes at a random 4 KiB-aligned offset in place, as a VM writing into its disk does. */
export async function rewriteRegion(path: string, size: number, length = MiB): Promise<void> {
  const offset = Math.floor(Math.random() * (size - length) / 4096) * 4096;
  const handle = await open(path, 'r+');
  try {
    await handle.write(randomBytes(length), 0, length, offset);
  } finally {
    await handle.close();
  }
}
