/**
 * Builds binary self-relative security descriptors (the layout of winnt.h) for the tests of
 * assets/native.cs: owner, protection and any kind of ACE, including the callback (conditional)
 * and object entries that .NET's GetAccessRules does not return.
 */
export interface RawAce {
  /** ACE type byte: 0 allow, 1 deny, 5 allowed object, 9 allowed callback, 10 denied callback. */
  type: number;
  /** ACE flags: 1 OI, 2 CI, 8 IO, 0x10 inherited. */
  flags: number;
  mask: number;
  sid: string;
}

export function sidBytes(sid: string): Buffer {
  const parts = sid.split('-');
  if (parts[0] !== 'S' || parts[1] !== '1') throw new Error(`not a SID: ${sid}`);
  const subs = parts.slice(3).map(Number);
  const b = Buffer.alloc(8 + 4 * subs.length);
  b[0] = 1;
  b[1] = subs.length;
  b.writeUIntBE(Number(parts[2]), 2, 6);
  subs.forEach((s, i) => b.writeUInt32LE(s >>> 0, 8 + 4 * i));
  return b;
}

function aceBytes(ace: RawAce): Buffer {
  const sid = sidBytes(ace.sid);
  let body: Buffer;
  if (ace.type === 5 || ace.type === 6) {
    // Object ACE with no GUIDs present (Flags 0): mask, flags, SID.
    body = Buffer.concat([Buffer.alloc(8), sid]);
    body.writeUInt32LE(ace.mask >>> 0, 0);
  } else if (ace.type === 9 || ace.type === 10) {
    // Callback ACE: mask, SID, then the condition ("artx" + a tiny expression) as application data.
    body = Buffer.concat([Buffer.alloc(4), sid, Buffer.from('artx\u0001\u0000\u0000\u0000', 'latin1')]);
    body.writeUInt32LE(ace.mask >>> 0, 0);
  } else {
    body = Buffer.concat([Buffer.alloc(4), sid]);
    body.writeUInt32LE(ace.mask >>> 0, 0);
  }
  const size = 4 + body.length;
  const header = Buffer.from([ace.type, ace.flags, size & 0xff, size >> 8]);
  return Buffer.concat([header, body]);
}

/** A self-relative descriptor; `dacl: null` writes none (SE_DACL_PRESENT clear: everyone has access). */
export function securityDescriptor(o: { owner: string; protect?: boolean; dacl: RawAce[] | null }): Buffer {
  const owner = sidBytes(o.owner);
  let dacl = Buffer.alloc(0);
  if (o.dacl !== null) {
    const aces = Buffer.concat(o.dacl.map(aceBytes));
    dacl = Buffer.alloc(8);
    dacl[0] = o.dacl.some((a) => a.type === 5 || a.type === 6) ? 4 : 2;
    dacl.writeUInt16LE(8 + aces.length, 2);
    dacl.writeUInt16LE(o.dacl.length, 4);
    dacl = Buffer.concat([dacl, aces]);
  }
  const header = Buffer.alloc(20);
  header[0] = 1;
  const control = 0x8000 | (o.dacl !== null ? 0x4 : 0) | (o.protect ? 0x1000 : 0);
  header.writeUInt16LE(control, 2);
  header.writeUInt32LE(20, 4);
  header.writeUInt32LE(o.dacl !== null ? 20 + owner.length : 0, 16);
  return Buffer.concat([header, owner, dacl]);
}
