/**
 * Every failure the engine reports is a ShadowSlotsError with a stable `code`, so the CLI can map
 * it to an exit code and the extension can offer the right action without parsing messages.
 */
export type ErrorCode =
  | 'invalid-input'      // a user-supplied value is wrong; nothing was written
  | 'preflight'          // the environment cannot run a safe backup (target missing, no rsync…)
  | 'locked'             // another run holds the ring's lock
  | 'snapshot'           // the snapshot provider failed
  | 'rsync'              // rsync failed (see exitCode / rsyncCode)
  | 'target-full'        // the target ran out of space
  | 'partial'            // rsync copied most but not all files; the ring was not rotated
  | 'cancelled'          // the user or a signal cancelled the run
  | 'ring-corrupt'       // on-disk metadata is unreadable and cannot be repaired automatically
  | 'not-found'          // a slot or path that was asked for does not exist
  | 'verify-mismatch'    // a slot differs from its manifest
  | 'process'            // a helper process failed in an unclassified way
  | 'internal';

export class ShadowSlotsError extends Error {
  readonly code: ErrorCode;
  /** What the user can do about it, shown after the message. */
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ShadowSlotsError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }
}

/** CLI exit codes, part of the documented contract. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  partial: 3,
} as const;

export function exitCodeFor(error: unknown): number {
  if (error instanceof ShadowSlotsError) {
    if (error.code === 'invalid-input') return ExitCode.usage;
    if (error.code === 'partial') return ExitCode.partial;
  }
  return ExitCode.failure;
}

export function invalid(message: string, hint?: string): ShadowSlotsError {
  return new ShadowSlotsError('invalid-input', message, hint === undefined ? {} : { hint });
}

export function describeError(error: unknown): string {
  if (error instanceof ShadowSlotsError) {
    return error.hint ? `${error.message}\n  → ${error.hint}` : error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
