/** The cancellation token shape both VS Code and vscode-jsonrpc hand out. */
export interface CancellationTokenLike {
  isCancellationRequested: boolean;
  onCancellationRequested: (listener: () => void) => unknown;
}

/** An AbortSignal that aborts when `token` is cancelled (the engine's functions take signals). */
export function signalFromToken(token: CancellationTokenLike): AbortSignal {
  const controller = new AbortController();
  if (token.isCancellationRequested) controller.abort();
  token.onCancellationRequested(() => controller.abort());
  return controller.signal;
}
