import { createHash } from 'node:crypto';

/** One file of the staging folder; `name` is relative (`/`-separated) to the staging and install folders. */
export interface PlannedFile {
  name: string;
  bytes: Buffer;
  sha256: string;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function plannedFile(name: string, bytes: Buffer): PlannedFile {
  return { name, bytes, sha256: sha256(bytes) };
}
