import { invalid } from './errors';

/**
 * A ring on another computer, reached with OpenSSH: written `ssh://[user@]host[:port]/abs/path`
 * or, as rsync writes it, `[user@]host:/abs/path`. Pure: parsing and validation only.
 */
export interface RemoteTarget {
  /** null: ssh's own default (the ~/.ssh/config `User`, else the local user name). */
  user: string | null;
  /** A host name, an ~/.ssh/config alias or an IP address (IPv6 without brackets). */
  host: string;
  /** null: ssh's own default (the ~/.ssh/config `Port`, else 22). */
  port: number | null;
  /** The ring's absolute folder on the server, taken literally (no %-decoding: `%` is `%`). */
  path: string;
}

// A user or host must not start with '-' (ssh would read it as an option) and holds only what
// host names, ssh config aliases and account names use.
const USER = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
const HOST = /^[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,252})$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/;
// A Windows drive path (C:\x, C:/x) is local, never the one-letter host "C".
const DRIVE = /^[A-Za-z]:([\\/]|$)/;

/** True when `text` is written as a remote target (it may still be invalid: see parseRemoteTarget). */
export function looksRemote(text: string): boolean {
  if (text.startsWith('ssh://')) return true;
  if (text.startsWith('/') || text.startsWith('\\') || text.startsWith('.') || DRIVE.test(text)) return false;
  // rsync's own rule: a colon before the first slash means host:path.
  const colon = remoteColon(text);
  return colon > 0;
}

/** The colon that ends `[user@]host` (after a bracketed IPv6 address), or -1. */
function remoteColon(text: string): number {
  const at = text.indexOf('@');
  const hostStart = at >= 0 && at < text.search(/[:/]|$/) ? at + 1 : 0;
  if (text[hostStart] === '[') {
    const close = text.indexOf(']', hostStart);
    return close > 0 && text[close + 1] === ':' ? close + 1 : -1;
  }
  const colon = text.indexOf(':');
  const slash = text.indexOf('/');
  return colon >= 0 && (slash < 0 || colon < slash) ? colon : -1;
}

/**
 * Parses a remote target; throws an `invalid-input` error that says what to write instead.
 * Returns null for a local path.
 */
export function parseRemoteTarget(text: string): RemoteTarget | null {
  if (!looksRemote(text)) return null;
  if (/[\0\r\n]/.test(text)) throw invalid('The target contains a line break or NUL character.', 'Rename the folder or choose another one.');
  let authority: string;
  let path: string;
  const url = text.startsWith('ssh://');
  if (url) {
    const rest = text.slice('ssh://'.length);
    const slash = authorityEnd(rest);
    if (slash < 0) throw invalid(`The target ${JSON.stringify(text)} has no folder.`, 'Write it as ssh://user@host:port/absolute/path (e.g. ssh://backup@nas:2222/srv/backups/laptop).');
    authority = rest.slice(0, slash);
    path = rest.slice(slash);
  } else {
    const colon = remoteColon(text);
    authority = text.slice(0, colon);
    path = text.slice(colon + 1);
  }
  const at = authority.lastIndexOf('@');
  const user = at >= 0 ? authority.slice(0, at) : null;
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  if (user !== null && !USER.test(user)) {
    throw invalid(`The user name ${JSON.stringify(user)} in the target is not valid.`, 'Use letters, digits, ".", "_" and "-", not starting with "-" (or leave it out to use your ~/.ssh/config).');
  }
  // rsync's form has no port (that is the ssh:// form's job); a bracketed IPv6 address fits both.
  const m = hostPort.startsWith('[') ? /^\[([^\]]*)\](?::(\d*))?$/.exec(hostPort) : /^([^:[\]]*)(?::(\d*))?$/.exec(hostPort);
  if (!m || (!url && m[2] !== undefined)) {
    throw invalid(`The host ${JSON.stringify(hostPort)} in the target is not valid.`, 'Write ssh://user@host:port/absolute/path, user@host:/absolute/path, or an IPv6 address in brackets.');
  }
  const host = m[1]!;
  const port = m[2] !== undefined ? parsePort(m[2], text) : null;
  if (hostPort.startsWith('[')) {
    if (!IPV6.test(host) || !host.includes(':')) throw invalid(`The address [${host}] in the target is not an IPv6 address.`);
  } else if (!HOST.test(host)) {
    throw invalid(`The host ${JSON.stringify(host)} in the target is not valid.`, 'Use a host name, an ~/.ssh/config alias or an IP address, not starting with "-".');
  }
  if (!path.startsWith('/')) {
    throw invalid(`The folder ${JSON.stringify(path)} on ${host} is not absolute.`, `Write the full path on the server, e.g. ${user ? `${user}@` : ''}${host}:/srv/backups/laptop.`);
  }
  if (path.split('/').includes('..')) throw invalid(`The folder ${JSON.stringify(path)} on ${host} contains "..".`, 'Write the resolved path without "..".');
  if (path.trim() !== path) throw invalid(`The folder ${JSON.stringify(path)} on ${host} starts or ends with spaces.`, 'Remove the spaces.');
  return { user, host, port, path: normalizePosix(path) };
}

function authorityEnd(rest: string): number {
  // The authority ends at the first '/' outside brackets.
  let inBrackets = false;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (c === '[') inBrackets = true;
    else if (c === ']') inBrackets = false;
    else if (c === '/' && !inBrackets) return i;
  }
  return -1;
}

function parsePort(digits: string, text: string): number {
  const n = Number(digits);
  if (!/^\d{1,5}$/.test(digits) || n < 1 || n > 65535) throw invalid(`The port in ${JSON.stringify(text)} is not a number from 1 to 65535.`);
  return n;
}

function normalizePosix(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return '/' + parts.join('/');
}

/** The target as written back: the ssh:// form when a port is needed, else rsync's form. */
export function formatRemoteTarget(t: RemoteTarget): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  const who = `${t.user !== null ? `${t.user}@` : ''}${host}`;
  return t.port !== null ? `ssh://${who}:${t.port}${t.path}` : `${who}:${t.path}`;
}

/** "user@host" or "host" (with ":port" when set): how messages name the server. */
export function remoteHostLabel(t: RemoteTarget): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${t.user !== null ? `${t.user}@` : ''}${host}${t.port !== null ? `:${t.port}` : ''}`;
}
