/**
 * What a btrfs send stream changed, from `btrfs receive --dump` of it (run with `send --no-data`:
 * metadata only). btrfs names a new object by a temporary `oINO-GEN-SEQ` name and renames it into
 * place, moves whole folders by one rename, and replaces files by rename-over; so paths are
 * followed as objects from their first to their final name. Pure; tested against captured dumps.
 */

export interface SendChange {
  change: 'created' | 'changed' | 'deleted';
  /** Relative to the slot root, `/`-separated; folders end with `/`. */
  path: string;
  /** A folder created or deleted as a whole: what it holds is not listed one by one. */
  folder: boolean;
}

/** Undoes btrfs-progs' `print_path_escaped`: C escapes, `\ ` for a space, `\ooo` for other bytes. */
export function decodeDumpPath(escaped: string): string {
  const bytes: number[] = [];
  const simple: Record<string, number> = { a: 7, b: 8, e: 27, f: 12, n: 10, r: 13, t: 9, v: 11, ' ': 32, '\\': 92 };
  const raw = Buffer.from(escaped, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] !== 0x5c || i + 1 >= raw.length) { bytes.push(raw[i]!); continue; }
    const next = String.fromCharCode(raw[i + 1]!);
    const octal = raw.subarray(i + 1, i + 4).toString('latin1');
    if (/^[0-3][0-7]{2}$/.test(octal)) { bytes.push(parseInt(octal, 8)); i += 3; continue; }
    if (next in simple) { bytes.push(simple[next]!); i += 1; continue; }
    bytes.push(raw[i]!);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Splits a dump line on whitespace that is not escaped. */
function fields(line: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) { current += c + line[i + 1]; i++; continue; }
    if (c === ' ' || c === '\t') { if (current !== '') { out.push(current); current = ''; } continue; }
    current += c;
  }
  if (current !== '') out.push(current);
  return out;
}

interface Node {
  /** Where the object was in the previous slot; null for a new object. */
  origin: string | null;
  folder: boolean;
  changed: boolean;
  /** Its times were set (`utimes`): a checksum list records the modification time. */
  timed?: boolean;
  /**
   * Known only because its times were set: not a change of its own (inside a moved folder it is
   * part of the folder's move, which the log names once).
   */
  timesOnly?: boolean;
}

interface TrieNode { value: Node | undefined; kids: Map<string, TrieNode> | undefined }

/**
 * Objects by path, as a tree of path segments: moving or deleting a folder is one detach and
 * attach, not a scan of every object (a full send renames each of 200,000 new files into place).
 */
class PathTree {
  private readonly top: TrieNode = { value: undefined, kids: undefined };

  private find(path: string, create: boolean): TrieNode | undefined {
    let at = this.top;
    if (path === '') return at;
    for (const part of path.split('/')) {
      let next = at.kids?.get(part);
      if (!next) {
        if (!create) return undefined;
        next = { value: undefined, kids: undefined };
        (at.kids ??= new Map()).set(part, next);
      }
      at = next;
    }
    return at;
  }

  get(path: string): Node | undefined { return this.find(path, false)?.value; }
  has(path: string): boolean { return this.get(path) !== undefined; }
  set(path: string, value: Node): void { this.find(path, true)!.value = value; }

  /** The value of the nearest ancestor that has one, and where the rest of `path` starts. */
  nearestAncestor(path: string): { value: Node; cut: number } | undefined {
    let at = this.top;
    let found: { value: Node; cut: number } | undefined;
    let offset = 0;
    const parts = path.split('/');
    for (let i = 0; i < parts.length - 1; i++) {
      const next = at.kids?.get(parts[i]!);
      if (!next) break;
      offset += parts[i]!.length + (i === 0 ? 0 : 1);
      at = next;
      if (at.value) found = { value: at.value, cut: offset };
    }
    return found;
  }

  /** Whether anything below `path` has a value. */
  hasDescendant(path: string): boolean {
    const start = this.find(path, false);
    const stack = start?.kids ? [...start.kids.values()] : [];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n.value) return true;
      if (n.kids) stack.push(...n.kids.values());
    }
    return false;
  }

  /** Takes `path` and everything below it out of the tree. */
  detach(path: string): TrieNode | undefined {
    const cut = path.lastIndexOf('/');
    const parent = this.find(cut < 0 ? '' : path.slice(0, cut), false);
    const name = cut < 0 ? path : path.slice(cut + 1);
    const sub = parent?.kids?.get(name);
    if (sub) parent!.kids!.delete(name);
    return sub;
  }

  /** Puts a detached subtree at `path`; what it holds replaces what was there under the same names. */
  attach(path: string, sub: TrieNode): void {
    const at = this.find(path, true)!;
    const merge = (into: TrieNode, from: TrieNode): void => {
      if (from.value) into.value = from.value;
      for (const [name, kid] of from.kids ?? []) {
        const existing = into.kids?.get(name);
        if (existing) merge(existing, kid);
        else (into.kids ??= new Map()).set(name, kid);
      }
    };
    merge(at, sub);
  }

  *entries(): Generator<[string, Node]> {
    const stack: Array<[string, TrieNode]> = [['', this.top]];
    while (stack.length > 0) {
      const [path, n] = stack.pop()!;
      if (n.value && path !== '') yield [path, n.value];
      for (const [name, kid] of n.kids ?? []) stack.push([path === '' ? name : `${path}/${name}`, kid]);
    }
  }
}

const CONTENT_OPS = new Set(['update_extent', 'write', 'clone', 'truncate', 'encoded_write', 'fallocate']);
const CREATE_OPS: Record<string, boolean> = { mkfile: false, mkdir: true, symlink: false, mknod: false, mkfifo: false, mksock: false };

