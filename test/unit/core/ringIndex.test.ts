// The ring index (newest catalog + each older slot's differences) against a plain model that keeps
// every slot's full catalog: random rings, every operation the engine applies (a new newest slot,
// dropping the oldest, removing or rebuilding any slot), the cache file's round trip, and the
// history, change and find answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng, type Rng } from '../../../bench/lib/random';
import { RingIndex, type IndexedSlot } from '../../../src/core/ringIndex';
import { catalogDifference, SlotCatalog, sameVersion, type CatalogEntry } from '../../../src/core/slotCatalog';
import { parseIndex, serializeIndex } from '../../../src/core/indexFile';
import { changesAt, folderMarks, versionRuns } from '../../../src/core/slotHistory';
import { findPaths } from '../../../src/core/findPaths';
import type { TargetKind } from '../../../src/core/target';
import { HOSTILE_NAMES } from '../../helpers/hostileNames';

type Model = Map<string, CatalogEntry>;

const NAMES = ['a', 'b', 'a-b', 'a.b', 'a b', 'src', 'src-old', 'x/y', 'ü', 'Z', ...HOSTILE_NAMES.filter((n) => n !== '' && !n.includes('/')).slice(0, 8)];

function randomPath(rng: Rng): string {
  const depth = 1 + rng.int(3);
  return Array.from({ length: depth }, () => NAMES[rng.int(NAMES.length)]!).join('/');
}

function entry(rng: Rng, ino: number, withHash: boolean): CatalogEntry {
  return { kind: rng.int(8) === 0 ? 'symlink' : 'file', size: rng.int(5), mtimeMs: 1_700_000_000_000 + rng.int(3) * 1000, ino, hash: withHash ? rng.int(16 ** 8).toString(16).padStart(16, '0') : null };
}

/** The next (older) slot: a copy of `newer` with a few paths changed, removed or added. */
function mutate(rng: Rng, newer: Model, inoBase: number, withHash: boolean): Model {
  const m = new Map(newer);
  const n = 1 + rng.int(6);
  for (let k = 0; k < n; k++) {
    const p = rng.int(3) === 0 && m.size > 0 ? [...m.keys()][rng.int(m.size)]! : randomPath(rng);
    if (rng.int(3) === 0) m.delete(p); else m.set(p, entry(rng, inoBase + k, withHash));
  }
  return m;
}

function catalog(m: Model): SlotCatalog {
  return SlotCatalog.fromUnsorted([...m].map(([p, e]) => [p, { ...e }]));
}

function randomRing(seed: number, count: number, storage: TargetKind): { models: Model[]; slots: IndexedSlot[] } {
  const rng = createRng(seed);
  const withHash = storage !== 'links' || rng.int(2) === 0;
  const first: Model = new Map();
  for (let k = 0; k < 30; k++) first.set(randomPath(rng), entry(rng, k, withHash));
  const models = [first];
  for (let i = 1; i < count; i++) models.push(mutate(rng, models[i - 1]!, i * 1000, withHash));
  return { models, slots: models.map((_, i) => ({ id: `s${seed}-${i}`, stamp: 'walk', storage })) };
}

/** Built as the engine builds it: the oldest slot first, each newer one added as the newest. */
function build(models: Model[], slots: IndexedSlot[]): RingIndex {
  const index = new RingIndex();
  for (let i = models.length - 1; i >= 0; i--) index.addNewest(slots[i]!, catalog(models[i]!));
  return index;
}

function assertMatches(index: RingIndex, models: Model[], slots: IndexedSlot[], what: string): void {
  assert.deepEqual(index.slots.map((s) => s.id), slots.map((s) => s.id), `${what}: slot order`);
  const all = new Set(models.flatMap((m) => [...m.keys()]));
  for (let i = 0; i < models.length; i++) {
    for (const p of all) assert.deepEqual(index.entryAt(i, p), models[i]!.get(p) ?? null, `${what}: slot ${i} ${JSON.stringify(p)}`);
    assert.deepEqual(index.catalogAt(i).paths, [...models[i]!.keys()].sort(), `${what}: catalog of slot ${i}`);
  }
  const older = new Set([...all].filter((p) => !models[0]?.has(p)));
  assert.deepEqual([...index.pathsOnlyInOlderSlots()], [...older].sort(), `${what}: paths only older slots have`);
}

