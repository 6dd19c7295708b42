import { buildRsyncArgv } from '../rsyncArgs';

/** profile.json's `rsync.options`, `linkDestAt` and `linkDest`: what the helper passes rsync. */
export interface HelperRsyncOptions {
  /** Every option before the source, --link-dest taken out (the helper adds it when slot 0 exists). */
  options: string[];
  /** Where --link-dest goes back in. */
  linkDestAt: number;
  linkDest: string;
}

/**
 * The rsync options the helper is planned with for these excludes and extra arguments. The planner
 * writes them into profile.json; Back Up Now compares an installed server ring's helper with them
 * (installedServerHelper), so a changed exclude is never silently left out.
 */
export function helperRsyncOptions(input: { excludes: readonly string[]; extraArgs: readonly string[]; linkDestPath: string; coarseTimes: boolean }): HelperRsyncOptions {
  const argv = buildRsyncArgv({
    source: '/placeholder-source', destination: '/placeholder-destination', linkDest: input.linkDestPath,
    excludes: [...input.excludes], extraArgs: [...input.extraArgs], windowsRsync: true, timePrecision: input.coarseTimes ? 'coarse' : 'seconds', progress: true,
  });
  const linkDest = `--link-dest=${input.linkDestPath}`;
  const linkDestAt = argv.indexOf(linkDest);
  const dashDash = argv.lastIndexOf('--');
  return { options: argv.slice(0, dashDash).filter((_, i) => i !== linkDestAt), linkDestAt, linkDest };
}
