import { ShadowSlotsError } from '../../core/errors';
import type { RemoteTarget } from '../../core/remoteTarget';

/** How a person runs the same ssh by hand (to accept a host key, test a key). */
export function sshCommandForPerson(t: RemoteTarget): string {
  const host = t.host;
  return `ssh ${t.port !== null ? `-p ${t.port} ` : ''}${t.user !== null ? `${t.user}@` : ''}${host}`;
}

/**
 * Turns what ssh printed when a connection could not be made, or ended, into an error that says
 * what to do. Host keys are never accepted for the user: an unknown key is theirs to check.
 */
export function classifySshFailure(label: string, stderr: string, target: RemoteTarget): ShadowSlotsError {
  const text = stderr.trim();
  const tail = text.split('\n').slice(-3).join(' | ');
  const byHand = sshCommandForPerson(target);
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(text)) {
    return new ShadowSlotsError('preflight', `The host key of ${label} has changed since you last connected: this can be an attack, or the server was reinstalled.`, {
      hint: `Nothing was sent. If you know why it changed, remove the old key (ssh-keygen -R ${target.port !== null ? `'[${target.host}]:${target.port}'` : target.host}), then connect once with "${byHand}" and check the new fingerprint.`,
      details: { stderrTail: tail },
    });
  }
  if (/host key is known for|Host key verification failed|authenticity of host/i.test(text)) {
    return new ShadowSlotsError('preflight', `The host key of ${label} is not known, so the server cannot be verified.`, {
      hint: `Connect once yourself with "${byHand}", check the fingerprint it shows against the server's, and answer yes; then run again. Shadow Slots never accepts a host key on its own.`,
      details: { stderrTail: tail },
    });
  }
  if (/Permission denied|Too many authentication failures/i.test(text)) {
    return new ShadowSlotsError('preflight', `${label} refused the login: none of your keys was accepted.`, {
      hint: `Add your public key to ~/.ssh/authorized_keys on the server and load it into your agent (ssh-add), or name it in ~/.ssh/config (IdentityFile). Scheduled runs cannot type a password or passphrase. Test with "${byHand} true".`,
      details: { stderrTail: tail },
    });
  }
  if (/Could not resolve hostname|Name or service not known|nodename nor servname/i.test(text)) {
    return new ShadowSlotsError('preflight', `The server name ${target.host} cannot be resolved.`, { hint: 'Check the name (or add a Host entry to ~/.ssh/config) and the network.', details: { stderrTail: tail } });
  }
  if (/Connection refused|Connection timed out|No route to host|Network is unreachable|Operation timed out/i.test(text)) {
    return new ShadowSlotsError('preflight', `${label} cannot be reached: ${tail}.`, { hint: 'Check that the server is on and its SSH service runs, and the port.', details: { stderrTail: tail } });
  }
  if (/No such file or directory|not found/i.test(text) && /ssh/i.test(text) && !/:/.test(text.slice(0, 3))) {
    return new ShadowSlotsError('preflight', `ssh cannot be started: ${tail}.`, { hint: 'Install OpenSSH\'s client (ssh).', details: { stderrTail: tail } });
  }
  return new ShadowSlotsError('process', `The connection to ${label} was lost${tail ? `: ${tail}` : ''}.`, {
    hint: 'Complete slots on the server are untouched; the next run repairs and resumes.',
    details: { stderrTail: tail },
  });
}
