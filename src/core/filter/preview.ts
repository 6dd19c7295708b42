import type { ItemizedChange } from '../rsyncOutput';

/** Why an item of the newest slot is not in the next one. */
export type PreviewReason =
  /** Still in the source, but a rule now excludes it (`rule`: index into PreviewResult.rules, or null when no single rule could be named). */
  | { kind: 'excluded'; rule: number | null }
  /** No longer in the source. */
  | { kind: 'gone' };

/** What Preview Backup reports (shared by the engine, the CLI and the extension). */
export interface PreviewItem extends ItemizedChange {
  /** `copy`: new in the next slot; `change`: differs from the newest slot; `delete`: in the newest slot, not in the next. */
  action: 'copy' | 'change' | 'delete';
  /** Set on `delete` items when the rules were evaluated. */
  reason?: PreviewReason;
}

/** One rule that decides something, with what it decides in the source right now. */
export interface PreviewRule {
  /** `filter-file`: a line of the profile's filter file; `merged`: of a file it merges; `settings`: the settings' excludes. */
  origin: 'filter-file' | 'merged' | 'settings';
  /** The file the rule is written in (absent for settings). */
  file?: string;
  /** 0-based line in that file, or index in the settings' list. */
  line: number;
  /** The rule as written, e.g. `- /node_modules/`. */
  text: string;
  include: boolean;
  files: number;
  dirs: number;
  bytes: number;
  examples: string[];
}

export interface PreviewResult {
  newestSlot: string | undefined;
  copied: number;
  changed: number;
  deleted: number;
  items: PreviewItem[];
  /** True when more items were found than kept. */
  truncated: boolean;
  /** The rsync command lines that were run (dry runs only). */
  commands: string[][];
  /**
   * Every rule with what it decides, in the order rsync applies them (absent when not evaluated).
   * Counts include what lies inside excluded folders.
   */
  rules?: PreviewRule[];
  /** Files of the source the rules leave in the backup, and those they exclude. */
  included?: { files: number; bytes: number };
  excluded?: { files: number; bytes: number };
}
