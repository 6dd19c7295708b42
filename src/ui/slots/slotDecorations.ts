import * as vscode from 'vscode';
import { SLOT_SCHEME, parseSlotUri } from './slotUri';
import type { RingModel } from '../ringModel';
import { formatLocalTime } from './slotNodeData';

/**
 * Marks editor tabs of files opened from a slot with the slot's number (a badge) and when it was
 * taken (tooltip), so a slot's version is never mistaken for the workspace file.
 */
export function slotDecorations(ring: RingModel): vscode.FileDecorationProvider {
  return {
    provideFileDecoration(uri) {
      if (uri.scheme !== SLOT_SCHEME) return undefined;
      try {
        const ref = parseSlotUri(uri.path, uri.query);
        const m = ring.listing?.target === ref.target ? ring.listing.slots.find((s) => s.number === ref.slot)?.manifest : undefined;
        const when = m ? `, ${formatLocalTime(new Date(m.endedAt ?? m.startedAt))}` : '';
        // Badges are at most two characters; slot numbers above 99 show as "S+".
        return { badge: ref.slot < 10 ? `S${ref.slot}` : ref.slot < 100 ? String(ref.slot) : 'S+', tooltip: `From slot ${ref.slot}${when} (read-only)` };
      } catch {
        return undefined;
      }
    },
  };
}
