import { userInfo } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ShadowSlotsError } from '../../core/errors';
import type { RingHost } from './host';
import { classifyZfsFailure, mountpointsAbove, parseFilesystems, zfsArgv, type ZfsFailure, type ZfsFilesystem } from './zfsTool';

/**
 * A file system unmounting right after heavy writes, or a destroy just after an unmount, is
 * "busy" for a moment (seen on zfs-fuse): retried for about 8 s before a program holding a slot
 * folder open is reported.
 */
const BUSY_RETRIES = 5;

/** Runs zfs on the ring's host; failures become errors that say what to do. */
export type ZfsRun = (args: string[]) => Promise<string>;

/**
 * `dataset` is named in the advice (which dataset to delegate or make writable); `onFailure` lets
 * a caller turn an expected failure (a dataset that does not exist yet) into a value.
 */
export function zfsRunner(host: RingHost, dataset: () => string): ZfsRun {
  return async (args) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await host.run('zfs', args, { errorCode: 'preflight', timeoutMs: 10 * 60_000 })).stdout;
      } catch (error) {
        const failure = failureOf(error);
        if (failure === 'busy' && attempt < BUSY_RETRIES) {
          await sleep(250 * 2 ** attempt);
          continue;
        }
        throw zfsError(failure, args, error, dataset(), host);
      }
    }
  };
}

/** The kind of a failure thrown by a ZfsRun (or by host.run('zfs', …)). */
export function failureOf(error: unknown): ZfsFailure {
  if (error instanceof ZfsError) return error.failure;
  const e = error as { stderrTail?: string; message?: string };
  return classifyZfsFailure(`${e.stderrTail ?? ''}\n${e.message ?? ''}`);
}

/** A zfs command that failed, with the failure's kind for callers that expect some (not-found). */
export class ZfsError extends ShadowSlotsError {
  constructor(readonly failure: ZfsFailure, code: ConstructorParameters<typeof ShadowSlotsError>[0], message: string, options: ConstructorParameters<typeof ShadowSlotsError>[2]) {
    super(code, message, options);
  }
}

function zfsError(failure: ZfsFailure, args: string[], cause: unknown, dataset: string, host: RingHost): ZfsError {
  const said = ((cause as { stderrTail?: string }).stderrTail ?? '').trim().split('\n').filter(Boolean).slice(-2).join(' ') || (cause as Error).message;
  const command = `zfs ${args.join(' ')}`;
  const details = { command, stderr: said };
  switch (failure) {
    case 'missing':
      return new ZfsError(failure, 'preflight', 'The zfs command is not installed here.', {
        hint: 'Install OpenZFS (zfsutils-linux) or zfs-fuse, or use target mode "links". Nothing was changed.', details, cause,
      });
    case 'no-daemon':
      return new ZfsError(failure, 'preflight', `zfs cannot reach the ZFS daemon (${said}).`, {
        hint: 'Start it (zfs-fuse: "service zfs-fuse start" as root) and run again. Nothing was changed.', details, cause,
      });
    case 'no-permission': {
      const user = host.name === null ? userInfo().username : '<user>';
      return new ZfsError(failure, 'preflight', `This user may not change the ring's ZFS datasets: ${command} was refused (${said}).`, {
        hint: `Run the backup as root (a scheduled task can), or have root delegate the rights once: zfs allow -u ${user} create,destroy,mount,mountpoint,snapshot,clone,readonly,canmount ${dataset}. `
          + 'On Linux, mounting the slot folders needs root even with zfs allow, and zfs-fuse answers only root. Complete slots are untouched.',
        details, cause,
      });
    }
    case 'out-of-space':
      return new ZfsError(failure, 'target-full', `The ZFS pool holding the target is full: ${command} failed (${said}).`, {
        hint: 'Previous slots are intact. Free space in the pool or keep fewer slots, then run again; an interrupted rotation is finished then.', details, cause,
      });
    case 'busy':
      return new ZfsError(failure, 'preflight', `A ZFS file system of the ring is in use and cannot be unmounted: ${command} failed (${said}).`, {
        hint: 'A program (a shell, a file manager, an editor) has a slot folder open: close it and run again. No slot is lost; the ring is finished by the next run.', details, cause,
      });
    case 'read-only':
      return new ZfsError(failure, 'preflight', `The dataset ${dataset} that holds the target is read-only: ${command} failed (${said}).`, {
        hint: `Make it writable (as root: zfs set readonly=off ${dataset}; "zfs get -r readonly ${dataset}" shows where it is set), or choose another target. Complete slots are untouched.`, details, cause,
      });
    default:
      return new ZfsError(failure, 'process', `${command} failed: ${said}`, { details, cause });
  }
}

/**
 * The ZFS file system whose mounted dataset holds `target`, or null when none does. Throws a
 * ZfsError when zfs cannot be asked (not installed, no daemon, no permission).
 */
export async function zfsDatasetHolding(host: RingHost, target: string): Promise<ZfsFilesystem | null> {
  const run = zfsRunner(host, () => target);
  const filesystems = parseFilesystems(await run(zfsArgv.filesystems()));
  const here = await host.stat(target);
  if (!here) return null;
  const sameDevice = async (f: ZfsFilesystem) => (await host.stat(f.mountpoint).catch(() => null))?.dev === here.dev;
  for (const f of mountpointsAbove(filesystems, target)) {
    if (await sameDevice(f)) return f;
  }
  // Reached through a symlink: the device number alone tells which mounted dataset it is.
  for (const f of filesystems.filter((x) => x.mounted && x.mountpoint.startsWith('/'))) {
    if (await sameDevice(f)) return f;
  }
  return null;
}
