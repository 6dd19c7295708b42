import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_SLOTS } from '../../../src/core/profile';
import { SID_ADMINISTRATORS, SID_CREATOR_OWNER, SID_OWNER_RIGHTS, SID_SYSTEM, WRITE_RIGHTS_MASK } from '../../../src/core/windows/acl';
import { joinWindowsArgs } from '../../../src/core/windows/cmdline';
import { CANCEL_REQUEST_FILE } from '../../../src/core/windows/helperProfile';
import { NTFS_MAX_LINKS } from '../../../src/core/windows/ntfs';
import { helperTaskArguments } from '../../../src/platform/windows/helperPlan';
import { lexPowerShell, unqualifiedCommands } from './psLexer';

/**
 * PowerShell is not installable on this machine (no Debian package), so the scripts' real parser
 * check and their runs are in .github/workflows/windows-vss.yml. These checks catch what can be
 * caught without it, including what issue 12 asks of the elevated scripts.
 */
const dir = join(__dirname, '../../../src/platform/windows/assets');
const scripts = ['helper.ps1', 'install.ps1'].map((name) => {
  const text = readFileSync(join(dir, name), 'utf8');
  return { name, text, code: lexPowerShell(text).code };
});
const helper = scripts[0]!;
const installer = scripts[1]!;
const lines = (code: string) => code.split('\n').map((l) => l.trim()).filter((l) => l !== '');

