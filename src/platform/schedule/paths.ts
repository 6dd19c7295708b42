import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Where schedules keep their files: `$XDG_CONFIG_HOME/shadow-slots` (default ~/.config) or
 * `%APPDATA%\shadow-slots` on Windows. SHADOW_SLOTS_CONFIG_DIR overrides it (tests, portable use).
 */
export interface SchedulePaths {
  configDir: string;
  registryFile: string;
  profileFile(id: string): string;
  logFile(id: string): string;
  systemdUserDir: string;
  launchAgentsDir: string;
}

export function schedulePaths(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = os.homedir()): SchedulePaths {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const xdg = env['XDG_CONFIG_HOME'] && p.isAbsolute(env['XDG_CONFIG_HOME']) ? env['XDG_CONFIG_HOME'] : p.join(home, '.config');
  const configDir = env['SHADOW_SLOTS_CONFIG_DIR']
    ?? (platform === 'win32' ? p.join(env['APPDATA'] ?? p.join(home, 'AppData', 'Roaming'), 'shadow-slots') : p.join(xdg, 'shadow-slots'));
  return {
    configDir,
    registryFile: p.join(configDir, 'schedules.json'),
    profileFile: (id) => p.join(configDir, 'profiles', `${id}.json`),
    logFile: (id) => p.join(configDir, 'logs', `schedule-${id}.log`),
    systemdUserDir: p.join(xdg, 'systemd', 'user'),
    launchAgentsDir: p.join(home, 'Library', 'LaunchAgents'),
  };
}
