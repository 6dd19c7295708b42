/**
 * Windows security descriptors the helper writes, as data: one owner and a complete, protected
 * DACL per folder. The installer applies each one whole (never by adding grants to what is
 * there, which is how a planted entry survived: issue 12, finding 2) and then reads the folder
 * back and compares it with `expectedRules`, so a descriptor that did not take is refused.
 */

export const SID_SYSTEM = 'S-1-5-18';
export const SID_ADMINISTRATORS = 'S-1-5-32-544';
export const SID_CREATOR_OWNER = 'S-1-3-0';
export const SID_OWNER_RIGHTS = 'S-1-3-4';

/** Access masks (winnt.h): FILE_ALL_ACCESS, FILE_GENERIC_READ | FILE_GENERIC_EXECUTE, FILE_GENERIC_READ, FILE_GENERIC_WRITE. */
export const RIGHTS = {
  full: 0x1f01ff,
  readExecute: 0x1200a9,
  read: 0x120089,
  write: 0x120116,
  /**
   * What the requester gets on the cancel file (review L5): FILE_GENERIC_WRITE without
   * FILE_WRITE_DATA (so: append, not overwrite or truncate), plus FILE_READ_ATTRIBUTES. It is what
   * Node's append open asks for (libuv: FILE_GENERIC_WRITE, then FILE_WRITE_DATA swapped for
   * FILE_APPEND_DATA); the write-attributes it includes are undone by the helper, which deletes
   * and re-creates the file (clearing read-only) at the start of every run.
   */
  cancelAppend: 0x120194,
} as const;

/**
 * Rights that let a holder change a folder or what is in it: write/append data (add file or
 * folder), write EA/attributes, delete child, DELETE, WRITE_DAC, WRITE_OWNER, and the generic
 * write/all bits. An allow entry with any of them makes a folder writable for its SID.
 */
export const WRITE_RIGHTS_MASK = 0x2 | 0x4 | 0x10 | 0x40 | 0x100 | 0x10000 | 0x40000 | 0x80000 | 0x40000000 | 0x10000000;

/** Where an entry applies: this folder and below (OICI), files below only (OIIO), or this folder only. */
export type AceScope = 'tree' | 'files-below' | 'this-folder';

export interface AceSpec {
  sid: string;
  rights: number;
  scope: AceScope;
}

export interface AclSpec {
  /** Always Administrators: the owner may rewrite the DACL, so a user must never own these. */
  owner: typeof SID_ADMINISTRATORS;
  aces: AceSpec[];
}

const SID = /^S-1-\d{1,2}(-\d{1,10}){1,14}$/;

const SDDL_FLAGS: Record<AceScope, string> = { tree: 'OICI', 'files-below': 'OIIO', 'this-folder': '' };
/** .NET InheritanceFlags (ContainerInherit 1, ObjectInherit 2) and PropagationFlags (InheritOnly 2). */
const DOTNET_FLAGS: Record<AceScope, [number, number]> = { tree: [3, 0], 'files-below': [2, 2], 'this-folder': [0, 0] };

function checkAcl(acl: AclSpec): void {
  for (const ace of acl.aces) {
    if (!SID.test(ace.sid)) throw new Error(`not a SID: ${JSON.stringify(ace.sid)}`);
    if (!Number.isInteger(ace.rights) || ace.rights <= 0 || ace.rights > 0xffffffff) throw new Error(`bad access mask ${ace.rights}`);
  }
}

/**
 * SDDL with the owner, a protected DACL (`P`: nothing inherited from the parent) and only the
 * given allow entries, e.g. `O:S-1-5-32-544D:P(A;OICI;0x1f01ff;;;S-1-5-18)`. SIDs and masks are
 * written out in full (no aliases), so what is applied is exactly what is tested.
 */
export function toSddl(acl: AclSpec): string {
  checkAcl(acl);
  const aces = acl.aces.map((a) => `(A;${SDDL_FLAGS[a.scope]};0x${a.rights.toString(16)};;;${a.sid})`).join('');
  return `O:${acl.owner}D:P${aces}`;
}

/**
 * The DACL as the installer reads it back with .NET (`GetAccessRules(explicit, inherited, SID)`):
 * one `sid|mask|inheritanceFlags|propagationFlags` line per entry, sorted. All entries are
 * explicit allow entries; any other entry (inherited, deny, another SID) makes the check fail.
 */
export function expectedRules(acl: AclSpec): string[] {
  checkAcl(acl);
  return acl.aces.map((a) => `${a.sid}|${a.rights}|${DOTNET_FLAGS[a.scope][0]}|${DOTNET_FLAGS[a.scope][1]}`).sort();
}

/** SYSTEM and Administrators in full control: the start of every DACL the helper writes. */
export function adminsOnly(): AceSpec[] {
  return [{ sid: SID_SYSTEM, rights: RIGHTS.full, scope: 'tree' }, { sid: SID_ADMINISTRATORS, rights: RIGHTS.full, scope: 'tree' }];
}