for (const { name, text, code } of scripts) {
  test(`${name}: ASCII only (Windows PowerShell 5.1 reads a BOM-less script in the ANSI code page)`, () => {
    const bad = [...text].findIndex((c) => c.charCodeAt(0) > 0x7e || (c.charCodeAt(0) < 0x20 && c !== '\n' && c !== '\r'));
    assert.equal(bad, -1, `non-ASCII at offset ${bad}: ${JSON.stringify(text.slice(bad - 20, bad + 20))}`);
  });

  test(`${name}: balanced delimiters outside strings, here-strings and comments`, () => {
    assert.equal(lexPowerShell(text).error, undefined);
  });

  test(`${name}: no code is built from strings and no shell is involved`, () => {
    for (const banned of [/Invoke-Expression/i, /\biex\b/i, /cmd(\.exe)?\s+\/c/i, /\[ScriptBlock\]::Create/i, /-EncodedCommand/i, /Start-Process/i, /\$ExecutionContext\.InvokeCommand/i, /vssadmin\s+delete/i, /delete shadows/i, /icacls/i]) {
      assert.doesNotMatch(code, banned, `${name} contains ${banned}`);
    }
  });

  test(`${name}: finding 3 - module path and temp folder reset first; no other environment value is read`, () => {
    const statements = lines(code).filter((l) => !l.startsWith('param(') && !/^\[(Parameter|ValidateSet)/.test(l) && l !== ')');
    assert.equal(statements[0], "$env:PSModulePath = [IO.Path]::Combine($PSHOME, '')", 'first statement');
    const env = [...code.matchAll(/\$env:(\w+)(\s*=)?/gi)].map((m) => `${m[1]}${m[2] ? ' =' : ''}`);
    assert.ok(env.every((e) => /^(PSModulePath|TEMP|TMP) =$/.test(e)), `reads ${env.join(', ')}`);
    for (const banned of [/GetEnvironmentVariable/i, /ExpandEnvironmentVariables/i, /%SystemRoot%|%windir%|%ProgramData%|%TEMP%/i, /\$PSModuleAutoLoadingPreference/]) {
      assert.doesNotMatch(code, banned);
    }
    assert.match(code, /\[Environment\]::SystemDirectory/);
  });

  test(`${name}: finding 3 - every cmdlet is called module-qualified`, () => {
    assert.deepEqual(unqualifiedCommands(code), []);
  });

  test(`${name}: constants mirror the TypeScript ones`, () => {
    const constant = (n: string) => (new RegExp(`^\\$${n} = (.+)$`, 'm').exec(text) ?? [])[1];
    assert.equal(constant('AdminsSid'), `'${SID_ADMINISTRATORS}'`);
    assert.equal(constant('SystemSid'), `'${SID_SYSTEM}'`);
    assert.equal(Number(constant('WriteRights')), WRITE_RIGHTS_MASK);
  });
}

test('the lexer and the cmdlet check find what they look for', () => {
  assert.match(lexPowerShell('if ($a) { "x $($b.c) y" ').error!, /unclosed/);
  assert.match(lexPowerShell('foo(]').error!, /closes/);
  assert.equal(lexPowerShell("'(' + \"[`\"\" + $(@{ a = ')' }) + '}' # ) \n<# { #>\n$x = @'\n} ' (\n'@\n").error, undefined);
  assert.match(lexPowerShell(helper.text.slice(0, helper.text.lastIndexOf('}'))).error!, /unclosed/);
  assert.match(lexPowerShell('$a = "x $env:SystemRoot\\y"').code, /\$env:SystemRoot/);
  assert.deepEqual(unqualifiedCommands(lexPowerShell('Get-ChildItem x; Microsoft.PowerShell.Management\\Get-Item y; Evil\\Get-Item z; function Do-Thing {}; Do-Thing; "Get-Nothing"; $a -ErrorAction Stop').code), ['Get-ChildItem', 'Evil\\Get-Item']);
});

test('helper.ps1: Add-Type compiles only in the admin-only install folder, after that folder was checked', () => {
  const l = lines(helper.code);
  const at = (re: RegExp) => l.findIndex((x) => re.test(x));
  const addType = at(/Add-Type/);
  assert.equal(l.filter((x) => /Add-Type/.test(x)).length, 1);
  assert.ok(at(/^\$Tmp = \[IO\.Path\]::Combine\(\$Here, ''\)$/) < at(/^\$env:TEMP = \$Tmp$/));
  assert.ok(at(/^\$env:TEMP = \$Tmp$/) < addType && at(/^\$env:TMP = \$Tmp$/) < addType);
  assert.match(helper.text, /^\$Tmp = \[IO\.Path\]::Combine\(\$Here, 'tmp'\)$/m);
  const trust = at(/foreach \(\$d in \[IO\.Path\]::GetDirectoryName\(\$Here\), \$Here, \$Tmp\)/);
  assert.ok(trust > 0 && trust < addType, 'the root, the install folder and tmp are checked before compiling');
  assert.match(l[trust + 1]!, /Test-AdminOnly \$d/);
  assert.doesNotMatch(installer.code, /Add-Type/);
});

test('helper.ps1: system tools come from the system folder; rsync runs from the installed copy with a clean environment', () => {
  assert.match(helper.text, /& \(\[IO\.Path\]::Combine\(\$System32, 'taskkill\.exe'\)\)/);
  assert.match(helper.text, /if \(\$r\.exe -ne \[IO\.Path\]::Combine\(\$Here, 'rsync\\usr\\bin\\rsync\.exe'\)\)/);
  assert.match(helper.text, /\$psi\.EnvironmentVariables\.Clear\(\)/);
  assert.match(helper.text, /\$psi\.Arguments = @\(@\(\$Argv\)\.ForEach\(\{ Quote-Arg \$_ \}\)\) -join ' '/);
  // Each file of the copy is hash-checked before a run.
  assert.match(helper.text, /Get-Sha256 \(\[IO\.Path\]::Combine\(\$Here, \$f\.name\.Replace\('\/', '\\'\)\)\)\) -ne \$f\.sha256/);
  assert.match(helper.text, /\[IO\.Path\]::Combine\(\$P\.cancelDir, 'request'\)/);
  assert.equal(CANCEL_REQUEST_FILE, 'request');
});

