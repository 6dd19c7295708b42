import { access, constants, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { writeFileAtomic } from '../fsutil';
import type { SchedulePaths } from './paths';

/**
 * A copy of the bundled CLI at a stable place (`<config>/engine/cli.js`). The extension's own
 * folder carries its version number and disappears on update, which would silently break every
 * schedule that pointed into it. The bundle has no dependencies beside it, so one file is enough.
 */
export async function installStableCli(bundledCli: string, paths: SchedulePaths): Promise<string> {
  const target = path.join(paths.configDir, 'engine', 'cli.js');
  const [a, b] = await Promise.all([readFile(bundledCli), readFile(target).catch(() => undefined)]);
  if (b !== undefined && a.equals(b)) return target;
  await writeFileAtomic(target, a, { makeFolders: true });
  return target;
}

/**
 * A Node.js executable from PATH. Inside VS Code `process.execPath` is Electron, which a
 * scheduled job cannot use as `node`.
 */
export async function findNodeOnPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Promise<string | undefined> {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const dirs = (env['PATH'] ?? env['Path'] ?? '').split(platform === 'win32' ? ';' : ':').filter((d) => p.isAbsolute(d));
  const names = platform === 'win32' ? ['node.exe'] : ['node'];
  for (const dir of dirs) {
    for (const name of names) {
      const candidate = p.join(dir, name);
      try {
        await access(candidate, platform === 'win32' ? constants.F_OK : constants.X_OK);
        return candidate;
      } catch { /* next */ }
    }
  }
  return undefined;
}
