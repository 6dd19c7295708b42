import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_SLOTS } from '../../../src/core/profile';
import { SID_ADMINISTRATORS, SID_SYSTEM, WRITE_RIGHTS_MASK } from '../../../src/core/windows/acl';
import { joinWindowsArgs } from '../../../src/core/windows/cmdline';
import { CANCEL_REQUEST_FILE } from '../../../src/core/windows/helperProfile';
import { NTFS_MAX_LINKS } from '../../../src/core/windows/ntfs';
import { HELPER_EXTRA_FLAGS, HELPER_FIXED_OPTIONS, USER_SID } from '../../../src/core/windows/helperProfile';
import { helperTaskArguments } from '../../../src/platform/windows/helperPlan';
import { planFor } from './planFixtures';
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

test('Add-Type compiles native.cs only with TEMP in a folder only administrators can write, after it was checked', () => {
  const l = lines(helper.code);
  const at = (re: RegExp) => l.findIndex((x) => re.test(x));
  const addType = at(/Add-Type/);
  assert.equal(l.filter((x) => /Add-Type/.test(x)).length, 1);
  assert.match(l[addType]!, /Add-Type -TypeDefinition \(\[IO\.File\]::ReadAllText\(\$NativeSource, \$Utf8\)\) -Language CSharp/);
  assert.ok(at(/^\$Tmp = \[IO\.Path\]::Combine\(\$Here, ''\)$/) < at(/^\$env:TEMP = \$Tmp$/));
  assert.ok(at(/^\$env:TEMP = \$Tmp$/) < addType && at(/^\$env:TMP = \$Tmp$/) < addType);
  assert.match(helper.text, /^\$Tmp = \[IO\.Path\]::Combine\(\$Here, 'tmp'\)$/m);
  assert.match(helper.text, /^\$NativeSource = \[IO\.Path\]::Combine\(\$Here, 'native\.cs'\)$/m);
  const trust = at(/foreach \(\$d in \[IO\.Path\]::GetDirectoryName\(\$Here\), \$Here, \$Tmp\)/);
  assert.ok(trust > 0 && trust < addType, 'the root, the install folder and tmp are checked before compiling');
  assert.match(l[trust + 1]!, /Test-AdminOnlyBeforeNative \$d/);
  // That pre-check looks at the raw DACL for the entries .NET's rules skip (review L1).
  const pre = /^function Test-AdminOnlyBeforeNative[\s\S]*?^\}$/m.exec(helper.text)![0];
  assert.match(pre, /RawSecurityDescriptor\]::new\(\$sd\.GetSecurityDescriptorBinaryForm\(\), 0\)/);
  assert.match(pre, /\$ace -isnot \[Security\.AccessControl\.CommonAce\] -or \$ace\.IsCallback\) \{ return \$false \}/);

  // The installer: native.cs checked against install.json, TEMP in a fresh folder made with an
  // administrators-only descriptor under an unguessable name, then Add-Type.
  const il = installer.text.split('\n').map((l) => l.trim());
  const iat = (re: RegExp) => il.findIndex((x) => re.test(x));
  const hash = iat(/Get-Sha256 \$nativeBytes\) -cne \$nativeEntry\[0\]\.sha256/);
  const work = iat(/^\$Script:Work = \[IO\.Path\]::Combine\(\$ProgramDataDir, "Shadow Slots\.work-\$\(\[Guid\]::NewGuid\(\)/);
  const create = iat(/CreateDirectory\(\$Script:Work, \$workSecurity\)/);
  const temp = iat(/^\$env:TEMP = \$Script:Work$/);
  const add = iat(/Add-Type -TypeDefinition \(\$Utf8\.GetString\(\$nativeBytes\)\)/);
  assert.ok(hash > 0 && hash < work && work < create && create < temp && temp < add, `${hash} ${work} ${create} ${temp} ${add}`);
  assert.match(installer.text, /SetSecurityDescriptorSddlForm\('O:BAD:P\(A;OICI;FA;;;SY\)\(A;OICI;FA;;;BA\)'/);
  assert.equal(il.filter((x) => /Add-Type -/.test(x)).length, 1);
});

test('helper.ps1: system tools come from the system folder; rsync runs from the installed copy with a clean environment', () => {
  assert.match(helper.text, /& \(\[IO\.Path\]::Combine\(\$System32, 'taskkill\.exe'\)\)/);
  assert.match(helper.text, /if \(\$r\.exe -ne \[IO\.Path\]::Combine\(\$Here, 'rsync\\usr\\bin\\rsync\.exe'\)\)/);
  assert.match(helper.text, /\$psi\.EnvironmentVariables\.Clear\(\)/);
  assert.match(helper.text, /\$psi\.Arguments = @\(@\(\$Argv\)\.ForEach\(\{ Quote-Arg \$_ \}\)\) -join ' '/);
  // Each file of the copy is hash-checked before a run.
  assert.match(helper.text, /Get-Sha256 \(\[IO\.Path\]::Combine\(\$Here, \$f\.name\.Replace\('\/', '\\'\)\)\)\) -ne \$f\.sha256/);
  assert.match(helper.text, /\[IO\.Path\]::Combine\(\$P\.cancelDir, 'request'\)/);
  // Review L5: the cancel file is made anew (no-follow) and held for the run; its size is read through that handle.
  assert.match(helper.text, /\$Script:Cancel = \[ShadowSlots\.Native\]::CreateCancelFile\(\$CancelFile\)/);
  assert.match(helper.text, /if \(\$Script:Cancel\.Length -gt 0\)/);
  assert.equal(CANCEL_REQUEST_FILE, 'request');
});