test('helper.ps1: finding 4 - the profile check refuses a double quote in every rsync value, and Quote-Arg refuses it too', () => {
  assert.match(helper.text, /function Test-RsyncArg\(\[string\]\$a\) \{ -not \(\$a\.Contains\('"'\) -or \$a -match '\[\\x00-\\x1f\\x7f\]'\) \}/);
  const assertProfile = helper.text.slice(helper.text.indexOf('function Assert-Profile'), helper.text.indexOf('# rsyncArgProblem'));
  for (const field of ['$o', '$r.linkDest', '$r.$k', '$r.snapshotSuffix']) assert.ok(assertProfile.includes(`Test-RsyncArg ${field}`), field);
  assert.match(helper.text, /function Quote-Arg\(\[string\]\$a\) \{\r?\n {2}if \(-not \(Test-RsyncArg \$a\)\) \{ throw/);
});

test('helper.ps1: finding 5 - the target is pinned from the drive down, links are never followed, only trees the helper made are deleted', () => {
  assert.match(helper.text, /foreach \(\$pin in \[ShadowSlots\.Native\]::PinPath\(\$P\.target\)\)/);
  assert.match(helper.text, /FILE_FLAG_BACKUP_SEMANTICS \| FILE_FLAG_OPEN_REPARSE_POINT/);
  assert.match(helper.text, /FILE_SHARE_READ \| FILE_SHARE_WRITE, IntPtr\.Zero, OPEN_EXISTING/, 'pins do not share delete');
  const removeTree = helper.text.slice(helper.text.indexOf('function Remove-Tree'), helper.text.indexOf('function Remove-Link'));
  assert.ok(removeTree.indexOf('[ShadowSlots.Native]::Pin($Dir)') < removeTree.indexOf('Test-HelperMade $Dir'));
  assert.match(removeTree, /if \(-not \(Test-HelperMade \$Dir\)\) \{ Log .*; return \$false \}/);
  // The only recursive deletes are inside Remove-Tree (helper-made trees) and the installer's own folder.
  assert.equal([...helper.code.matchAll(/Delete\([^)]*\$true\)/g)].length, 1);
  assert.match(helper.text, /Assert-SourceIsRequesters \$Script:Link/);
  assert.match(helper.text, /RedirectionsUnder\(\$shadowSource\)/);
  assert.match(helper.text, /\$argv\.Add\("--exclude-from=\$\(\$P\.rsync\.excludeFromPrefix\)\$RunId\.exclude"\)/);
  assert.match(helper.text, /if \(\$Script:TargetHasAcls\) \{ Assert-TargetAccess \$P\.target \}/);
  for (const sid of [SID_CREATOR_OWNER, SID_OWNER_RIGHTS]) assert.ok(helper.text.includes(`'${sid}'`), sid);
  // Files the user can write are read only as plain single-name files.
  assert.equal([...helper.code.matchAll(/Read-UserJson \$(\w+)/g)].map((m) => m[1]).sort().join(','), 'JournalFile,LockFile,RingFile');
});

test('helper.ps1: finding 7 - the intent is recorded before Create, and shadows are deleted only by recorded ID or by the intent rule', () => {
  const intent = helper.text.indexOf('$owned.intents = @(@($owned.intents) + [pscustomobject][ordered]@{ runId = $RunId');
  const create = helper.text.indexOf("CimCmdlets\\Invoke-CimMethod -ClassName Win32_ShadowCopy -MethodName Create");
  assert.ok(intent > 0 && intent < create, 'intent before Create');
  assert.ok(helper.text.indexOf('Set-Owned $owned', intent) < create, 'and written before Create');
  const removals = [...helper.text.matchAll(/CimCmdlets\\Remove-CimInstance -InputObject (\S+)/g)].map((m) => m[1]);
  assert.deepEqual(removals, ['$s', '$candidates[0]']);
  assert.match(helper.text, /foreach \(\$s in Get-Shadows\) \{ if \(\$s\.ID -eq \$Id\) \{ CimCmdlets\\Remove-CimInstance/);
  assert.match(helper.text, /@\(\$owned\.ids\) -notcontains \$Id\) \{ return \}/);
  assert.match(helper.text, /if \(\$candidates\.Count -eq 1\)/);
  assert.match(helper.text, /Invoke-IntentSweep\r?\n/);
  assert.doesNotMatch(helper.code, /-Filter/);
  assert.match(helper.text, /Context = 'ClientAccessible'/);
});

test('security descriptors are applied as owner and DACL only (a SACL would need SeSecurityPrivilege and is not ours to change)', () => {
  for (const { name, text } of scripts) {
    const calls = [...text.matchAll(/SetSecurityDescriptorSddlForm\(([^)]*\))/g)].map((m) => m[1]);
    assert.ok(calls.length > 0, name);
    for (const c of calls) assert.match(c!, /, \[Security\.AccessControl\.AccessControlSections\]'Owner, Access'\)$/, `${name}: ${c}`);
  }
});