/** The order of a change log: by path, then by kind of change. */
export function compareChanges(a: SendChange, b: SendChange): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : a.change < b.change ? -1 : 1;
}

/** Follows the objects of one stream; feed every dump line, then read `changes()`. */
export class SendChangeTracker {
  private root: string | null = null;
  /** Objects at their current path; untouched paths are not in the map (they are where they were). */
  private readonly nodes = new PathTree();
  private readonly deleted = new Map<string, boolean>();

  feed(line: string): void {
    const f = fields(line);
    const op = f[0];
    if (!op || f.length < 2) return;
    if (op === 'snapshot' || op === 'subvol') { this.root = f[1]!; return; }
    const path = this.relative(f[1]!);
    if (path === null) return;
    const dest = f.slice(2).find((x) => x.startsWith('dest='))?.slice(5);
    if (op in CREATE_OPS) { this.nodes.set(path, { origin: null, folder: CREATE_OPS[op]!, changed: true }); return; }
    if (op === 'rename' && dest !== undefined) { const to = this.relative(dest); if (to !== null) this.rename(path, to); return; }
    // A hard link gives an object a new name; its target is written relative to the subvolume.
    if (op === 'link') { this.nodes.set(path, { origin: null, folder: false, changed: true }); return; }
    if (op === 'unlink' || op === 'rmdir') { this.remove(path, op === 'rmdir'); return; }
    if (CONTENT_OPS.has(op)) {
      const node = this.resolve(path);
      node.changed = true;
      node.timesOnly = false;
    } else if (op === 'utimes' && path !== '') {
      const known = this.nodes.get(path);
      const node = known ?? this.resolve(path);
      if (!known) node.timesOnly = true;
      node.timed = true;
    }
  }

  /**
   * Paths, in the new slot, of objects that kept their name and content but whose times the stream
   * set (a `touch`, a hard link's other name, a folder whose entries changed): their checksum is
   * the previous slot's, their modification time is not. Folders are among them (the stream does
   * not say which objects are folders); sorted.
   */
  retimed(): string[] {
    const out: string[] = [];
    for (const [path, node] of this.nodes.entries()) {
      if (node.timed && !node.changed && node.origin === path && !isTemporary(path)) out.push(path);
    }
    return out.sort();
  }

  /** The changes, sorted by path; the previous slot's paths for deletions, the new slot's otherwise. */
  changes(): SendChange[] {
    const deleted = new Map(this.deleted);
    const created = new Map<string, boolean>();
    const changed = new Set<string>();
    for (const [path, node] of this.nodes.entries()) {
      if (isTemporary(path) || node.timesOnly) continue;
      if (node.origin === null) created.set(path, node.folder);
      else if (node.origin !== path) {
        deleted.set(node.origin, node.folder);
        created.set(path, node.folder);
      } else if (node.changed && !node.folder) changed.add(path);
    }
    // Gone and made again under the same name (a file replaced by a new one): changed.
    for (const [path, folder] of created) {
      if (!folder && deleted.get(path) === false) { deleted.delete(path); created.delete(path); changed.add(path); }
    }
    const out: SendChange[] = [
      ...[...deleted].map(([path, folder]): SendChange => ({ change: 'deleted', path: folder ? `${path}/` : path, folder })),
      ...[...created].map(([path, folder]): SendChange => ({ change: 'created', path: folder ? `${path}/` : path, folder })),
      ...[...changed].map((path): SendChange => ({ change: 'changed', path, folder: false })),
    ];
    return out.sort(compareChanges);
  }

  private relative(p: string): string | null {
    const decoded = decodeDumpPath(p);
    const root = this.root === null ? null : decodeDumpPath(this.root);
    if (root === null) return null;
    if (decoded === root || decoded === `${root}/`) return '';
    return decoded.startsWith(`${root}/`) ? decoded.slice(root.length + 1).replace(/\/$/, '') : null;
  }

  /** The object at `path` now, made explicit: an untouched path, or one inside a moved folder. */
  private resolve(path: string): Node {
    const known = this.nodes.get(path);
    if (known) return known;
    let origin = path;
    const ancestor = this.nodes.nearestAncestor(path);
    if (ancestor) {
      ancestor.value.folder = true; // it has something inside
      origin = ancestor.value.origin === null ? '' : `${ancestor.value.origin}${path.slice(ancestor.cut)}`;
    }
    const node: Node = { origin: origin === '' ? null : origin, folder: false, changed: false };
    this.nodes.set(path, node);
    return node;
  }

  private rename(from: string, to: string): void {
    const node = this.resolve(from);
    node.timesOnly = false;
    // A move of a folder that was never touched: the stream only says "rename", so it is one.
    if (!this.nodes.has(from) || node.origin !== null) node.folder ||= this.nodes.hasDescendant(from);
    // Renamed over an object: the one that was there is gone (a path that was untouched is
    // resolved first, so its previous-slot name is known).
    const replaced = this.nodes.has(to) || !isTemporary(from) ? this.nodes.get(to) : undefined;
    if (replaced?.origin != null && replaced.origin !== node.origin) this.deleted.set(replaced.origin, replaced.folder);
    const moved = this.nodes.detach(from);
    if (moved) this.nodes.attach(to, moved);
  }

  private remove(path: string, folder: boolean): void {
    const node = this.resolve(path);
    if (node.origin !== null && !isTemporary(node.origin)) this.deleted.set(node.origin, folder || node.folder);
    this.nodes.detach(path);
  }

}

/** btrfs send's temporary names for objects in flight: `o<inode>-<generation>-<seq>`. */
function isTemporary(path: string): boolean {
  return /(^|\/)o\d+-\d+-\d+$/.test(path);
}
