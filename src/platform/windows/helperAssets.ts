import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The helper and installer scripts are static text assets, never generated. In the source tree
 * they are in ./assets; in the bundle (dist/) the build copies them to dist/windows/.
 */
export type HelperAsset = 'helper.ps1' | 'install.ps1' | 'native.cs';

export function assetCandidates(name: HelperAsset, here: string = __dirname): string[] {
  return [path.join(here, 'assets', name), path.join(here, 'windows', name), path.join(here, '..', 'windows', name)];
}

export function readHelperAsset(name: HelperAsset, here?: string): string {
  const candidates = assetCandidates(name, here);
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined) throw new Error(`The bundled Windows script ${name} is missing (looked in ${candidates.join(', ')}); the build must copy src/platform/windows/assets to dist/windows.`);
  return readFileSync(found, 'utf8');
}