test('helper.ps1: finding 4 - the profile check refuses a double quote in every rsync value, and Quote-Arg refuses it too', () => {
  assert.match(helper.text, /function Test-RsyncArg\(\[string\]\$a\) \{ -not \(\$a\.Contains\('"'\) -or \$a -match '\[\\x00-\\x1f\\x7f\]'\) \}/);
  const assertProfile = helper.text.slice(helper.text.indexOf('function Assert-Profile'), helper.text.indexOf('# rsyncArgProblem'));
  for (const field of ['$r.linkDest', '$r.$k', '$r.snapshotSuffix']) assert.ok(assertProfile.includes(`Test-RsyncArg ${field}`), field);
  assert.ok(assertProfile.includes('Test-HelperOption $o'));
  assert.match(helper.text, /function Test-HelperOption\(\[string\]\$o\) \{\r?\n.*\r?\n {2}\(Test-RsyncArg \$o\) -and/);
  assert.match(helper.text, /function Quote-Arg\(\[string\]\$a\) \{\r?\n {2}if \(-not \(Test-RsyncArg \$a\)\) \{ throw/);
});

test('helper.ps1: review L2 - the option allow-list and the requester rule are the TypeScript ones', () => {
  const list = /\$HelperFixedOptions = @\(([^)]*)\)/.exec(helper.text)![1]!.split(', ').map((x) => x.slice(1, -1));
  assert.deepEqual(list, [...HELPER_FIXED_OPTIONS, ...HELPER_EXTRA_FLAGS]);
  assert.ok(helper.text.includes(`$p.requester -cnotmatch '${USER_SID.source}'`));
  assert.ok(installer.text.includes(`$stored.requester -cnotmatch '${USER_SID.source}'`));
});

test('helper.ps1: finding 5 - the target is pinned from the drive down, owned by the requester; only trees the helper made are deleted', () => {
  assert.match(helper.text, /\$targetPins = \[ShadowSlots\.Native\]::PinPath\(\$P\.target\)/);
  const removeTree = helper.text.slice(helper.text.indexOf('function Remove-Tree'), helper.text.indexOf('function Remove-Link'));
  assert.ok(removeTree.indexOf('[ShadowSlots.Native]::Pin($Dir)') < removeTree.indexOf('Test-HelperMade $Dir'));
  assert.match(removeTree, /if \(-not \(Test-HelperMade \$Dir\)\) \{ Log .*; return \$false \}/);
  // The only recursive deletes are inside Remove-Tree (helper-made trees) and the installer's own folder.
  assert.equal([...helper.code.matchAll(/Delete\([^)]*\$true\)/g)].length, 1);
  assert.match(helper.text, /Assert-SourceIsRequesters \$Script:Link/);
  assert.match(helper.text, /\$scan = \[ShadowSlots\.Native\]::ScanSource\(\$shadowSource, \$P\.requester\)/);
  assert.match(helper.text, /\$argv\.Add\("--exclude-from=\$\(\$Stored\.rsync\.excludeFromPrefix\)\$Id\.exclude"\)/);
  assert.match(helper.text, /^ {2}\$argv = Get-RsyncArgv \$P \$RunId \$linkDest$/m);
  // Review M2: the target's owner must be the requester; its DACL and the ring folders' are read raw through the pins.
  assert.match(helper.text, /if \(\$Script:TargetHasAcls\) \{ Assert-TargetAccess \$targetPins\[\$targetPins\.Count - 1\] \$P\.target \}/);
  assert.match(helper.text, /if \(\$Script:TargetHasAcls\) \{ Assert-TargetAccess \$pin \$d -Meta \}/);
  assert.match(helper.text, /if \(-not \$Meta -and \$sd\.Owner\.Value -ne \$P\.requester\) \{/);
  assert.match(helper.text, /if \(\$P\.target\.StartsWith\('\\\\'\)\) \{ Assert-RemoteTarget \$P\.target \}/);
  // Files the user can write are read only as plain single-name files.
  assert.equal([...helper.code.matchAll(/Read-UserJson \$(\w+)/g)].map((m) => m[1]).sort().join(','), 'JournalFile,LockFile,RingFile');
});

test('helper.ps1: review M1 - no file is created or written by path; everything in the ring goes through CreateNew', () => {
  // Every .NET or cmdlet call that creates or writes a file by path, with its first argument.
  const creators = /\[IO\.File\]::(Open|Create|CreateText|WriteAllText|WriteAllBytes|WriteAllLines|AppendAllText|AppendText|Copy|Move|Replace)\((\$[\w:]+)|\[IO\.(?:FileStream|StreamWriter|FileInfo)\]::new\((\$[\w:]+)|\b(?:New-Item|Set-Content|Add-Content|Out-File)\b/g;
  const found = [...helper.code.matchAll(creators)].map((m) => `${m[1] ?? 'new'} ${m[2] ?? m[3] ?? m[0]}`);
  // Only files in the administrators-only install folder (state, tmp) are written by path.
  assert.deepEqual(found.sort(), ['AppendAllText $Script:LogFile', 'WriteAllText $Script:LogFile', 'WriteAllText $excludeFile'].sort());
  assert.match(helper.text, /^\s+\$Script:LogFile = \[IO\.Path\]::Combine\(\$P\.stateDir, 'helper\.log'\)$/m);
  assert.match(helper.text, /^ {2}\$excludeFile = \[IO\.Path\]::Combine\(\$Tmp, "\$RunId\.exclude"\)$/m);
  const atomic = /^function Write-Atomic[\s\S]*?^\}$/m.exec(helper.text)![0];
  assert.match(atomic, /\$fs = \[ShadowSlots\.Native\]::CreateNew\(\$tmp\)/);
  assert.match(atomic, /\$tmp = "\$Path\.tmp-\$\(\[Guid\]::NewGuid\(\)\.ToString\('N'\)\)"/);
  assert.match(helper.text, /\$fs = \[ShadowSlots\.Native\]::CreateNew\(\$LockFile\)/);
  assert.match(helper.text, /\[IO\.StreamWriter\]::new\(\[ShadowSlots\.Native\]::CreateNew\(\$ChangesFile\), \$Utf8\)/);
  assert.match(helper.text, /Invoke-Rsync @\(\$argv\) \(\[IO\.Path\]::Combine\(\$Meta, "changes\\\$RunId\.log"\)\)/);
  // A server ring's change log is made in tmp (administrators only), then sent to the server.
  assert.match(helper.text, /\$Script:LocalChanges = \[IO\.Path\]::Combine\(\$Tmp, "\$RunId\.changes"\)/);
  // Entries are removed without following them (DeleteName opens with FILE_FLAG_OPEN_REPARSE_POINT).
  assert.doesNotMatch(helper.code, /\[IO\.File\]::Delete\(\$(LockFile|f)\)/);
  const native = readFileSync(join(dir, 'native.cs'), 'utf8');
  const createNew = /public static FileStream CreateNew[\s\S]*?\n {8}\}/.exec(native)![0];
  assert.match(createNew, /CREATE_NEW, FILE_FLAG_OPEN_REPARSE_POINT \| FILE_ATTRIBUTE_NORMAL/);
  assert.match(createNew, /info\.Links != 1/);
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

test('security descriptors are written whole through a checked handle; .NET writes them only for the installer\'s fresh work folder', () => {
  assert.doesNotMatch(helper.code, /SetAccessControl|SetSecurityDescriptorSddlForm|takeown/i);
  assert.doesNotMatch(installer.code, /SetAccessControl|takeown/i);
  const calls = [...installer.text.matchAll(/SetSecurityDescriptorSddlForm\((.*)$/gm)].map((m) => m[1]);
  assert.equal(calls.length, 1);
  assert.match(calls[0]!, /, \[Security\.AccessControl\.AccessControlSections\]'Owner, Access'\)$/);
  const native = readFileSync(join(dir, 'native.cs'), 'utf8');
  assert.match(native, /SetKernelObjectSecurity\(h, OWNER_SECURITY_INFORMATION \| DACL_SECURITY_INFORMATION, Binary\(new RawSecurityDescriptor\(sddl\)\)\)/);
  assert.match(native, /FILE_FLAG_BACKUP_SEMANTICS \| FILE_FLAG_OPEN_REPARSE_POINT, IntPtr\.Zero\);\r?\n {12}if \(h\.IsInvalid\) throw Error\("Cannot open " \+ path\);\r?\n {12}HandleInfo info = Info\(h, path\);\r?\n {12}if \(\(info\.Attributes & ATTRIBUTE_REPARSE_POINT\) != 0 && !dataReparse\)/);
});

test('Test-AdminOnly is the same in both scripts (each is a single constant file, so it is repeated, not shared)', () => {
  const fn = (text: string) => /^function Test-AdminOnly\(.*[\s\S]*?^\}$/m.exec(text)![0];
  assert.equal(fn(helper.text), fn(installer.text));
  assert.match(fn(helper.text), /\[ShadowSlots\.Acl\]::WriteProblem\(\[ShadowSlots\.Native\]::Security\(\$h\)/);
});

test('helper.ps1: constants mirror the TypeScript ones', () => {
  assert.match(helper.text, new RegExp(`^\\$MaxSlots = ${MAX_SLOTS}$`, 'm'));
  assert.match(helper.text, new RegExp(`^\\$NtfsMaxLinks = ${NTFS_MAX_LINKS}$`, 'm'));
});

test('install.ps1: review H2 - a root is never adopted: made under a GUID name and renamed into place, or reused only if admin-only; others are set aside through a handle', () => {
  const t = installer.text;
  assert.match(t, /elseif \(Test-AdminOnly \$root\) \{ \$reuseRoot = \$true \}\r?\n {2}else \{ Move-Aside \$root \}/);
  assert.match(t, /\$fresh = "\$root\.new-\$\(\[Guid\]::NewGuid\(\)\.ToString\('N'\)\)"/);
  assert.match(t, /try \{ \[ShadowSlots\.Native\]::Rename\(\$h, \$root\) \}/);
  // Rename through the handle of the very folder that was created and checked; fails if the name is taken.
  const native = readFileSync(join(dir, 'native.cs'), 'utf8');
  assert.match(native, /SetFileInformationByHandle\(h, FileRenameInfo, buffer/);
  assert.doesNotMatch(/public static void Rename[\s\S]*?\n {8}\}/.exec(native)![0], /WriteByte\(buffer, 0, 1\)|ReplaceIfExists = true/);
  assert.match(native, /if \(!CreateDirectoryW\(Long\(path\), ref sa\)\) throw Error/);
  // Set-Planned checks the handle it then writes through.
  const setPlanned = /^function Set-Planned[\s\S]*?^\}$/m.exec(t)![0];
  assert.ok(setPlanned.indexOf('WriteProblem') < setPlanned.indexOf('SetSecurity('));
  // Move-Aside: take ownership and rename through one handle, with a unique name; holders named (L6).
  const aside = /^function Move-Aside[\s\S]*?^\}$/m.exec(t)![0];
  assert.match(aside, /SetOwner\(\$h, \$AdminsSid\)/);
  assert.match(aside, /\$aside = "\$Path\.untrusted-\$\(\[Guid\]::NewGuid\(\)\.ToString\('N'\)\)"/);
  assert.match(aside, /Rename\(\$h, \$aside\)/);
  assert.match(aside, /Get-Holders/);
  assert.match(t, /if \(-not \(Test-AdminOnly \$M\.installDir\)\) \{ Move-Aside \$M\.installDir; return \}/);
  assert.ok(t.indexOf('if (-not (Test-AdminOnly $M.installDir))') < t.indexOf("'shadows.json'"), 'shadows.json is read only from a trusted folder');
  assert.match(t, /\$ProgramDataDir = \[Environment\]::GetFolderPath\(\[Environment\+SpecialFolder\]::CommonApplicationData\)/);
  // A recursive delete only of a tree no one else can write (one could hold a junction swapped in mid-walk).
  const recursive = t.split('\n').filter((l) => /Delete\([^)]*\$true\)/.test(l) && !/Script:Work/.test(l));
  assert.equal(recursive.length, 2);
  for (const l of recursive) assert.match(l, /Test-TreeAdminOnly \$M\.installDir\)+ \{ \[IO\.Directory\]::Delete\(\$M\.installDir, \$true\) \}/);
});

