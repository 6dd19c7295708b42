import * as vscode from 'vscode';
import type { VerifyMark } from './slotNodeData';

/**
 * What Verify found wrong, per slot id, for this window's session: the Slots view marks a slot
 * whose files differ from its checksums until a later verify finds it clean. Keyed by id, not
 * number, because a backup moves every slot one position down.
 */
export class VerifyMarks implements vscode.Disposable {
  private readonly marks = new Map<string, VerifyMark>();
  private readonly changed = new vscode.EventEmitter<string>();
  /** Fires with the id of the slot whose mark changed. */
  readonly onDidChange = this.changed.event;

  get(slotId: string): VerifyMark | undefined { return this.marks.get(slotId); }

  set(slotId: string, mark: VerifyMark | undefined): void {
    if (mark && mark.changed.length + mark.missing.length > 0) this.marks.set(slotId, mark);
    else if (!this.marks.delete(slotId)) return;
    this.changed.fire(slotId);
  }

  dispose(): void { this.changed.dispose(); }
}
