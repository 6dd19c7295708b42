/**
 * The DLL names a Windows executable or DLL imports (its import table and its delay-load import
 * table), read from the PE file's bytes. The helper installer copies rsync.exe together with the
 * DLLs it loads from its own folder into the admin-only install folder, so the elevated helper
 * never loads code from a folder a user can write (issue 12, finding 1). Pure; malformed input
 * throws an Error saying what is wrong.
 *
 * Layout (Microsoft PE/COFF specification): DOS header with `e_lfanew` at 0x3C; `PE\0\0`; the COFF
 * header (NumberOfSections at +2, SizeOfOptionalHeader at +16); the optional header (magic 0x10B
 * for PE32, 0x20B for PE32+), whose data directories start at +96 (PE32) or +112 (PE32+): entry 1
 * is the import table, entry 13 the delay-load import table; then the section table (40 bytes
 * each: VirtualSize +8, VirtualAddress +12, SizeOfRawData +16, PointerToRawData +20).
 */
export function peImports(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (why: string): never => { throw new Error(`not a valid PE file: ${why}`); };
  const u16 = (at: number) => (at >= 0 && at + 2 <= bytes.length ? view.getUint16(at, true) : bad(`offset ${at} is outside the file`));
  const u32 = (at: number) => (at >= 0 && at + 4 <= bytes.length ? view.getUint32(at, true) : bad(`offset ${at} is outside the file`));

  if (u16(0) !== 0x5a4d) bad('no MZ header');
  const pe = u32(0x3c);
  if (u32(pe) !== 0x00004550) bad('no PE signature');
  const coff = pe + 4;
  const sectionCount = u16(coff + 2);
  const optionalSize = u16(coff + 16);
  const optional = coff + 20;
  const magic = u16(optional);
  if (magic !== 0x10b && magic !== 0x20b) bad(`unknown optional header magic 0x${magic.toString(16)}`);
  const plus = magic === 0x20b;
  const imageBase = plus ? u32(optional + 24) + u32(optional + 28) * 2 ** 32 : u32(optional + 28);
  const directoryCount = u32(optional + (plus ? 108 : 92));
  const directories = optional + (plus ? 112 : 96);
  const sections = optional + optionalSize;
  const sectionList = Array.from({ length: sectionCount }, (_, i) => {
    const s = sections + i * 40;
    return { va: u32(s + 12), size: Math.max(u32(s + 8), u32(s + 16)), raw: u32(s + 20), rawSize: u32(s + 16) };
  });
  const offsetOf = (rva: number): number => {
    for (const s of sectionList) {
      if (rva >= s.va && rva < s.va + s.size) {
        const delta = rva - s.va;
        return delta < s.rawSize ? s.raw + delta : bad(`RVA 0x${rva.toString(16)} is not backed by file data`);
      }
    }
    return bad(`RVA 0x${rva.toString(16)} is in no section`);
  };
  const asciiz = (at: number): string => {
    let end = at;
    while (end < bytes.length && bytes[end] !== 0 && end - at < 260) end++;
    if (end >= bytes.length || bytes[end] !== 0) bad('unterminated DLL name');
    const name = String.fromCharCode(...bytes.subarray(at, end));
    return /^[\x21-\x7e]+$/.test(name) ? name : bad(`unprintable DLL name at ${at}`);
  };
  const directory = (index: number) => (index < directoryCount ? { rva: u32(directories + index * 8), size: u32(directories + index * 8 + 4) } : { rva: 0, size: 0 });

  const names = new Set<string>();
  const imports = directory(1);
  if (imports.rva !== 0) {
    // IMAGE_IMPORT_DESCRIPTOR, 20 bytes: Name RVA at +12; an all-zero entry ends the table.
    for (let at = offsetOf(imports.rva), n = 0; ; at += 20, n++) {
      if (n > 4096) bad('import table does not end');
      const name = u32(at + 12);
      if (name === 0 && u32(at) === 0 && u32(at + 16) === 0) break;
      names.add(asciiz(offsetOf(name)).toLowerCase());
    }
  }
  const delayed = directory(13);
  if (delayed.rva !== 0) {
    // ImgDelayDescr, 32 bytes: Attributes at +0 (bit 0 set: RVAs; clear: old VA form), DllNameRVA at +4.
    for (let at = offsetOf(delayed.rva), n = 0; ; at += 32, n++) {
      if (n > 4096) bad('delay-load import table does not end');
      const attributes = u32(at);
      const name = u32(at + 4);
      if (name === 0) break;
      names.add(asciiz(offsetOf((attributes & 1) === 1 ? name : name - imageBase)).toLowerCase());
    }
  }
  return [...names].sort();
}