test('install.ps1: review H1 - rsync is read from its checked location and compared with the plan\'s hashes; the staged copy is not installed', () => {
  const t = installer.text;
  assert.match(t, /\$bytes = \[ShadowSlots\.Native\]::ReadFromAdminLocation\(\[string\]\$f\.from, \[ref\]\$problem, \[ref\]\$where\)/);
  assert.match(t, /if \(\(Get-Sha256 \$bytes\) -cne \$f\.sha256\) \{ Fail 11/);
  assert.match(t, /\$fileNames = if \(\$Remote\) \{ '\^\(helper\\\.ps1\|native\\\.cs\|profile\\\.json\|task\\\.xml\|rsync\/etc\/fstab\|ssh\/ssh_config\|ssh\/known_hosts\)\$' \} else \{ '\^\(helper\\\.ps1\|native\\\.cs\|profile\\\.json\|task\\\.xml\|rsync\/etc\/fstab\)\$' \}/);
  assert.match(t, /\$f\.name -cnotmatch \$fileNames -or/);
  const native = readFileSync(join(dir, 'native.cs'), 'utf8');
  const read = /public static byte\[\] ReadFromAdminLocation[\s\S]*?\n {8}\}/.exec(native)![0];
  assert.match(read, /new string\[\] \{ Acl\.Administrators, Acl\.LocalSystem, Acl\.TrustedInstaller \}/);
  assert.match(read, /last \|\| rsyncFolder \? Acl\.WriteRights : Acl\.ReplaceRights/);
  assert.match(read, /if \(problem != null\) return null;\r?\n {24}using \(FileStream s = new FileStream\(h, FileAccess\.Read\)\)/);
});

