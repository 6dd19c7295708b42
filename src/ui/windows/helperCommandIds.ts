/** The elevated-helper commands; package.json declares exactly these (see docs/windows.md). */
export const HelperCommands = {
  setUp: 'shadowSlots.setUpElevatedHelper',
  remove: 'shadowSlots.removeElevatedHelper',
} as const;

/** What the commands return, so tests inside VS Code can assert the outcome without reading toasts. */
export type HelperCommandOutcome =
  | { kind: 'unavailable'; message: string }
  | { kind: 'not-configured'; message: string }
  | { kind: 'done'; taskName: string }
  | { kind: 'declined'; message: string }
  | { kind: 'failed'; message: string }
  | { kind: 'cancelled' };