test('the index answers every slot\'s entries exactly as full catalogs would, through every operation', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rng = createRng(seed * 7919);
    const storage: TargetKind = seed % 3 === 0 ? 'btrfs' : 'links';
    const { models, slots } = randomRing(seed, 2 + rng.int(8), storage);
    const index = build(models, slots);
    assertMatches(index, models, slots, `seed ${seed} built`);
    for (let op = 0; op < 6 && models.length > 0; op++) {
      const kind = rng.int(4);
      const p = rng.int(models.length);
      if (kind === 0) {
        // A backup: a new newest slot.
        const m = mutate(rng, models[0] ?? new Map(), 50_000 + op * 100, storage !== 'links');
        const s = { id: `new-${seed}-${op}`, stamp: 'walk', storage };
        index.addNewest(s, catalog(m));
        models.unshift(m);
        slots.unshift(s);
      } else if (kind === 1) {
        // The oldest dropped, or any slot deleted.
        const at = rng.int(2) === 0 ? models.length - 1 : p;
        index.removeAt(at);
        models.splice(at, 1);
        slots.splice(at, 1);
      } else if (kind === 2) {
        // A slot's catalog rebuilt (its checksum list appeared): the same path set, hashes added.
        const m = new Map([...models[p]!].map(([k, e]) => [k, { ...e, hash: 'abcdef0123456789' }]));
        const s = { ...slots[p]!, stamp: 'sums:1:2' };
        index.replaceAt(p, s, catalog(m));
        models[p] = m;
        slots[p] = s;
      } else {
        const round = parseIndex(serializeIndex('/ring', index).join('\n') + '\n', '/ring');
        assert.ok(round, `seed ${seed}: the cache file parses`);
        assertMatches(round, models, slots, `seed ${seed} op ${op} reloaded`);
      }
      assertMatches(index, models, slots, `seed ${seed} op ${op} kind ${kind}`);
    }
  }
});

test('a cache file that is cut short, edited or for another target is refused whole', () => {
  const { models, slots } = randomRing(3, 4, 'links');
  const lines = serializeIndex('/ring', build(models, slots));
  const text = lines.join('\n');
  assert.ok(parseIndex(text, '/ring'));
  assert.equal(parseIndex(text, '/other'), null);
  assert.equal(parseIndex(lines.slice(0, -3).join('\n'), '/ring'), null);
  assert.equal(parseIndex(lines.slice(0, -1).join('\n'), '/ring'), null);
  assert.equal(parseIndex(text.replace('#shadow-slots-index 1', '#shadow-slots-index 9'), '/ring'), null);
  const damaged = [...lines];
  damaged[slots.length + 2] = damaged[slots.length + 2]!.replace(/\t\d+\t/, '\tNaN-ish\t');
  assert.equal(parseIndex(damaged.join('\n'), '/ring'), null);
  assert.equal(parseIndex('', '/ring'), null);
});

const LINKS: IndexedSlot = { id: 'x', stamp: 'walk', storage: 'links' };
const COW: IndexedSlot = { id: 'x', stamp: 'walk', storage: 'btrfs' };
const file = (ino: number, size: number, mtimeMs: number, hash: string | null = null): CatalogEntry => ({ kind: 'file', size, mtimeMs, ino, hash });

