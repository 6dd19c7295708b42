// The matcher against real rsync: random trees (dotfiles, spaces, brackets, wildcard characters,
// Unicode) and random rule sets, some with `:` per-folder merge files spread through the tree;
// rsync's own dry run decides what is copied, and the counting walk (the code the editor and
// `filter check` use) must decide exactly the same. Replay a failure with FILTER_SEED=<seed>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, realpath, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../src/platform/runner';
import { decodeRsyncName } from '../../../src/core/rsyncOutput';
import { parseFilterText } from '../../../src/core/filter/parse';
import { buildRuleList } from '../../../src/core/filter/ruleList';
import { countFilterMatches } from '../../../src/platform/filter/walk';
import { pick, randomPattern, randomRule, randomTree, rngFrom, writeTree, type TreeEntry } from './randomTrees';

const seed = Number(process.env['FILTER_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const SETS = Number(process.env['FILTER_SETS'] ?? 80);

async function rsyncCopies(src: string, dst: string, rulesFile: string, home: string): Promise<{ ok: true; paths: Set<string> } | { ok: false; stderr: string }> {
  try {
    const res = await run('rsync', ['-r', '--dry-run', '--itemize-changes', '--out-format=%n', `--filter=merge ${rulesFile}`, `${src}/`, `${dst}/`], {
      env: { HOME: home, CVSIGNORE: '' }, maxBuffer: 16 * 1024 * 1024,
    });
    const paths = new Set(res.stdout.split('\n').filter((l) => l.length > 0 && l !== './').map(decodeRsyncName));
    return { ok: true, paths };
  } catch (error) {
    return { ok: false, stderr: (error as { stderrTail?: string }).stderrTail ?? String(error) };
  }
}

async function matcherCopies(src: string, rulesText: string): Promise<{ ok: true; paths: Set<string> } | { ok: false; errors: string[] }> {
  const parsed = parseFilterText(rulesText);
  if (parsed.errors.length > 0) return { ok: false, errors: parsed.errors.map((e) => e.message) };
  const list = buildRuleList(parsed);
  const paths = new Set<string>();
  const included = new Map<string, boolean>();
  const counts = await countFilterMatches(src, list.entries, {
    onDecision: (rel, isDir, inc) => {
      const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
      assert.ok(parent === '' || included.get(parent) === true, `${rel} was decided although its folder is excluded`);
      included.set(rel, inc);
      if (inc) paths.add(isDir ? `${rel}/` : rel);
    },
  });
  if (counts.dirMergeErrors.length > 0) return { ok: false, errors: counts.dirMergeErrors.map((e) => e.message) };
  return { ok: true, paths };
}

const DIR_MERGES = [': .rules', ':n .rules', ':e .rules', ':- .rules', ':+ .rules', 'dir-merge .rules', ':p .rules', ':en- .rules'];

/** Writes a `.rules` file into some folders of the tree (and its root); returns their paths. */
async function writePerDirFiles(r: () => number, src: string, tree: readonly TreeEntry[], bare: boolean): Promise<string[]> {
  const dirs = ['', ...tree.filter((e) => e.isDir).map((e) => e.rel)].filter(() => r() < 0.3);
  const written: string[] = [];
  for (const d of dirs) {
    const lines: string[] = [];
    for (let i = 0, n = 1 + Math.floor(r() * 4); i < n; i++) {
      // Bare patterns for ":-"/":+"; full rules otherwise (never "-C", which per-folder files cannot model here).
      lines.push(bare ? randomPattern(r, tree) : randomRule(r, tree, src).replace(/^-C$/, '- core'));
    }
    const file = join(src, d, '.rules');
    await writeFile(file, `${lines.join('\n')}\n`);
    written.push(file);
  }
  return written;
}

test(`matcher decides exactly what rsync copies (seed ${seed}, ${SETS} rule sets)`, async (t) => {
  console.log(`filter matcher seed: ${seed} (replay with FILTER_SEED=${seed})`);
  const work = await mkdtemp(join(tmpdir(), 'ss-filter-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const r = rngFrom(seed);
  let totalRules = 0;
  let totalPaths = 0;
  let comparedSets = 0;
  let dirMergeSets = 0;
  let tree: TreeEntry[] = [];
  let src = '';
  for (let set = 0; set < SETS; set++) {
    if (set % 10 === 0) {
      src = join(work, `src${set}`);
      await mkdir(src);
      src = await realpath(src);
      tree = randomTree(r, 250 + Math.floor(r() * 150));
      await writeTree(src, tree);
      totalPaths += tree.length;
    }
    const dst = join(work, 'dst');
    await mkdir(dst, { recursive: true });
    const n = 1 + Math.floor(r() * 12);
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(randomRule(r, tree, src));
    let perDir: string[] = [];
    if (r() < 0.35) {
      const dm = pick(r, DIR_MERGES);
      lines.splice(Math.floor(r() * (lines.length + 1)), 0, dm);
      perDir = await writePerDirFiles(r, src, tree, /:[a-z]*[-+]/.test(dm));
      dirMergeSets++;
    }
    if (r() < 0.2) lines.splice(Math.floor(r() * lines.length), 0, pick2(r, ['# a comment', '; another', '']));
    totalRules += n;
    const rulesText = `${lines.join('\n')}\n`;
    const rulesFile = join(work, 'rules');
    await writeFile(rulesFile, rulesText);
    const [actual, expected] = [await rsyncCopies(src, dst, rulesFile, work), await matcherCopies(src, rulesText)];
    for (const f of perDir) await unlink(f);
    const context = `seed ${seed}, set ${set}, rules:\n${rulesText}`;
    if (!actual.ok || !expected.ok) {
      assert.equal(actual.ok, expected.ok, `rsync ${actual.ok ? 'accepted' : 'rejected'} the rules but the parser ${expected.ok ? 'accepted' : 'rejected'} them (${context}) ${!actual.ok ? actual.stderr : ''} ${!expected.ok ? expected.errors.join('; ') : ''}`);
      continue;
    }
    comparedSets++;
    const missing = [...actual.paths].filter((p) => !expected.paths.has(p));
    const extra = [...expected.paths].filter((p) => !actual.paths.has(p));
    assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, `matcher and rsync disagree (${context})`);
  }
  console.log(`compared ${comparedSets} rule sets (${totalRules} rules, ${dirMergeSets} with per-folder merge files) over ${totalPaths} generated paths`);
  assert.ok(comparedSets > SETS / 2, 'most rule sets must be valid and compared');
});

function pick2<T>(r: () => number, xs: readonly T[]): T { return xs[Math.floor(r() * xs.length)]!; }
