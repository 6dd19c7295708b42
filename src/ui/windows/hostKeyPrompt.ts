/**
 * The question Set Up Elevated Helper asks for a ring on a server (issue 15): the one line of
 * `ssh-keyscan` output the user checked against the server's own fingerprint. The helper trusts
 * exactly this host key (it becomes its known_hosts); the install review then shows its
 * fingerprint once more before the administrator prompt. Pure (no vscode), unit-tested on Linux.
 */
import { remoteHostLabel, type RemoteTarget } from '../../core/remoteTarget';

/** The options of vscode.window.showInputBox; `problem` is acceptHostKey's refusal, or undefined. */
export function hostKeyPrompt(target: RemoteTarget, problem: (line: string) => string | undefined): {
  title: string; prompt: string; placeHolder: string; ignoreFocusOut: true; validateInput: (value: string) => string | undefined;
} {
  const port = target.port !== null && target.port !== 22 ? ` -p ${target.port}` : '';
  return {
    title: `Set Up Elevated Helper: the host key of ${remoteHostLabel(target)}`,
    prompt: `Run "ssh-keyscan${port} -t ed25519 ${target.host}" in a terminal, compare its fingerprint ("ssh-keygen -lf -" on that line) with the server's own ("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub" there), then paste the line. The elevated helper trusts only this key.`,
    placeHolder: `${port === '' ? target.host : `[${target.host}]:${target.port}`} ssh-ed25519 AAAA…`,
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() === '' ? 'Paste one line of ssh-keyscan output.' : problem(value.trim())),
  };
}
