/**
 * URIs of files inside slots: `shadow-slots:/<slot>/<path inside the slot>?target=<target>`.
 * The slot number leads the path so breadcrumbs say which slot a file came from; the target
 * travels in the query so several rings can be open at once. Files opened in an editor get a
 * *titled* URI whose last name carries ` (slot N)` before the extension (`app (slot 2).ts`): the
 * editor tab shows the basename, and a slot's version must never look like the workspace file.
 * The extension stays last so the language is still detected. Such URIs say `titled=1` and
 * parsing strips exactly one marker of the URI's own slot, so the round trip is exact for every
 * name, including names that contain "(slot 0)" themselves (tested with hostile ones).
 * Pure (no vscode) so the round trip and the traversal checks are unit-tested.
 */
export const SLOT_SCHEME = 'shadow-slots';

export interface SlotFileRef {
  target: string;
  slot: number;
  /** Slash-separated, no leading slash; '' is the slot's root. */
  relPath: string;
}

export function slotUriParts(ref: SlotFileRef, titled = false): { scheme: string; path: string; query: string } {
  let relPath = ref.relPath;
  if (titled && relPath !== '') {
    const cut = relPath.lastIndexOf('/') + 1;
    const name = relPath.slice(cut);
    const dot = name.lastIndexOf('.');
    // '.gitignore' has no extension: the whole name is the stem.
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    relPath = `${relPath.slice(0, cut)}${stem} (slot ${ref.slot})${ext}`;
  }
  const rel = relPath === '' ? '' : `/${relPath}`;
  const query = new URLSearchParams({ target: ref.target });
  if (titled && relPath !== ref.relPath) query.set('titled', '1');
  return { scheme: SLOT_SCHEME, path: `/${ref.slot}${rel}`, query: query.toString() };
}

/** Parses a slot URI's path and query; rejects anything that could leave the slot folder. */
export function parseSlotUri(uriPath: string, query: string): SlotFileRef {
  const params = new URLSearchParams(query);
  const target = params.get('target');
  if (!target) throw new Error(`Not a Shadow Slots file (no target): ${uriPath}`);
  const segments = uriPath.split('/').filter((s) => s !== '');
  const slotText = segments.shift();
  if (slotText === undefined || !/^(0|[1-9][0-9]{0,5})$/.test(slotText)) throw new Error(`Not a Shadow Slots file (no slot number): ${uriPath}`);
  if (segments.some((s) => s === '..' || s === '.' || s.includes('\\') || s.includes('\0'))) throw new Error(`Invalid path inside a slot: ${uriPath}`);
  const slot = Number(slotText);
  const last = segments.length - 1;
  if (last >= 0 && params.get('titled') === '1') {
    const m = new RegExp(`^(.*) \\(slot ${slot}\\)(\\.[^.]*)?$`, 's').exec(segments[last]!);
    if (m && m[1] !== '') segments[last] = `${m[1]}${m[2] ?? ''}`;
  }
  return { target, slot, relPath: segments.join('/') };
}
