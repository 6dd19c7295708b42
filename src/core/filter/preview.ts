import type { ItemizedChange } from '../rsyncOutput';

/** What Preview Backup reports (shared by the engine, the CLI and the extension). */
export interface PreviewItem extends ItemizedChange {
  /** `copy`: new in the next slot; `change`: differs from the newest slot; `delete`: in the newest slot, not in the next. */
  action: 'copy' | 'change' | 'delete';
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
}