test('install.ps1: the task must run the installed helper with the system\'s PowerShell, as planned, on demand, with the planned settings', () => {
  const plan = planFor({ source: 'C:\\src\\p', target: 'D:\\B' });
  const helperPath = 'C:\\ProgramData\\Shadow Slots\\p\\helper.ps1';
  const want = /\$wantActions = "(.*)"\r?\n/.exec(installer.text)![1]!;
  const args = /Actions\/Exec\/Arguments=(.*?)`n/.exec(want)![1]!.replace('`"$helper`"', `"${helperPath}"`);
  assert.equal(args, joinWindowsArgs(helperTaskArguments(helperPath)));
  assert.match(installer.text, /\$powershell = \[IO\.Path\]::Combine\(\$System32, 'WindowsPowerShell\\v1\.0\\powershell\.exe'\)/);
  assert.match(installer.text, /\$sddl = "O:BAD:P\(A;;FA;;;SY\)\(A;;FA;;;BA\)\(A;;FRFX;;;\$\(\$stored\.requester\)\)"/);
  // The settings the installer requires are the planner's, leaf for leaf.
  const xml = plan.taskXml;
  const settings = /<Settings>([\s\S]*?)<\/Settings>/.exec(xml)![1]!;
  const leaves: string[] = [];
  for (const m of settings.matchAll(/<(\w+)>([^<]*)<\/\1>|<(\w+)>|<\/(\w+)>/g)) {
    if (m[1]) leaves.push(`${leaves.length && settings.slice(0, m.index).lastIndexOf('<IdleSettings>') > settings.slice(0, m.index).lastIndexOf('</IdleSettings>') ? 'IdleSettings/' : ''}${m[1]}=${m[2]}`);
  }
  assert.equal(/\$TaskSettings = '(.*)'/.exec(installer.text)![1], leaves.join(';'));
  assert.match(xml, /<Triggers \/>/);
  // The schtasks argv is the installer's own, and the plan's copy says the same.
  assert.match(installer.text, /\$Register = @\('\/Create', '\/XML', \$TaskXmlPath, '\/TN', \$M\.taskName, '\/F'\)/);
  assert.deepEqual(plan.manifest.register.slice(1), ['/Create', '/XML', 'C:\\ProgramData\\Shadow Slots\\p\\task.xml', '/TN', '\\Shadow Slots\\helper-p', '/F']);
  assert.deepEqual(plan.manifest.unregister.slice(1), ['/Delete', '/TN', '\\Shadow Slots\\helper-p', '/F']);
  assert.doesNotMatch(installer.code, /Invoke-Argv|\$M\.(register|unregister|run)\b(?!\))/);
});

