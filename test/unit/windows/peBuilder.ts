/**
 * Builds minimal PE files (one section holding the import tables) so the import parser and the
 * rsync-runtime collector are tested on bytes laid out as the PE/COFF specification says,
 * without shipping Windows binaries.
 */
export interface PeSpec {
  imports: string[];
  delayImports?: string[];
  /** Old-style delay descriptors (attributes bit 0 clear: names given as virtual addresses). */
  delayAsVa?: boolean;
  pe32?: boolean;
}

export function buildPe(spec: PeSpec): Buffer {
  const pe32 = spec.pe32 === true;
  const imageBase = pe32 ? 0x400000 : 0x140000000;
  const optionalSize = pe32 ? 224 : 240;
  const sectionRva = 0x1000;
  const sectionRaw = 0x200;
  const delay = spec.delayImports ?? [];
  const importTable = (spec.imports.length + 1) * 20;
  const delayTable = delay.length > 0 ? (delay.length + 1) * 32 : 0;
  const thunk = importTable + delayTable; // one zero 8-byte thunk every descriptor points at
  let namesAt = thunk + 8;
  const nameOffsets: number[] = [];
  for (const n of [...spec.imports, ...delay]) { nameOffsets.push(namesAt); namesAt += n.length + 1; }
  const sectionSize = Math.ceil(namesAt / 0x200) * 0x200;
  const file = Buffer.alloc(sectionRaw + sectionSize);

  file.write('MZ', 0, 'latin1');
  file.writeUInt32LE(0x40, 0x3c);
  file.write('PE\0\0', 0x40, 'latin1');
  const coff = 0x44;
  file.writeUInt16LE(pe32 ? 0x14c : 0x8664, coff);
  file.writeUInt16LE(1, coff + 2);
  file.writeUInt16LE(optionalSize, coff + 16);
  file.writeUInt16LE(0x22, coff + 18);
  const opt = coff + 20;
  file.writeUInt16LE(pe32 ? 0x10b : 0x20b, opt);
  if (pe32) file.writeUInt32LE(imageBase, opt + 28); else file.writeBigUInt64LE(BigInt(imageBase), opt + 24);
  file.writeUInt32LE(16, opt + (pe32 ? 92 : 108));
  const dirs = opt + (pe32 ? 96 : 112);
  file.writeUInt32LE(sectionRva, dirs + 8);
  file.writeUInt32LE(importTable, dirs + 12);
  if (delay.length > 0) {
    file.writeUInt32LE(sectionRva + importTable, dirs + 13 * 8);
    file.writeUInt32LE(delayTable, dirs + 13 * 8 + 4);
  }
  const section = opt + optionalSize;
  file.write('.idata', section, 'latin1');
  file.writeUInt32LE(namesAt, section + 8);
  file.writeUInt32LE(sectionRva, section + 12);
  file.writeUInt32LE(sectionSize, section + 16);
  file.writeUInt32LE(sectionRaw, section + 20);

  spec.imports.forEach((_, i) => {
    const d = sectionRaw + i * 20;
    file.writeUInt32LE(sectionRva + nameOffsets[i]!, d + 12);
    file.writeUInt32LE(sectionRva + thunk, d + 16);
  });
  delay.forEach((_, i) => {
    const d = sectionRaw + importTable + i * 32;
    const rva = sectionRva + nameOffsets[spec.imports.length + i]!;
    file.writeUInt32LE(spec.delayAsVa ? 0 : 1, d);
    file.writeUInt32LE(spec.delayAsVa ? imageBase + rva : rva, d + 4);
  });
  [...spec.imports, ...delay].forEach((n, i) => file.write(`${n}\0`, sectionRaw + nameOffsets[i]!, 'latin1'));
  return file;
}

/** A made-up MSYS2 rsync: rsync.exe needs two runtime DLLs, one of them needs the other, all need system DLLs. */
export function fakeMsys2Runtime(): Array<{ name: string; bytes: Buffer }> {
  return [
    { name: 'rsync.exe', bytes: buildPe({ imports: ['msys-2.0.dll', 'msys-iconv-2.dll', 'KERNEL32.dll'] }) },
    { name: 'msys-2.0.dll', bytes: buildPe({ imports: ['KERNEL32.dll', 'ntdll.dll'], delayImports: ['ADVAPI32.dll'] }) },
    { name: 'msys-iconv-2.dll', bytes: buildPe({ imports: ['msys-2.0.dll', 'KERNEL32.dll'] }) },
  ];
}

/** fakeMsys2Runtime plus MSYS2's ssh.exe and ssh-keygen.exe and the DLLs only they load (issue 15). */
export function fakeMsys2SshRuntime(): Array<{ name: string; bytes: Buffer }> {
  return [...fakeMsys2Runtime(),
    { name: 'ssh.exe', bytes: buildPe({ imports: ['msys-2.0.dll', 'msys-crypto-3.dll', 'msys-z.dll', 'KERNEL32.dll'] }) },
    { name: 'ssh-keygen.exe', bytes: buildPe({ imports: ['msys-2.0.dll', 'msys-crypto-3.dll'] }) },
    { name: 'msys-crypto-3.dll', bytes: buildPe({ imports: ['msys-2.0.dll', 'KERNEL32.dll'] }) },
    { name: 'msys-z.dll', bytes: buildPe({ imports: ['msys-2.0.dll'] }) }];
}
