import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { invalid } from '../../core/errors';
import { remoteHostLabel, type RemoteTarget } from '../../core/remoteTarget';
import { helperRsyncShell, helperSessionArgv, helperSshConfig } from '../../core/windows/sshConfig';
import { toRsyncPath, type RsyncFlavor } from '../../core/windows/paths';
import type { HelperSsh } from '../../core/windows/helperProfile';
import { plannedFile, type PlannedFile } from './plannedFile';

const KEY_TYPES = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa'];

/** How known_hosts names the server: `host`, or `[host]:port` off port 22 (as ssh-keyscan prints it). */
export function knownHostsName(target: RemoteTarget): string {
  return target.port === null || target.port === 22 ? target.host : `[${target.host}]:${target.port}`;
}

/**
 * Checks the host-key line the user accepted unelevated (one line of `ssh-keyscan [-p PORT] host`
 * output: `host keytype base64`) and returns it as the known_hosts line plus its SHA-256
 * fingerprint, as `ssh-keygen -lf` prints it. The key blob must decode and name the same type.
 */
export function acceptHostKey(line: string, target: RemoteTarget): { line: string; fingerprint: string } {
  const scan = `ssh-keyscan${target.port !== null && target.port !== 22 ? ` -p ${target.port}` : ''} ${target.host}`;
  const hint = `Run "${scan}" on this computer, compare the key's fingerprint ("ssh-keygen -lf -" on that line) with the server's own ("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub" there), and give that one line.`;
  const text = line.replace(/\r?\n$/, '');
  if (/[\r\n]/.test(text)) throw invalid('The accepted host key is more than one line.', hint);
  const fields = text.split(' ');
  if (fields.length !== 3) throw invalid(`The accepted host key ${JSON.stringify(text.slice(0, 120))} is not "host keytype key" (ssh-keyscan's output, not hashed with -H).`, hint);
  const [name, type, b64] = fields as [string, string, string];
  if (name !== knownHostsName(target)) throw invalid(`The accepted host key is for ${JSON.stringify(name)}, not for ${knownHostsName(target)}.`, hint);
  if (!KEY_TYPES.includes(type)) throw invalid(`The host key type ${JSON.stringify(type)} is not one the helper accepts (${KEY_TYPES.join(', ')}).`, hint);
  const blob = /^[A-Za-z0-9+/]+={0,2}$/.test(b64) && b64.length % 4 === 0 ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
  const nameLength = blob.length >= 4 ? blob.readUInt32BE(0) : -1;
  if (nameLength < 0 || blob.length < 4 + nameLength || blob.subarray(4, 4 + nameLength).toString('latin1') !== type || blob.length < 4 + nameLength + 16) {
    throw invalid(`The accepted host key is not a valid ${type} key.`, hint);
  }
  const fingerprint = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  return { line: `${name} ${type} ${b64}\n`, fingerprint };
}

/** The key pair's comment: names the task, so the server's authorized_keys says whose key it is. */
export function helperKeyComment(profileName: string): string {
  return `shadow-slots-helper ${profileName}`;
}

/**
 * ssh-keygen's arguments, run by install.ps1 in `<install>\ssh` (a relative `-f` needs no path
 * conversion). Mirrored by Get-KeygenArguments in assets/install.ps1, which refuses a plan whose
 * list differs. No passphrase: the key is readable by SYSTEM and Administrators only.
 */
export function helperKeygenArguments(profileName: string): string[] {
  return ['-q', '-t', 'ed25519', '-N', '', '-C', helperKeyComment(profileName), '-f', 'id_ed25519'];
}

export interface HelperSshPlan {
  stored: HelperSsh;
  /** ssh/ssh_config and ssh/known_hosts, installed and hash-checked like profile.json. */
  files: PlannedFile[];
  notes: string[];
}

/** Plans the helper's transport to `target`: config, known_hosts, the session's argv and rsync's `-e`. */
export function planHelperSsh(input: { target: RemoteTarget; hostKey: string | undefined; installDir: string; flavor: RsyncFlavor; profileName: string }): HelperSshPlan {
  const w = path.win32;
  const { target, installDir, flavor } = input;
  if (input.hostKey === undefined) {
    throw invalid(`The elevated helper verifies ${remoteHostLabel(target)}'s host key and needs it accepted first.`, `Run "ssh-keyscan${target.port !== null && target.port !== 22 ? ` -p ${target.port}` : ''} ${target.host}", check the fingerprint with the server's, and give that line (CLI: --host-key).`);
  }
  const hostKey = acceptHostKey(input.hostKey, target);
  const sshDir = w.join(installDir, 'ssh');
  const posix = (name: string) => toRsyncPath(w.join(sshDir, name), flavor);
  const configText = helperSshConfig({ knownHosts: posix('known_hosts'), identity: posix('id_ed25519'), target });
  const exe = w.join(installDir, 'rsync', 'usr', 'bin', 'ssh.exe');
  const exePosix = toRsyncPath(exe, flavor);
  const configPosix = posix('ssh_config');
  const rsyncShell = helperRsyncShell(exePosix, configPosix);
  const files = [
    plannedFile('ssh/ssh_config', Buffer.from(configText, 'utf8')),
    plannedFile('ssh/known_hosts', Buffer.from(hostKey.line, 'utf8')),
  ];
  return {
    stored: {
      exe,
      config: w.join(sshDir, 'ssh_config'),
      user: target.user!,
      host: target.host,
      port: target.port ?? 22,
      path: target.path,
      session: helperSessionArgv(configPosix, target.host),
      rsyncTransport: ['-e', rsyncShell, '-s'],
      fingerprint: hostKey.fingerprint,
      files: files.map((f) => ({ name: f.name, sha256: f.sha256 })),
    },
    files,
    notes: [
      `The server's host key accepted for ${remoteHostLabel(target)}: ${hostKey.fingerprint}. A different key fails every run until Set Up runs again.`,
      `Set Up makes a key pair for the task (${helperKeyComment(input.profileName)}) and prints its public half: add that line to ~/.ssh/authorized_keys of ${target.user} on ${target.host}. Every new Set Up makes a new key.`,
    ],
  };
}
