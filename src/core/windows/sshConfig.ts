import { invalid } from '../errors';
import { rsyncShellWord } from '../rsyncArgs';
import type { RemoteTarget } from '../remoteTarget';

/**
 * The elevated helper's own `ssh_config` (issue 15): the copied MSYS2/Cygwin ssh reads only this
 * file (`-F`), never `%ProgramData%\ssh\ssh_config` or a user's `~/.ssh/config`, which users can
 * write. Every line is written from validated parts; a value ssh_config cannot carry literally is
 * refused, never escaped.
 */

/** Options every helper connection uses, in this order, before Port/User/HostName. */
export const HELPER_SSH_FIXED: ReadonlyArray<readonly [string, string]> = [
  ['GlobalKnownHostsFile', '/dev/null'],
  ['IdentitiesOnly', 'yes'],
  ['IdentityAgent', 'none'],
  ['BatchMode', 'yes'],
  ['StrictHostKeyChecking', 'yes'],
  // known_hosts is hash-checked like profile.json: ssh must never add keys to it.
  ['UpdateHostKeys', 'no'],
  ['ProxyCommand', 'none'],
  ['ProxyJump', 'none'],
  ['ControlMaster', 'no'],
  ['PermitLocalCommand', 'no'],
  ['ForwardAgent', 'no'],
  ['ForwardX11', 'no'],
  ['ClearAllForwardings', 'yes'],
  ['ServerAliveInterval', '15'],
  ['ServerAliveCountMax', '4'],
];

/**
 * Why `value` cannot be written into ssh_config, or undefined. ssh_config(5) has double quotes for
 * spaces and nothing else: a line break or control character ends or corrupts the line, a `"`
 * ends the quoting, a backslash is an escape in OpenSSH's argument splitter, `${` expands an
 * environment variable (IdentityFile, UserKnownHostsFile), and a leading `-` reads as an option
 * where the value reaches a command line.
 */
export function sshConfigValueProblem(value: string): string | undefined {
  if (value === '') return 'is empty';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(value)) return 'contains a line break or control character';
  if (value.includes('"')) return 'contains a double quote (")';
  if (value.includes('\\')) return 'contains a backslash';
  if (value.includes('${')) return 'contains "${" (ssh would expand an environment variable)';
  if (value.startsWith('-')) return 'starts with "-"';
  return undefined;
}

/**
 * One ssh_config argument: double-quoted when it holds a space, `'`, `#` or `=` (each splits or
 * ends an unquoted argument); `%` doubled where ssh expands `%` tokens (`tokens`), as
 * ssh_config(5) "TOKENS" says `%%` is a literal `%`. Throws for what cannot be written.
 */
export function sshConfigWord(value: string, what: string, tokens: boolean): string {
  const problem = sshConfigValueProblem(value);
  if (problem !== undefined) {
    throw invalid(`The ${what} ${JSON.stringify(value)} ${problem}; it cannot be written into the elevated helper's ssh_config safely, so the helper refuses it.`, 'Choose a name without it (rename the folder or the profile, or give the server\'s address).');
  }
  const literal = tokens ? value.replace(/%/g, '%%') : value;
  return /[\s'#=]/.test(literal) ? `"${literal}"` : literal;
}

/** The ssh_config text; `knownHosts` and `identity` are paths as the copied ssh sees them (`/c/…`, `/cygdrive/c/…`). */
export function helperSshConfig(p: { knownHosts: string; identity: string; target: RemoteTarget }): string {
  const { target } = p;
  if (target.user === null) throw invalid('The elevated helper needs the server account in the target (user@host:/path): it runs as SYSTEM, whose name is no account on a server.', 'Write the target as user@host:/path or ssh://user@host:port/path.');
  const lines = [
    '# Written by Shadow Slots for the elevated helper; installed by its installer, SHA-256 in profile.json.',
    `UserKnownHostsFile ${sshConfigWord(p.knownHosts, 'known_hosts path', true)}`,
    ...HELPER_SSH_FIXED.slice(0, 1).map(([k, v]) => `${k} ${v}`),
    `IdentityFile ${sshConfigWord(p.identity, 'key path', true)}`,
    ...HELPER_SSH_FIXED.slice(1).map(([k, v]) => `${k} ${v}`),
    `HostName ${sshConfigWord(target.host, 'host', true)}`,
    `Port ${target.port ?? 22}`,
    `User ${sshConfigWord(target.user, 'user name', true)}`,
  ];
  return `${lines.join('\n')}\n`;
}

// -T: no pty, so the session's output is binary-safe; the host after `--` is never an option.
/** ssh's arguments for the helper's session shell (`ssh.session`): its own config, then `exec sh` on `host`. */
export function helperSessionArgv(config: string, host: string): string[] {
  return ['-F', config, '-T', '--', host, 'exec sh'];
}

/** rsync's `-e` for the helper: the same ssh and config as the session, each word quoted by rsync's own rule. */
export function helperRsyncShell(sshExe: string, config: string): string {
  return [sshExe, '-F', config, '-T'].map(rsyncShellWord).join(' ');
}