test('install.ps1: the installer\'s message reaches the unelevated side through a new file in staging (UAC cannot redirect output)', () => {
  const fail = /^function Fail[\s\S]*?^\}$/m.exec(installer.text)![0];
  assert.match(fail, /Write-Message \$Message/);
  const write = /^function Write-Message[\s\S]*?^\}$/m.exec(installer.text)![0];
  assert.match(write, /\[ShadowSlots\.Native\]::CreateNew\(\[IO\.Path\]::Combine\(\$Staging, 'installer-message\.txt'\)\)/);
  const elevated = readFileSync(join(dir, '..', 'elevatedHelper.ts'), 'utf8');
  assert.match(elevated, /readFile\(path\.join\(staging, 'installer-message\.txt'\), 'utf8'\)/);
});

test('native.cs: review L9c - a target below a volume mount point is named as such, with what to do', () => {
  const native = readFileSync(join(dir, 'native.cs'), 'utf8');
  const open = /static SafeFileHandle Open\(string path, uint access, uint share, bool folder, bool dataReparse\)[\s\S]*?\n {8}\}/.exec(native)![0];
  assert.match(open, /string mount = MountedVolume\(h\);/);
  assert.match(open, /is a mount point of another volume \(" \+ mount \+ "\); the elevated helper does not follow mount points\. Give the path on that volume by its own drive letter/);
  assert.match(native, /target\.StartsWith\(@"\\\?\?\\Volume\{", StringComparison\.OrdinalIgnoreCase\)/);
});

test('native.cs: the source scan stops on any folder it cannot list and opens data-holding reparse points (dedup, cloud) as files, never following one', () => {
  const native = readFileSync(join(dir, 'native.cs'), 'utf8');
  const list = /static List<KeyValuePair<string, uint\[\]>> List\([\s\S]*?\n {8}\}/.exec(native)![0];
  assert.match(list, /if \(Marshal\.GetLastWin32Error\(\) == ERROR_NO_MORE_FILES\) break;\r?\n\s+throw Error\("Cannot list " \+ path\);/);
  const scan = /public static SourceScan ScanSource[\s\S]*?\n {8}\}/.exec(native)![0];
  assert.match(scan, /if \(\(e\.Value\[0\] & ATTRIBUTE_REPARSE_POINT\) != 0 && Redirects\(e\.Value\[1\]\)\)/);
  assert.match(scan, /if \(CygwinNames\.Problem\(child\) != null\) scan\.Unmatchable\.Add\(child\);/);
  assert.match(scan, /if \(!CanRead\(context, f, readable\)\) scan\.Unreadable\.Add\(child\);/);
  assert.doesNotMatch(scan, /catch/, 'no failure under the source is skipped');
});

