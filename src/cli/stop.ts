import { constants } from 'node:os';

export type StopCause = 'SIGINT' | 'SIGTERM' | 'EPIPE';

/**
 * Why the CLI stops before its command has finished: a signal (Ctrl-C, `kill`), or the reader of
 * its output went away (`| head`). It is the reason of the command's AbortSignal.
 */
export class Stop {
  constructor(readonly cause: StopCause) {}

  /**
   * 128 + the signal's number, what a shell reports for a program a signal ended: 130 for Ctrl-C,
   * 143 for SIGTERM, and 141 (SIGPIPE's) when the reader left, as for `ls` or `git` in a pipe.
   */
  get exitCode(): number {
    return 128 + constants.signals[this.cause === 'EPIPE' ? 'SIGPIPE' : this.cause];
  }
}

/** The Stop that aborted `signal`, if that is why it was aborted. */
export function stopOf(signal: AbortSignal): Stop | undefined {
  return signal.aborted && signal.reason instanceof Stop ? signal.reason : undefined;
}