test('versions: the inode decides between hard-linked slots, the checksum elsewhere, else size and time', () => {
  // Same inode: one version (even when a checksum list would differ: hard links are one file).
  assert.equal(sameVersion(file(5, 1, 1000), LINKS, file(5, 1, 1000), LINKS), true);
  // A new inode: rsync copied it, a new version, even with the same size and time.
  assert.equal(sameVersion(file(5, 1, 1000), LINKS, file(6, 1, 1000), LINKS), false);
  // Copy-on-write: the same inode is rewritten in place; the checksums decide.
  assert.equal(sameVersion(file(5, 1, 1000, 'aa'), COW, file(5, 1, 2000, 'aa'), COW), true);
  assert.equal(sameVersion(file(5, 1, 1000, 'aa'), COW, file(5, 1, 1000, 'bb'), COW), false);
  // No checksum on one side (an adopted slot): rsync's quick check, whole seconds.
  assert.equal(sameVersion(file(5, 1, 1000, 'aa'), COW, file(9, 1, 1999, null), LINKS), true);
  assert.equal(sameVersion(file(5, 1, 1000, 'aa'), COW, file(9, 2, 1000, null), LINKS), false);
  // Inode unknown (0: a walk over SSH): checksum, else size and time; never "same because both are 0".
  assert.equal(sameVersion(file(0, 1, 1000), LINKS, file(0, 2, 1000), LINKS), false);
  assert.equal(sameVersion(file(0, 1, 1000), LINKS, file(0, 1, 1500), LINKS), true);
  assert.equal(sameVersion(file(0, 1, 1000, 'aa'), LINKS, file(0, 1, 1000, 'bb'), LINKS), false);
  // A file that became a symlink is another version whatever its numbers.
  assert.equal(sameVersion(file(5, 1, 1000), LINKS, { ...file(5, 1, 1000), kind: 'symlink' }, LINKS), false);
});

function ringOf(storage: TargetKind, versions: Array<CatalogEntry | null>): RingIndex {
  const index = new RingIndex();
  for (let i = versions.length - 1; i >= 0; i--) {
    const m: Array<[string, CatalogEntry]> = [['other.txt', file(1, 1, 0)]];
    if (versions[i]) m.push(['f.txt', versions[i]!]);
    index.addNewest({ id: `id${i}`, stamp: 'walk', storage }, SlotCatalog.fromUnsorted(m));
  }
  return index;
}

test('a file changed in slots 0, 3 and 7 of a hard-linked ring has exactly three versions', () => {
  // Slots 0…9, newest first; the file appears in slot 7 and is replaced in slots 3 and 0.
  const v = (ino: number) => file(ino, ino, ino * 1000);
  const index = ringOf('links', [v(3), v(2), v(2), v(2), v(1), v(1), v(1), v(1), null, null]);
  const { runs, gaps } = versionRuns(index, 'f.txt');
  assert.deepEqual(runs.map((r) => r.positions), [[0], [1, 2, 3], [4, 5, 6, 7]]);
  assert.deepEqual(runs.map((r) => r.toldApartBy), ['inode', 'inode', null]);
  assert.deepEqual(gaps, [[8, 9]]);
  assert.deepEqual(changesAt(index, 0)!.map((c) => [c.path, c.change]), [['f.txt', 'changed']]);
  assert.deepEqual(changesAt(index, 1), []);
  assert.deepEqual(changesAt(index, 7)!.map((c) => [c.path, c.change]), [['f.txt', 'added']]);
  assert.equal(changesAt(index, 9), null, 'the oldest slot has nothing to compare with');
});

test('deleted then created again with the same content: two versions, the older flagged as the same content', () => {
  const index = ringOf('btrfs', [file(7, 3, 9000, 'c1'.padEnd(16, '0')), null, null, file(7, 3, 1000, 'c1'.padEnd(16, '0')), file(7, 2, 500, 'c0'.padEnd(16, '0'))]);
  const { runs, gaps } = versionRuns(index, 'f.txt');
  assert.deepEqual(runs.map((r) => r.positions), [[0], [3], [4]]);
  assert.deepEqual(gaps, [[1, 2]]);
  assert.deepEqual(runs.map((r) => r.sameContentAs), [null, 0, null]);
  assert.deepEqual(changesAt(index, 0)!.map((c) => c.change), ['added']);
  assert.deepEqual(changesAt(index, 2)!.map((c) => c.change), ['deleted']);
  // Copy-on-write, same checksum, another time: the same version (touched), not a change.
  const touched = ringOf('btrfs', [file(7, 3, 9000, 'c1'.padEnd(16, '0')), file(7, 3, 1000, 'c1'.padEnd(16, '0'))]);
  assert.equal(versionRuns(touched, 'f.txt').runs.length, 1);
  assert.deepEqual(changesAt(touched, 0), []);
});

