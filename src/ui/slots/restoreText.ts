/** The words of the Restore confirmation, pure so the exact promises it makes are unit-tested. */
export interface RestorePlanText {
  relPath: string;
  kind: 'file' | 'folder';
  slotTitle: string;
  destination: string;
  destinationExists: boolean;
}

export function restoreConfirmation(p: RestorePlanText): { message: string; detail: string; button: string } {
  const what = p.kind === 'folder' ? 'folder' : 'file';
  const message = `Restore the ${what} "${p.relPath}" from ${p.slotTitle}?`;
  const detail = p.destinationExists
    ? (p.kind === 'folder'
      ? `This replaces the folder ${p.destination} in your workspace with the slot's version of it (files added since are moved away with it). The current folder is kept aside, so you can undo the restore.`
      : `This overwrites ${p.destination} in your workspace. The current version is kept aside, so you can undo the restore.`)
    : `This creates ${p.destination}; nothing is overwritten.`;
  return { message, detail, button: p.destinationExists ? 'Overwrite and Restore' : 'Restore' };
}
