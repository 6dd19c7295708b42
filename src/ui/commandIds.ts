/**
 * Every command this extension contributes, in one place: package.json declares exactly these
 * (checked by test/unit/ui/commands.test.ts and, inside a real VS Code, test/vscode/suite).
 */
export const Commands = {
  backupNow: 'shadowSlots.backupNow',
  cancelBackup: 'shadowSlots.cancelBackup',
  configureTarget: 'shadowSlots.configureTarget',
  refresh: 'shadowSlots.refresh',
  verifySlot: 'shadowSlots.verifySlot',
  openLog: 'shadowSlots.openLog',
  compareWithSlot: 'shadowSlots.compareWithSlot',
  openSlotFile: 'shadowSlots.openSlotFile',
  compareWithWorkspace: 'shadowSlots.compareWithWorkspace',
  restore: 'shadowSlots.restore',
  revealInFileManager: 'shadowSlots.revealInFileManager',
  copyPath: 'shadowSlots.copyPath',
  previewBackup: 'shadowSlots.previewBackup',
  compareFolderWithSlot: 'shadowSlots.compareFolderWithSlot',
  restoreFolderFromSlot: 'shadowSlots.restoreFolderFromSlot',
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];

/** The Slots view; VS Code derives `<id>.focus` from it. */
export const SLOTS_VIEW = 'shadowSlots.slots';
/** Context keys used in package.json `when` clauses. */
export const ContextKeys = {
  /** 'noFolder' | 'noTarget' | 'noSlots' | 'ready' | 'error' — drives the view's welcome content. */
  state: 'shadowSlots.state',
  backupRunning: 'shadowSlots.backupRunning',
  /** True where "reveal in the OS file manager" shows something (a local desktop window). */
  canRevealInOS: 'shadowSlots.canRevealInOS',
  /** True while at least one backup schedule is registered (Edit/Run/Delete Schedule in the palette). */
  hasSchedules: 'shadowSlots.hasSchedules',
} as const;
