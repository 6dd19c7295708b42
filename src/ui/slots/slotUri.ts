/**
 * URIs of files inside slots: `shadow-slots:/<slot>/<path inside the slot>?target=<target>`.
 * The slot number leads the path so the editor's title and breadcrumbs say which slot a file
 * came from; the target travels in the query so several rings can be open at once.
 * Pure (no vscode) so the round trip and the traversal checks are unit-tested.
 */
export const SLOT_SCHEME = 'shadow-slots';

export interface SlotFileRef {
  target: string;
  slot: number;
  /** Slash-separated, no leading slash; '' is the slot's root. */
  relPath: string;
}

export function slotUriParts(ref: SlotFileRef): { scheme: string; path: string; query: string } {
  const rel = ref.relPath === '' ? '' : `/${ref.relPath}`;
  return { scheme: SLOT_SCHEME, path: `/${ref.slot}${rel}`, query: new URLSearchParams({ target: ref.target }).toString() };
}

/** Parses a slot URI's path and query; rejects anything that could leave the slot folder. */
export function parseSlotUri(uriPath: string, query: string): SlotFileRef {
  const target = new URLSearchParams(query).get('target');
  if (!target) throw new Error(`Not a Shadow Slots file (no target): ${uriPath}`);
  const segments = uriPath.split('/').filter((s) => s !== '');
  const slotText = segments.shift();
  if (slotText === undefined || !/^(0|[1-9][0-9]{0,5})$/.test(slotText)) throw new Error(`Not a Shadow Slots file (no slot number): ${uriPath}`);
  if (segments.some((s) => s === '..' || s === '.' || s.includes('\\') || s.includes('\0'))) throw new Error(`Invalid path inside a slot: ${uriPath}`);
  return { target, slot: Number(slotText), relPath: segments.join('/') };
}
