// Review 15b of the helper's run to a server (/work/notes is not in the repo; the findings are
// named in each test): the runtime's mount table and DLL (finding 1), the escaping of server text
// (finding 5), the lock put back by link(2) (finding 6, run with dash and busybox ash) and the
// installer's ssh-keygen environment (finding 8). What only Windows can run is checked by its
// structure here and by golden pairs and steps in .github/workflows/windows-vss.yml.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatName } from '../../../src/core/displayName';
import { helperRemoteScript } from '../../../src/core/serverScripts';
import { rsyncFstab } from '../../../src/platform/windows/rsyncRuntime';

const assets = join(__dirname, '../../../src/platform/windows/assets');
const helper = readFileSync(join(assets, 'helper.ps1'), 'utf8');
const installer = readFileSync(join(assets, 'install.ps1'), 'utf8');
const SHELLS = ['/bin/dash', '/usr/bin/busybox'].filter((s) => existsSync(s));
const fn = (text: string, name: string) => new RegExp(`^function ${name}\\b[^\\n]*\\{( .* \\}|\\r?\\n[\\s\\S]*?^\\})$`, 'm').exec(text)?.[0];

test('review 15b finding 1: helper.ps1 and install.ps1 hold the same Get-RsyncFstab (rsyncFstab\'s text) and Get-RuntimeFlavorProblem', () => {
  for (const name of ['Get-RsyncFstab', 'Get-RuntimeFlavorProblem']) {
    assert.ok(fn(helper, name) !== undefined, name);
    assert.equal(fn(installer, name), fn(helper, name), `install.ps1's ${name} is helper.ps1's`);
  }
  // The text of each flavor, as the PowerShell builds it (golden pairs run it on Windows).
  const body = fn(helper, 'Get-RsyncFstab')!;
  const template = /^ {2}"(none \$prefix cygdrive [^"]*)`n"$/m.exec(body)![1]!;
  for (const [flavor, prefix] of [['cygwin', '/cygdrive'], ['msys2', '/']] as const) {
    assert.match(body, new RegExp(`\\$Flavor -ceq '${flavor}'\\) \\{ \\$prefix = '${prefix.replace('/', '\\/')}' \\}`));
    assert.equal(`${template.replace('$prefix', prefix)}\n`, rsyncFstab(flavor));
  }
});

test('review 15b finding 1: helper.ps1 refuses another mount table or a runtime DLL of the other flavor before it starts any process, for every ring', () => {
  const main = helper.slice(helper.indexOf('\n$exit = 0\n'));
  const check = main.indexOf("if (-not [IO.File]::Exists($fstab) -or [Convert]::ToBase64String([IO.File]::ReadAllBytes($fstab)) -cne [Convert]::ToBase64String($Utf8.GetBytes((Get-RsyncFstab $P.rsync.flavor)))) { Stop-Helper 2");
  const flavor = main.indexOf('$runtimeProblem = Get-RuntimeFlavorProblem $P.rsync.flavor @(@($P.rsync.files).ForEach({ $_.name }))');
  assert.ok(check > 0 && flavor > check, 'both checks are in the run');
  assert.ok(main.indexOf('if ($null -ne $runtimeProblem) { Stop-Helper 2') > flavor);
  // Right after the profile is read: before Add-Type (csc), the job, any Process::Start, and not only for a server.
  assert.ok(check > main.indexOf('Assert-Profile $P'));
  for (const later of ['Microsoft.PowerShell.Utility\\Add-Type', '[ShadowSlots.ProcessJob]::KillChildrenWithThisProcess()', 'Initialize-ServerRing', 'if ($Remote) {']) {
    assert.ok(main.indexOf(later) > flavor, `${later} comes after the checks`);
  }
  assert.ok(!main.slice(0, check).includes('Process]::Start'), 'no process before');
  assert.ok(!/if \(\$Remote\)[^\n]*\n[^\n]*\$fstab/.test(main), 'not only for a server ring');
  // The flavor itself is checked with the profile.
  assert.match(fn(helper, 'Assert-Profile')!, /if \(\$r\.flavor -isnot \[string\] -or \(\$r\.flavor -cne 'cygwin' -and \$r\.flavor -cne 'msys2'\)\) \{ & \$bad 'rsync\.flavor' \}/);
});

test('review 15b finding 1: install.ps1 installs its own mount table, never staging\'s, and refuses a plan hashing other bytes before it changes anything', () => {
  const firstChange = installer.indexOf('\nRemove-Installed\n');
  const steps = [
    '$FstabBytes = $Utf8.GetBytes((Get-RsyncFstab $flavor))',
    "if ($fstabEntry.Count -ne 1 -or $fstabEntry[0].sha256 -cne (Get-Sha256 $FstabBytes)) { Fail 10",
    '$runtimeProblem = Get-RuntimeFlavorProblem $flavor @($rsyncFiles.ForEach({ [string]$_.name }))',
    'if ($null -ne $runtimeProblem) { Fail 10',
  ];
  let last = 0;
  for (const step of steps) {
    const at = installer.indexOf(step);
    assert.ok(at > last && at < firstChange, step);
    last = at;
  }
  // After native.cs is loaded (the message reaches the unelevated side) and in install mode.
  assert.ok(installer.indexOf('Microsoft.PowerShell.Utility\\Add-Type') < installer.indexOf(steps[0]!));
  assert.match(installer, /if \(\$Mode -eq 'install'\) \{\n {2}\$planned = [^\n]*\n {2}\$flavor = \[string\]\$planned\.rsync\.flavor\n/);
  // The copy loop takes the fixed bytes for the mount table, staging's for the rest.
  assert.match(installer, /\$bytes = if \(\$f\.name -ceq 'rsync\/etc\/fstab'\) \{ \$FstabBytes \} else \{ \[IO\.File\]::ReadAllBytes/);
  assert.match(installer, /foreach \(\$required in @\('helper\.ps1', 'native\.cs', 'profile\.json', 'task\.xml', 'rsync\/usr\/bin\/rsync\.exe', 'rsync\/etc\/fstab'\)/);
});

test('review 15b finding 8: install.ps1 runs ssh-keygen with a cleared environment, as New-RsyncStart runs rsync', () => {
  const key = fn(installer, 'New-TaskKey')!;
  const start = fn(helper, 'New-RsyncStart')!;
  const envLines = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => /EnvironmentVariables/.test(l)).map((l) => l.replace(/^\$\w+\./, '').replace(/ = .*/, ''));
  assert.deepEqual(envLines(key), envLines(start));
  assert.equal(envLines(key)[0], 'EnvironmentVariables.Clear()');
  assert.ok(key.indexOf('EnvironmentVariables.Clear()') < key.indexOf('[Diagnostics.Process]::Start($info)'));
  assert.match(key, /EnvironmentVariables\['CYGWIN'\] = 'noglob'/);
  assert.match(key, /EnvironmentVariables\['PATH'\] = \[IO\.Path\]::GetDirectoryName\(\$exe\) \+ ';' \+ \$System32/);
});

test('review 15b finding 5: Format-Name and formatName escape C1 controls, DEL and the invisible or reordering format characters', () => {
  assert.equal(formatName('a\u009b[2Jb'), 'a\\u009B[2Jb');
  assert.equal(formatName('x\u202ey\u2066z\u200b\ufeff\u2028'), 'x\\u202Ey\\u2066z\\u200B\\uFEFF\\u2028');
  assert.equal(formatName('\u007f\u0085'), '\\u007F\\u0085');
  assert.equal(formatName('ü 日本 \u00a0 \u202f'), 'ü 日本 \u00a0 \u202f');
  const body = fn(helper, 'Format-Name')!;
  for (const range of ['($c -ge 0x7F -and $c -le 0x9F)', '($c -ge 0x200B -and $c -le 0x200F)', '($c -ge 0x2028 -and $c -le 0x202E)', '($c -ge 0x2066 -and $c -le 0x2069)', '$c -eq 0xFEFF']) assert.ok(body.includes(range), range);
});

/** Runs a script of the lock put-back with a set-aside lock and, when `taken`, a lock a third run published meanwhile. */
function restore(sh: string, script: (aside: string, lock: string) => string, taken: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'ss-lockrestore-'));
  try {
    const lock = join(dir, "lo'ck $x");
    const aside = `${lock}.stale-1-abc`;
    writeFileSync(aside, '{"pid":2,"host":"b"}\n');
    if (taken) writeFileSync(lock, '{"pid":3,"host":"c"}\n');
    const r = spawnSync(sh, sh.endsWith('busybox') ? ['sh'] : [], { input: script(aside, lock), encoding: 'utf8' });
    return { status: r.status, lock: existsSync(lock) ? readFileSync(lock, 'utf8') : null, left: readdirSync(dir).length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('review 15b finding 6: a lock set aside by mistake is put back by link(2): a third run\'s fresh lock is never overwritten (helper script and engine, dash and busybox)', { skip: SHELLS.length === 0 ? 'no dash or busybox here' : false }, () => {
  const scripts = { 'helper and engine': (a: string, l: string) => helperRemoteScript('lockRestore', [a, l]) };
  for (const sh of SHELLS) {
    for (const [who, script] of Object.entries(scripts)) {
      // The name is free: the lock is back, the aside name gone.
      assert.deepEqual(restore(sh, script, false), { status: 0, lock: '{"pid":2,"host":"b"}\n', left: 1 }, `${who} ${sh}`);
      // A third run published meanwhile: its lock stays (mv -f would have replaced it), exit 1.
      assert.deepEqual(restore(sh, script, true), { status: 1, lock: '{"pid":3,"host":"c"}\n', left: 1 }, `${who} ${sh}`);
    }
  }
  // Both lock take-overs use it; neither puts a lock back with mv.
  assert.match(fn(helper, 'Lock-ServerRing')!, /Invoke-Server 'lockRestore' @\(\$aside, \$Srv\.lock\) @\(1\)/);
  assert.doesNotMatch(fn(helper, 'Lock-ServerRing')!, /Invoke-Server 'move'/);
  const engine = readFileSync(join(__dirname, '../../../src/platform/target/remoteLock.ts'), 'utf8');
  assert.match(engine, /await conn\.exec\(helperRemoteScript\('lockRestore', \[aside, lockFile\]\)\)/);
  assert.doesNotMatch(engine, /mv -f -- \$\{shQuote\(aside\)\}/);
});