test('folder marks: files by their change, folders by what changed below them, ghosts of deleted files', () => {
  const older = SlotCatalog.fromUnsorted([['src/a.ts', file(1, 1, 0)], ['src/b.ts', file(2, 1, 0)], ['old/x', file(3, 1, 0)], ['old/deep/y', file(4, 1, 0)], ['top', file(5, 1, 0)]]);
  const newer = SlotCatalog.fromUnsorted([['src/a.ts', file(1, 1, 0)], ['src/b.ts', file(9, 2, 0)], ['src/c.ts', file(10, 1, 0)], ['top', file(5, 1, 0)]]);
  const index = new RingIndex();
  index.addNewest({ id: 'o', stamp: 'walk', storage: 'links' }, older);
  index.addNewest({ id: 'n', stamp: 'walk', storage: 'links' }, newer);
  const changes = changesAt(index, 0)!;
  const root = folderMarks(changes, '');
  assert.deepEqual(root.map((m) => [m.name, m.kind, m.change, m.below]), [
    ['old', 'folder', 'below', { added: 0, changed: 0, deleted: 2 }],
    ['src', 'folder', 'below', { added: 1, changed: 1, deleted: 0 }],
  ]);
  assert.deepEqual(folderMarks(changes, 'src').map((m) => [m.name, m.change]), [['b.ts', 'changed'], ['c.ts', 'added']]);
  const ghosts = folderMarks(changes, 'old');
  assert.deepEqual(ghosts.map((m) => [m.name, m.kind, m.change]), [['deep', 'folder', 'below'], ['x', 'file', 'deleted']]);
  assert.equal(ghosts[1]!.size, 1, 'a ghost has the size of the version the older slot still has');
  assert.deepEqual(folderMarks(changes, 'sr'), [], 'a folder whose name is a prefix of another has none of its marks');
});

test('find: every word, any case, file names first; paths only older slots hold are found too', () => {
  const index = new RingIndex();
  index.addNewest({ id: 'o', stamp: 'walk', storage: 'links' }, SlotCatalog.fromUnsorted([['docs/Deleted Notes.md', file(1, 1, 0)], ['src/app.ts', file(2, 1, 0)]]));
  index.addNewest({ id: 'n', stamp: 'walk', storage: 'links' }, SlotCatalog.fromUnsorted([['src/app.ts', file(2, 1, 0)], ['src/application/main.ts', file(3, 1, 0)], ['app-notes.txt', file(4, 1, 0)]]));
  assert.deepEqual(findPaths(index, 'deleted', 10), { paths: ['docs/Deleted Notes.md'], total: 1 });
  assert.deepEqual(findPaths(index, 'NOTES', 10).paths, ['app-notes.txt', 'docs/Deleted Notes.md']);
  assert.deepEqual(findPaths(index, 'app ts', 10).paths, ['src/app.ts', 'src/application/main.ts']);
  assert.deepEqual(findPaths(index, 'src/app', 1), { paths: ['src/app.ts'], total: 2 });
  assert.deepEqual(findPaths(index, '  ', 10), { paths: [], total: 0 });
  assert.deepEqual(findPaths(index, '(.*', 10).paths, [], 'regular-expression characters are literal');
});

test('catalogDifference (compared column by column) tells apart entries that differ in any one recorded fact', () => {
  const base: CatalogEntry = { kind: 'file', size: 1, mtimeMs: 2, ino: 3, hash: '0123456789abcdef' };
  const variants: Array<[string, CatalogEntry]> = [
    ['kind', { ...base, kind: 'symlink' }], ['size', { ...base, size: 9 }], ['mtime', { ...base, mtimeMs: 2.5 }], ['ino', { ...base, ino: 4 }],
    ['hash-high', { ...base, hash: 'f123456789abcdef' }], ['hash-low', { ...base, hash: '0123456789abcdee' }], ['no-hash', { ...base, hash: null }],
  ];
  const older = SlotCatalog.fromUnsorted([['same', base], ...variants.map(([p]) => [p, base] as [string, CatalogEntry])]);
  const newer = SlotCatalog.fromUnsorted([['same', { ...base }], ...variants]);
  assert.deepEqual([...catalogDifference(older, newer).keys()].sort(), variants.map(([p]) => p).sort());
  assert.equal(catalogDifference(newer, newer).size, 0);
});