test('Test-AdminOnly is the same in both scripts (each is a single constant file, so it is repeated, not shared)', () => {
  const fn = (text: string) => /^function Test-AdminOnly[\s\S]*?^\}$/m.exec(text)![0].split('\n').filter((l) => !/Test-Link/.test(l) && !/^\s*function Get-Security|Get-Security \$Path|GetAccessControl\(\$Path\)/.test(l));
  assert.deepEqual(fn(helper.text), fn(installer.text));
});

test('helper.ps1: constants mirror the TypeScript ones', () => {
  assert.match(helper.text, new RegExp(`^\\$MaxSlots = ${MAX_SLOTS}$`, 'm'));
  assert.match(helper.text, new RegExp(`^\\$NtfsMaxLinks = ${NTFS_MAX_LINKS}$`, 'm'));
});

test('install.ps1: finding 2 - a root made or changeable by someone else is set aside, never read; each folder is written whole and read back', () => {
  const t = installer.text;
  assert.match(t, /\[IO\.Directory\]::SetAccessControl\(\$Folder\.path, \(New-Security \$Folder\.sddl\)\)/);
  assert.match(t, /\$sd\.GetOwner\(\[Security\.Principal\.SecurityIdentifier\]\)\.Value -ne \$AdminsSid -or -not \$sd\.AreAccessRulesProtected -or \(\$got -join ';'\) -cne/);
  assert.match(t, /if \(-not \(Test-AdminOnly \$M\.installDir\)\) \{ Move-Aside \$M\.installDir; return \}/);
  assert.ok(t.indexOf('if (-not (Test-AdminOnly $M.installDir))') < t.indexOf("'shadows.json'"), 'shadows.json is read only from a trusted folder');
  assert.match(t, /if \(\$owner -ne \$AdminsSid -and \$owner -ne \$SystemSid\) \{ Invoke-Argv @\(\$M\.takeOwnership\) 14 \}/);
  assert.match(t, /\$ProgramDataDir = \[Environment\]::GetFolderPath\(\[Environment\+SpecialFolder\]::CommonApplicationData\)/);
  // A recursive delete only of a tree no one else can write (one could hold a junction swapped in mid-walk).
  const recursive = t.split('\n').filter((l) => /Delete\([^)]*\$true\)/.test(l));
  assert.equal(recursive.length, 2);
  for (const l of recursive) assert.match(l, /Test-TreeAdminOnly \$M\.installDir\)+ \{ \[IO\.Directory\]::Delete\(\$M\.installDir, \$true\) \}/);
});

test('install.ps1: the task must run the installed helper with the system\'s PowerShell, exactly as the planner writes it', () => {
  const helperPath = 'C:\\ProgramData\\Shadow Slots\\p\\helper.ps1';
  const template = /\.Arguments -cne "(.*?)" -or/.exec(installer.text)![1]!.replace('`"$helper`"', `"${helperPath}"`);
  assert.equal(template, joinWindowsArgs(helperTaskArguments(helperPath)));
  assert.match(installer.text, /\$powershell = \[IO\.Path\]::Combine\(\$System32, 'WindowsPowerShell\\v1\.0\\powershell\.exe'\)/);
  assert.match(installer.text, /\$sddl = "O:BAD:P\(A;;FA;;;SY\)\(A;;FA;;;BA\)\(A;;FRFX;;;\$\(\$stored\.requester\)\)"/);
});

test('helper.ps1: the native code compiles as C# 5 (what Add-Type on .NET Framework accepts)', (t) => {
  const mcs = spawnSync('mcs', ['--version'], { encoding: 'utf8' });
  if (mcs.status !== 0) { t.skip('mcs (Debian package mono-mcs) is not installed; the Windows workflow compiles it with Add-Type'); return; }
  const source = /\$NativeCode = @'\r?\n([\s\S]*?)\r?\n'@/.exec(helper.text)![1]!;
  const work = mkdtempSync(join(tmpdir(), 'ss-native-'));
  try {
    writeFileSync(join(work, 'native.cs'), source);
    const r = spawnSync('mcs', ['-langversion:5', '-target:library', `-out:${join(work, 'native.dll')}`, join(work, 'native.cs')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /warning/i);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
