import { readHelperAsset } from '../../../src/platform/windows/helperAssets';
import { validateProfile, type ProfileInput } from '../../../src/core/profile';
import { planHelper, type HelperPlanInput } from '../../../src/platform/windows/helperPlan';
import { join } from 'node:path';
import { fakeMsys2Runtime } from './peBuilder';

export const USER_SID = 'S-1-5-21-1004336348-1177238915-682003330-1001';
const assets = join(__dirname, '../../../src/platform/windows');

export function planFor(input: ProfileInput, overrides: Partial<HelperPlanInput> = {}) {
  const { profile } = validateProfile({ snapshot: 'vss', ...input }, 'win32');
  return planHelper({
    profile,
    account: 'system',
    userSid: USER_SID,
    rsync: { path: 'C:\\msys64\\usr\\bin\\rsync.exe', flavor: 'msys2', files: fakeMsys2Runtime() },
    targetFilesystem: 'NTFS',
    programData: 'C:\\ProgramData',
    systemRoot: 'C:\\Windows',
    helperScript: readHelperAsset('helper.ps1', assets),
    installerScript: readHelperAsset('install.ps1', assets),
    nativeSource: readHelperAsset('native.cs', assets),
    ...overrides,
  });
}

/** Hostile names that are legal in Windows file names (", <, >, |, ?, *, : are not, and are refused). */
export const HOSTILE_WINDOWS_NAMES = [
  'My Project',
  "it's 'single' quoted",
  'R&D & more',
  '100% %PATH% done',
  'caret ^ and ^^',
  'semi;colon, comma',
  '$(whoami) `id` ${env} @(x) $PSHOME',
  'Ünïcødé 日本語 😀',
  '&amp; [brackets] {braces} #hash',
  '--link-dest=evil -e sh',
];
