// `npm run package`: builds the minified bundles and packs the .vsix with @vscode/vsce from a
// staging folder holding only what .vscodeignore allows (its `!` lines). vsce itself globs the
// whole working folder before filtering, which takes minutes next to large generated trees
// (bench/.work) and could pick up strays; staging makes packaging fast and the content exact.
// Usage: node scripts/package-vsix.mjs [--out <file.vsix>]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const outIndex = process.argv.indexOf('--out');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = resolve(outIndex > 0 ? process.argv[outIndex + 1] : join(root, `${pkg.name}-${pkg.version}.vsix`));

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' });
  // Throw (not process.exit) so the staging folder is still removed.
  if (r.status !== 0) throw new Error(`${args[0]} failed with exit code ${r.status}`);
}

/** The allow-listed paths: `!dir/**` copies a folder, `!name*` matches names in the root, others are files. */
function allowed() {
  const lines = readFileSync(join(root, '.vscodeignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l.startsWith('!'));
  const paths = new Set(['package.json', '.vscodeignore']);
  for (const line of lines) {
    const p = line.slice(1);
    if (p.endsWith('/**')) { if (existsSync(join(root, p.slice(0, -3)))) paths.add(p.slice(0, -3)); continue; }
    if (p.includes('*')) {
      const re = new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
      const dir = dirname(p) === '.' ? '' : dirname(p);
      if (!existsSync(join(root, dir))) continue;
      for (const name of readdirSync(join(root, dir))) if (re.test(dir ? `${dir}/${name}` : name)) paths.add(dir ? `${dir}/${name}` : name);
      continue;
    }
    if (existsSync(join(root, p))) paths.add(p);
  }
  return [...paths];
}

const stage = mkdtempSync(join(tmpdir(), 'shadow-slots-vsix-'));
try {
  // Bundles are built straight into the staging folder: dist/ is rebuilt by every `npm test`.
  run(process.execPath, [join(root, 'scripts/build.mjs'), '--production', '--quiet', '--outdir', join(stage, 'dist')], root);
  for (const p of allowed().filter((x) => x !== 'dist' && !x.startsWith('dist/'))) cpSync(join(root, p), join(stage, p), { recursive: statSync(join(root, p)).isDirectory() });
  run(process.execPath, [join(root, 'node_modules/@vscode/vsce/vsce'), 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out], stage);
} catch (error) {
  console.error(`npm run package: ${error.message}`);
  process.exitCode = 1;
} finally {
  rmSync(stage, { recursive: true, force: true });
}
