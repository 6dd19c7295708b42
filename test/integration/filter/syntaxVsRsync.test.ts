// The parser accepts and rejects exactly what rsync does: every rule prefix (short and long) with
// every modifier and separator, plus known edge cases, each fed to real rsync as a merge file.
// The kind of error rsync reports must be the one the editor shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ProcessError, run } from '../../../src/platform/runner';
import { parseFilterText } from '../../../src/core/filter/parse';
import { buildRuleList } from '../../../src/core/filter/ruleList';

const PREFIXES = ['-', '+', 'H', 'S', 'P', 'R', '.', ':', '!', 'exclude', 'include', 'hide', 'show', 'protect', 'risk', 'merge', 'dir-merge', 'clear'];
const MODIFIERS = ['', '/', '!', 'C', 's', 'r', 'p', 'x', 'e', 'n', 'w', '-', '+', 'sr', '-+', 'z', ',s', 'ps/'];
const EDGE = [
  '- foo', ' - foo', '-', '- ', '!', '! ', '!x', 'clear', 'clear ', 'exclude\tfoo', 'excludefoo', 'exclude', '-,s foo', '-,,s foo',
  ',foo', 'x foo', 'C foo', '-C', '-C foo', ':C', '.C', '.-+ foo', '.w foo', '.e foo', '- foo ', '+ /a/b/', 'e foo', 'dir-merge_foo',
  'hide,s foo', 'show,r foo', 'protect,p foo', 'merge,- foo', 'exclude,C', 'include,C', 'H,C', '. foo', '.s foo', 'risk,x foo',
];

async function rsyncVerdict(work: string, line: string): Promise<{ rejected: boolean; stderr: string }> {
  const rules = join(work, 'rules');
  await writeFile(rules, `${line}\n`);
  try {
    await run('rsync', ['-r', '--dry-run', `--filter=merge ${rules}`, 'tree/', 'out/'], { cwd: work, env: { HOME: work, CVSIGNORE: '' } });
    return { rejected: false, stderr: '' };
  } catch (error) {
    const stderr = error instanceof ProcessError ? error.stderrTail : String(error);
    // Exit 1 (RERR_SYNTAX) is a rule rsync refuses; other failures (a missing merge file) are not syntax.
    return { rejected: error instanceof ProcessError && error.exitCode === 1, stderr };
  }
}

function ourVerdict(work: string, line: string): string[] {
  const list = buildRuleList(parseFilterText(line), {
    readMerge: (name) => { try { return { text: requireText(resolve(work, name)), file: resolve(work, name) }; } catch { return undefined; } },
  });
  return list.errors.map((e) => e.message);
}

const texts = new Map<string, string>();
function requireText(file: string): string {
  const t = texts.get(file);
  if (t === undefined) throw new Error('missing');
  return t;
}

test('the parser rejects exactly the rules rsync rejects, with rsync\'s message', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'ss-filter-syntax-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  await mkdir(join(work, 'tree'));
  await writeFile(join(work, 'tree', 'data'), 'x'); // not "foo": a dir-merge rule would read it
  // The merge file the `.` rules read: one plain rule, which word-split mode splits into "-" and "bar".
  await writeFile(join(work, 'foo'), '- bar\n');
  texts.set(join(work, 'foo'), await readFile(join(work, 'foo'), 'utf8'));
  const lines = new Set<string>(EDGE);
  for (const p of PREFIXES) for (const m of MODIFIERS) for (const sep of [' ', '_']) {
    const mods = m === '' ? '' : (p.length > 1 && !m.startsWith(',') ? `,${m}` : m);
    lines.add(`${p}${mods}${sep}foo`);
  }
  let rejected = 0;
  for (const line of lines) {
    const rsync = await rsyncVerdict(work, line);
    const ours = ourVerdict(work, line);
    assert.equal(ours.length > 0, rsync.rejected, `rule ${JSON.stringify(line)}: rsync ${rsync.rejected ? 'rejects' : 'accepts'} it (${rsync.stderr.trim()}), the parser says ${ours.join('; ') || 'valid'}`);
    if (rsync.rejected) {
      rejected++;
      // rsync 3.4+ prints "<kind>: <rule from FILE line N>"; older ones the rule text and the modifier's position.
      const kind = ours[0]!.slice(0, ours[0]!.indexOf(':')).replace(/ '.+' at position \d+/, '');
      assert.ok(rsync.stderr.includes(`${kind}:`), `rule ${JSON.stringify(line)}: rsync says ${JSON.stringify(rsync.stderr.trim())}, the parser ${JSON.stringify(ours[0])}`);
    }
  }
  console.log(`${lines.size} rule lines checked against rsync, ${rejected} rejected by both`);
  assert.ok(rejected > 50 && rejected < lines.size - 50, 'the set covers both valid and invalid rules');
});
