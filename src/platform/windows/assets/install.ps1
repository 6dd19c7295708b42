# Shadow Slots: installs or removes the elevated helper of one profile. Run elevated by the
# bootstrap of src/platform/windows/elevation.ts, which read these very bytes and checked them
# against the SHA-256 on its command line. CONSTANT file: everything it does comes from
# install.json, whose SHA-256 arrives the same way, and is checked here again: folders, file
# names, the rsync files' locations, the task XML's action, principal, triggers and settings.
# The schtasks argv is built here, never taken from the plan. Nothing is taken from the
# environment: system folders come from the OS. The native calls are in native.cs (staged beside
# this file, hash-checked against install.json, compiled in a folder only administrators can write).
# Exit codes: 0 done, 10 bad plan, 11 copy/verify failed, 12 a folder's permissions could not be
# set or read back as planned, 13 schtasks failed, 14 the install folder was made by someone else
# and could not be set aside, or was raced, 15 rsync's folder can be changed by non-administrators.
#Requires -Version 5.1
param(
  [Parameter(Mandatory = $true)][string]$Plan,
  [Parameter(Mandatory = $true)][string]$PlanSha256,
  [ValidateSet('install', 'remove')][string]$Mode = 'install'
)
$env:PSModulePath = [IO.Path]::Combine($PSHOME, 'Modules')
Microsoft.PowerShell.Core\Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
trap { Fail 11 $_.Exception.Message }

$System32 = [Environment]::SystemDirectory
$ProgramDataDir = [Environment]::GetFolderPath([Environment+SpecialFolder]::CommonApplicationData)
$Utf8 = [Text.UTF8Encoding]::new($false)
# Mirrors of src/core/windows/acl.ts (test/unit/windows/helperScript.test.ts checks they agree).
$AdminsSid = 'S-1-5-32-544'
$SystemSid = 'S-1-5-18'
$WriteRights = 0x500D0156
# Access masks for the handles below: READ_CONTROL | WRITE_DAC | WRITE_OWNER | SYNCHRONIZE | FILE_READ_ATTRIBUTES,
# and DELETE | READ_CONTROL | WRITE_OWNER | SYNCHRONIZE | FILE_READ_ATTRIBUTES.
$SecurityAccess = [uint32]0x1E0080
$AsideAccess = [uint32]0x1B0080
$ShareReadWrite = [uint32]3

$Script:Cleanup = $null
$Script:Work = $null
$Staging = $null
$planned = $null
# A failed install removes what it made: never a half-installed helper.
function Fail([int]$Code, [string]$Message) {
  [Console]::Error.WriteLine($Message)
  Write-Message $Message
  if ($null -ne $Script:Cleanup) { try { & $Script:Cleanup } catch { [Console]::Error.WriteLine("Cleaning up failed: $($_.Exception.Message)") } }
  Remove-Work
  exit $Code
}
# UAC cannot redirect the elevated process's output, so the message that names the folder, the
# processes or the icacls commands is left in the staging folder for the unelevated side to show:
# created new, never through a link, once native.cs is loaded (earlier failures have fixed texts).
function Write-Message([string]$Message) {
  if ($null -eq $Staging -or $null -eq ('ShadowSlots.Native' -as [type])) { return }
  try {
    $fs = [ShadowSlots.Native]::CreateNew([IO.Path]::Combine($Staging, 'installer-message.txt'))
    try { $bytes = $Utf8.GetBytes($Message); $fs.Write($bytes, 0, $bytes.Length) } finally { $fs.Dispose() }
  } catch { }
}
function Remove-Work { if ($null -ne $Script:Work) { try { [IO.Directory]::Delete($Script:Work, $true) } catch { } } }
function Get-Sha256([byte[]]$Bytes) { [BitConverter]::ToString([Security.Cryptography.SHA256]::Create().ComputeHash($Bytes)).Replace('-', '').ToLowerInvariant() }
# schtasks from the system folder with an argv built here; no shell.
function Invoke-Schtasks([string[]]$Arguments, [int]$FailCode, [switch]$Tolerate) {
  # Not redirected: Windows PowerShell turns a native program's redirected stderr into errors, which stop this script.
  $null = & ([IO.Path]::Combine($System32, 'schtasks.exe')) @Arguments
  if ($LASTEXITCODE -ne 0 -and -not $Tolerate) { Fail $FailCode "schtasks.exe failed with exit code $LASTEXITCODE." }
}
# Attributes of the entry itself (a link is not followed); $null when nothing has the name.
function Get-EntryAttributes([string]$Path) {
  try { [IO.File]::GetAttributes($Path) } catch [IO.FileNotFoundException] { $null } catch [IO.DirectoryNotFoundException] { $null }
}
# Owned by Administrators or SYSTEM and changeable by no one else, read from the raw DACL of a
# handle to the folder itself (a link is refused, not followed).
function Test-AdminOnly([string]$Path) {
  try { $h = [ShadowSlots.Native]::Pin($Path) } catch [IO.IOException] { return $false }
  try { $null -eq [ShadowSlots.Acl]::WriteProblem([ShadowSlots.Native]::Security($h), [string[]]@($AdminsSid, $SystemSid), $WriteRights, $false) } finally { $h.Dispose() }
}
# The folder and every folder below it: only such a tree is deleted recursively (a folder a user
# can write might hold a junction swapped in while the delete walks it).
function Test-TreeAdminOnly([string]$Path) {
  if (-not (Test-AdminOnly $Path)) { return $false }
  foreach ($d in [IO.DirectoryInfo]::new($Path).GetDirectories()) { if (-not (Test-TreeAdminOnly $d.FullName)) { return $false } }
  $true
}
function Assert-Planned($Folder, $Handle) {
  $why = [ShadowSlots.Acl]::PlannedProblem([ShadowSlots.Native]::Security($Handle), $AdminsSid, [string[]]@($Folder.rules))
  if ($null -ne $why) { Fail 12 "The permissions of $($Folder.path) read back differently from what was planned: $why." }
}
# A folder made now: created with its whole descriptor in one call, which fails if anything has
# the name (a folder someone else made is never adopted: review H2), then read back by handle.
function New-Folder($Folder) {
  try { [ShadowSlots.Native]::CreateDirectory($Folder.path, $Folder.sddl) } catch { Fail 14 "$($Folder.path) could not be created ($($_.Exception.Message)); something else has that name." }
  $h = [ShadowSlots.Native]::Pin($Folder.path)
  try { Assert-Planned $Folder $h } finally { $h.Dispose() }
}
# An existing folder only administrators could change: its descriptor is written whole through a
# handle that was checked first, then read back.
function Set-Planned($Folder) {
  $h = [ShadowSlots.Native]::Open($Folder.path, $SecurityAccess, $ShareReadWrite, $true)
  try {
    $why = [ShadowSlots.Acl]::WriteProblem([ShadowSlots.Native]::Security($h), [string[]]@($AdminsSid, $SystemSid), $WriteRights, $false)
    if ($null -ne $why) { Fail 14 "$($Folder.path) changed while the installer ran ($why); try again." }
    try { [ShadowSlots.Native]::SetSecurity($h, $Folder.sddl) } catch { Fail 12 "Could not set the permissions of $($Folder.path): $($_.Exception.Message)" }
    Assert-Planned $Folder $h
  } finally { $h.Dispose() }
}
# Which processes hold an entry open (review L6), by name.
function Get-Holders($Handle) {
  $names = foreach ($id in [ShadowSlots.Native]::ProcessesUsing($Handle)) {
    if ($id -eq $PID) { continue }
    $p = Microsoft.PowerShell.Management\Get-Process -Id $id -ErrorAction SilentlyContinue
    if ($null -ne $p) { "$($p.ProcessName) (process $id)" } else { "process $id" }
  }
  if (@($names).Count -eq 0) { 'no process that could be named' } else { @($names) -join ', ' }
}
# A folder someone else made or can change is never read from: the installer takes ownership of
# that very folder through a handle and renames it aside (a unique name); nothing in it is touched.
function Move-Aside([string]$Path) {
  try { $h = [ShadowSlots.Native]::Open($Path, $AsideAccess, $ShareReadWrite, $true) }
  catch {
    $why = $_.Exception.Message
    $holders = 'unknown processes'
    try { $probe = [ShadowSlots.Native]::Open($Path, [uint32]0x80, [uint32]7, $true); try { $holders = Get-Holders $probe } finally { $probe.Dispose() } } catch { }
    Fail 14 "$Path was made by someone other than an administrator and could not be opened to set it aside ($why); it is held open by $holders. End them (or restart Windows), delete the folder as administrator and try again."
  }
  try {
    [ShadowSlots.Native]::SetOwner($h, $AdminsSid)
    $aside = "$Path.untrusted-$([Guid]::NewGuid().ToString('N'))"
    try { [ShadowSlots.Native]::Rename($h, $aside) }
    catch { Fail 14 "$Path was made by someone other than an administrator and could not be set aside ($($_.Exception.Message)); it is held open by $(Get-Holders $h). End them (or restart Windows), delete the folder as administrator and try again." }
  } finally { $h.Dispose() }
  [Console]::Error.WriteLine("$Path was made by someone other than an administrator; it was renamed to $aside and nothing in it was used. Delete it as administrator.")
}
# The icacls commands that lock a folder down to Administrators and SYSTEM (users keep read),
# mirrored by rsyncLocationFix in src/platform/windows/helperPlan.ts.
function Get-LockDownFix([string]$Folder) {
  "  icacls ""$Folder"" /reset /T /C /Q`r`n  icacls ""$Folder"" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F *S-1-5-32-545:(OI)(CI)RX`r`n  icacls ""$Folder"" /setowner *S-1-5-32-544 /T /C /Q"
}

# The task's key pair, made by the installed ssh-keygen in the admin-only ssh folder (no
# passphrase: only SYSTEM and Administrators can read it). The arguments are built here, and a
# plan naming others is refused; the profile name allows no quote or backslash, so quoting each
# argument once reads back the same in Cygwin's and MSVCRT's parsers. The public half goes to
# the unelevated side through a new file in staging.
function Get-KeygenArguments([string]$Name) { @('-q', '-t', 'ed25519', '-N', '', '-C', "shadow-slots-helper $Name", '-f', 'id_ed25519') }
function New-TaskKey {
  $exe = [IO.Path]::Combine($M.installDir, 'rsync\usr\bin\ssh-keygen.exe')
  $dir = [IO.Path]::Combine($M.installDir, 'ssh')
  $arguments = @(Get-KeygenArguments $M.profile)
  if ($M.keygen.exe -ne $exe -or $M.keygen.workingDirectory -ne $dir -or (@($M.keygen.arguments) -join "`n") -cne ($arguments -join "`n")) { Fail 10 'install.json names another ssh-keygen command than the installer runs.' }
  if (-not (Test-TreeAdminOnly $dir)) { Fail 12 "$dir can be changed by someone other than an administrator." }
  $info = [Diagnostics.ProcessStartInfo]::new($exe, (@($arguments.ForEach({ '"' + $_ + '"' })) -join ' '))
  $info.WorkingDirectory = $dir
  $info.UseShellExecute = $false
  $info.RedirectStandardInput = $true
  # As helper.ps1's New-RsyncStart (review 15b, finding 8): Cygwin and MSYS2 read CYGWIN,
  # LD_PRELOAD and more, so nothing of the elevated account's environment reaches ssh-keygen.
  $info.EnvironmentVariables.Clear()
  $info.EnvironmentVariables['SystemRoot'] = [Environment]::GetFolderPath([Environment+SpecialFolder]::Windows)
  $info.EnvironmentVariables['PATH'] = [IO.Path]::GetDirectoryName($exe) + ';' + $System32
  $info.EnvironmentVariables['TEMP'] = $Script:Work
  $info.EnvironmentVariables['TMP'] = $Script:Work
  $info.EnvironmentVariables['LANG'] = 'C.UTF-8'
  $info.EnvironmentVariables['CYGWIN'] = 'noglob'
  $info.EnvironmentVariables['MSYS'] = 'noglob'
  $p = [Diagnostics.Process]::Start($info)
  $p.StandardInput.Close()
  $p.WaitForExit()
  $public = [IO.Path]::Combine($dir, 'id_ed25519.pub')
  if ($p.ExitCode -ne 0 -or -not [IO.File]::Exists([IO.Path]::Combine($dir, 'id_ed25519')) -or -not [IO.File]::Exists($public)) { Fail 11 "ssh-keygen.exe failed (exit code $($p.ExitCode)); nothing was registered." }
  if (-not (Test-TreeAdminOnly $dir)) { Fail 12 "The task's key in $dir can be changed by someone other than an administrator." }
  $fs = [ShadowSlots.Native]::CreateNew([IO.Path]::Combine($Staging, 'public-key.txt'))
  try { $bytes = [IO.File]::ReadAllBytes($public); $fs.Write($bytes, 0, $bytes.Length) } finally { $fs.Dispose() }
}

# Hash and parse the same bytes: the staging folder is writable by the user.
$planBytes = [IO.File]::ReadAllBytes($Plan)
if ((Get-Sha256 $planBytes) -cne $PlanSha256.ToLowerInvariant()) { Fail 10 'install.json changed after it was planned; run Set Up Elevated Helper again.' }
$M = Microsoft.PowerShell.Utility\ConvertFrom-Json -InputObject ($Utf8.GetString($planBytes))
if ($M.format -ne 3 -or $M.kind -ne 'shadow-slots-helper-install') { Fail 10 'install.json has an unknown format.' }
$expectedRoot = [IO.Path]::Combine($ProgramDataDir, 'Shadow Slots')
if ($M.profile -isnot [string] -or $M.profile -notmatch '^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$') { Fail 10 'install.json names an invalid profile.' }
if ($M.installRoot -ne $expectedRoot -or $M.installDir -ne [IO.Path]::Combine($expectedRoot, $M.profile)) { Fail 10 'install.json names a folder outside %ProgramData%\Shadow Slots.' }
if ($M.taskName -cne "\Shadow Slots\helper-$($M.profile)") { Fail 10 'install.json names another task.' }
$folders = @($M.folders)
# A ring on a server (issue 15): the task's key, known_hosts and ssh_config in an admin-only ssh folder.
$Remote = $null -ne $M.PSObject.Properties['keygen']
$leaves = @('', 'links', 'state', 'cancel', 'tmp', 'rsync') + @(if ($Remote) { 'ssh' })
if ($folders.Count -ne $leaves.Count + 1 -or $folders[0].path -ne $M.installRoot) { Fail 10 'install.json lists unexpected folders.' }
for ($i = 0; $i -lt $leaves.Count; $i++) {
  $want = if ($leaves[$i] -eq '') { $M.installDir } else { [IO.Path]::Combine($M.installDir, $leaves[$i]) }
  if ($folders[$i + 1].path -ne $want -or $folders[$i + 1].sddl -cnotmatch '^O:S-1-5-32-544D:P(\([A-Z]*;[A-Z]*;0x[0-9a-f]+;;;S-1-[0-9-]+\))+$') { Fail 10 'install.json lists unexpected folders.' }
}
if ($M.cancelRequest -ne [IO.Path]::Combine($M.installDir, 'cancel\request')) { Fail 10 'install.json names another cancel file.' }
# The schtasks argv is this script's own; the plan's copy (for review) must say the same.
$TaskXmlPath = [IO.Path]::Combine($M.installDir, 'task.xml')
$Register = @('/Create', '/XML', $TaskXmlPath, '/TN', $M.taskName, '/F')
$Unregister = @('/Delete', '/TN', $M.taskName, '/F')
$schtasksExe = [IO.Path]::Combine($System32, 'schtasks.exe')
if ((@($M.register) -join "`n") -ne (@($schtasksExe) + $Register -join "`n") -or (@($M.unregister) -join "`n") -ne (@($schtasksExe) + $Unregister -join "`n")) { Fail 10 'install.json names other schtasks commands than the installer runs.' }
$Staging = [IO.Path]::GetDirectoryName($Plan)
$fileNames = if ($Remote) { '^(helper\.ps1|native\.cs|profile\.json|task\.xml|rsync/etc/fstab|ssh/ssh_config|ssh/known_hosts)$' } else { '^(helper\.ps1|native\.cs|profile\.json|task\.xml|rsync/etc/fstab)$' }
foreach ($f in @($M.files)) {
  if ($f.name -cnotmatch $fileNames -or $f.sha256 -cnotmatch '^[0-9a-f]{64}$') { Fail 10 "install.json names an unexpected file $($f.name)." }
}
# rsync and its DLLs are read from where they were found, and only from a folder that only
# administrators can change (review H1); all from one folder, rsync.exe first.
$rsyncFiles = @($M.rsync)
if ($rsyncFiles.Count -eq 0 -or $rsyncFiles[0].name -cne 'rsync/usr/bin/rsync.exe') { Fail 10 'install.json does not list rsync.exe first.' }
$rsyncFolder = [IO.Path]::GetDirectoryName([string]$rsyncFiles[0].from)
foreach ($f in $rsyncFiles) {
  if ($f.name -cnotmatch '^rsync/usr/bin/[A-Za-z0-9][A-Za-z0-9._+-]{0,63}\.(exe|dll)$' -or $f.sha256 -cnotmatch '^[0-9a-f]{64}$' -or $f.from -isnot [string] -or $f.from -notmatch '^[A-Za-z]:\\[^<>:"|?*\x00-\x1f]+$' -or ($f.from -split '\\') -contains '..') { Fail 10 "install.json names an unexpected rsync file $($f.name)." }
  if ([IO.Path]::GetDirectoryName($f.from) -ne $rsyncFolder -or ($f.name -ne 'rsync/usr/bin/rsync.exe' -and [IO.Path]::GetFileName($f.from) -ne $f.name.Substring(14))) { Fail 10 "install.json takes $($f.name) from another place than rsync.exe's folder." }
}

# The native code: bytes checked against install.json, compiled by Add-Type with TEMP in a
# folder only administrators can write. Its name is unguessable and its descriptor is set when it
# is created, so no one else can have made it or opened it for writing.
$nativeEntry = @(@($M.files).Where({ $_.name -eq 'native.cs' }))
if ($nativeEntry.Count -ne 1) { Fail 10 'install.json does not list native.cs.' }
$nativeBytes = [IO.File]::ReadAllBytes([IO.Path]::Combine($Staging, 'native.cs'))
if ((Get-Sha256 $nativeBytes) -cne $nativeEntry[0].sha256) { Fail 10 'native.cs in the staging folder differs from what was planned; nothing was installed.' }
$Script:Work = [IO.Path]::Combine($ProgramDataDir, "Shadow Slots.work-$([Guid]::NewGuid().ToString('N'))")
if ($null -ne (Get-EntryAttributes $Script:Work)) { $Script:Work = $null; Fail 14 'A folder with the installer''s random work-folder name exists already; try again.' }
$workSecurity = [Security.AccessControl.DirectorySecurity]::new()
$workSecurity.SetSecurityDescriptorSddlForm('O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)', [Security.AccessControl.AccessControlSections]'Owner, Access')
[void][IO.Directory]::CreateDirectory($Script:Work, $workSecurity)
$env:TEMP = $Script:Work
$env:TMP = $Script:Work
Microsoft.PowerShell.Utility\Add-Type -TypeDefinition ($Utf8.GetString($nativeBytes)) -Language CSharp
# Backup, restore and take-ownership: to read and take over folders whose owner locked administrators out.
$missing = @([ShadowSlots.Native]::EnablePrivileges())
if ($missing.Count -gt 0) { Fail 12 "The installer could not enable $($missing -join ', '); run it from an administrator account." }
if (-not (Test-AdminOnly $Script:Work)) { Fail 12 "The installer's work folder $($Script:Work) can be changed by someone else." }

# rsync: read through checked handles from a location only administrators can change; the bytes
# must be the ones the plan hashed (the staged copy only documents them). Read before anything is
# changed, so a refused update leaves the installed helper as it was.
$rsyncBytes = @{}
if ($Mode -eq 'install') {
  foreach ($f in $rsyncFiles) {
    $problem = $null; $where = $null
    $bytes = [ShadowSlots.Native]::ReadFromAdminLocation([string]$f.from, [ref]$problem, [ref]$where)
    if ($null -eq $bytes) {
      $fix = if ($where.Length -le 3) { "Install rsync under $([IO.Path]::Combine($where, 'Program Files')) instead (the MSYS2 or cwRsync installer, run as administrator)." }
      else { "Lock the folder down from an administrator prompt:`r`n$(Get-LockDownFix $where)`r`nthen reinstall rsync there (a file replaced before the lock-down stays replaced; MSYS2: pacman -S msys2-runtime rsync), or install MSYS2 or cwRsync under Program Files." }
      Fail 15 "rsync is not installed from $($f.from): $problem. Other users could have replaced rsync or a DLL there, and the helper would run it with administrator rights. $fix Then run Set Up Elevated Helper again."
    }
    if ((Get-Sha256 $bytes) -cne $f.sha256) { Fail 11 "$($f.from) changed after it was planned (it is not the file the plan listed); run Set Up Elevated Helper again." }
    $rsyncBytes[$f.name] = $bytes
  }
}

# Review H1, a ring on a server: the ssh section of profile.json, ssh_config's bytes and the
# known_hosts line are checked with helper.ps1's own functions (the copies below are the same
# text: test/unit/windows/helperScript.test.ts), so a plan whose ssh_config would run a command as
# SYSTEM (ProxyCommand, LocalCommand, KnownHostsCommand, Include...) is refused before anything
# is changed.
function Test-RsyncArg([string]$a) { -not ($a.Contains('"') -or $a -match '[\x00-\x1f\x7f]') }
function ConvertTo-RsyncPath([string]$Path, [string]$Flavor) {
  $m = [regex]::Match($Path, '^([A-Za-z]):(\\.*)?\z')
  if (-not $m.Success -or ($Flavor -cne 'cygwin' -and $Flavor -cne 'msys2')) { throw "$Path is not a drive path, or $Flavor no rsync flavor." }
  $rest = $m.Groups[2].Value.Replace('\', '/')
  if ($rest.EndsWith('/')) { $rest = $rest.Substring(0, $rest.Length - 1) }
  $drive = $m.Groups[1].Value.ToLowerInvariant()
  if ($Flavor -ceq 'cygwin') { "/cygdrive/$drive$rest" } else { "/$drive$rest" }
}
function Format-SshConfigWord([string]$Value, [bool]$Tokens) {
  if ($Value -eq '' -or $Value -match '[\x00-\x1f\x7f-\x9f]' -or $Value.Contains('"') -or $Value.Contains('\') -or $Value.Contains('${') -or $Value.StartsWith('-')) { throw 'A value cannot be written into ssh_config.' }
  $literal = if ($Tokens) { $Value.Replace('%', '%%') } else { $Value }
  # JavaScript's \s is .NET's without U+0085 (refused above) and with U+FEFF.
  if ($literal -match '[\s\uFEFF''#=]') { '"' + $literal + '"' } else { $literal }
}
function Format-RsyncShellWord([string]$Word) {
  if ($Word -match '[\x00-\x1f\x7f]') { throw 'A word of rsync''s -e holds a control character.' }
  if ($Word -ne '' -and $Word -notmatch "[ '`"]") { $Word } else { "'" + $Word.Replace("'", "''") + "'" }
}
function Get-HelperSshPlan([string]$Dir, [string]$Flavor, $Ssh) {
  $posix = { param($leaf) ConvertTo-RsyncPath ([IO.Path]::Combine($Dir, $leaf)) $Flavor }
  $config = & $posix 'ssh\ssh_config'
  $exe = & $posix 'rsync\usr\bin\ssh.exe'
  $fixed = @('GlobalKnownHostsFile /dev/null', 'IdentitiesOnly yes', 'IdentityAgent none', 'BatchMode yes', 'StrictHostKeyChecking yes', 'UpdateHostKeys no', 'ProxyCommand none', 'ProxyJump none', 'ControlMaster no', 'PermitLocalCommand no', 'ForwardAgent no', 'ForwardX11 no', 'ClearAllForwardings yes', 'ServerAliveInterval 15', 'ServerAliveCountMax 4')
  $lines = @('# Written by Shadow Slots for the elevated helper; installed by its installer, SHA-256 in profile.json.', "UserKnownHostsFile $(Format-SshConfigWord (& $posix 'ssh\known_hosts') $true)", $fixed[0], "IdentityFile $(Format-SshConfigWord (& $posix 'ssh\id_ed25519') $true)") + $fixed[1..($fixed.Count - 1)] + @("HostName $(Format-SshConfigWord $Ssh.host $true)", "Port $([int]$Ssh.port)", "User $(Format-SshConfigWord $Ssh.user $true)")
  [ordered]@{
    config = ($lines -join "`n") + "`n"
    session = @('-F', $config, '-T', '--', [string]$Ssh.host, 'exec sh')
    rsyncTransport = @('-e', (@($exe, '-F', $config, '-T').ForEach({ Format-RsyncShellWord $_ }) -join ' '), '-s')
  }
}
function Get-KnownHostsProblem([string]$Text, $Ssh) {
  $name = if ([int]$Ssh.port -eq 22) { [string]$Ssh.host } else { "[$($Ssh.host)]:$([int]$Ssh.port)" }
  $m = [regex]::Match($Text, '^([^ \r\n]+) (ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|ssh-rsa) ([A-Za-z0-9+/]+={0,2})\n\z')
  if (-not $m.Success) { return 'it is not one line "host keytype key"' }
  if ($m.Groups[1].Value -cne $name) { return "it names another server than $name" }
  $b64 = $m.Groups[3].Value
  if ($b64.Length % 4 -ne 0) { return 'the key is not base64' }
  $blob = [Convert]::FromBase64String($b64)
  $type = $m.Groups[2].Value
  $length = if ($blob.Length -ge 4) { ([int64]$blob[0] -shl 24) + ([int64]$blob[1] -shl 16) + ([int64]$blob[2] -shl 8) + [int64]$blob[3] } else { -1 }
  if ($length -lt 0 -or $blob.Length -lt 4 + $length + 16 -or [Text.Encoding]::ASCII.GetString($blob, 4, [int]$length) -cne $type) { return "the key is not a valid $type key" }
  $fingerprint = 'SHA256:' + [Convert]::ToBase64String([Security.Cryptography.SHA256]::Create().ComputeHash($blob)).TrimEnd([char]'=')
  if ($fingerprint -cne [string]$Ssh.fingerprint) { return "its fingerprint is not the one accepted at Set Up ($($Ssh.fingerprint))" }
  $null
}
function Assert-ServerProfile($p, $bad) {
  $s = $p.ssh; $r = $p.rsync
  if ($s.exe -ne [IO.Path]::Combine($Here, 'rsync\usr\bin\ssh.exe')) { & $bad 'ssh.exe is not the installed copy' }
  if ($s.config -ne [IO.Path]::Combine($Here, 'ssh\ssh_config')) { & $bad 'ssh.config is not the installed ssh_config' }
  if ($s.user -isnot [string] -or $s.user -cnotmatch '^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}\z') { & $bad 'ssh.user' }
  if ($s.host -isnot [string] -or $s.host -cnotmatch '^([A-Za-z0-9_][A-Za-z0-9._-]{0,252}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9_.-]+)?)\z') { & $bad 'ssh.host' }
  if ($s.port -isnot [int] -or $s.port -lt 1 -or $s.port -gt 65535) { & $bad 'ssh.port' }
  if ($s.path -isnot [string] -or -not $s.path.StartsWith('/') -or -not (Test-RsyncArg $s.path) -or ($s.path -split '/') -contains '..') { & $bad 'ssh.path' }
  # Review H1: the -F file and the -e ssh.exe are this folder's, exactly as the planner makes them.
  try { $want = Get-HelperSshPlan $Here $r.flavor $s } catch { & $bad 'ssh (no ssh_config can be written for this server)' }
  $session = @($s.session)
  if ($session.Count -ne 6 -or (@(for ($i = 0; $i -lt 6; $i++) { $session[$i] -is [string] -and $session[$i] -ceq $want.session[$i] }) -contains $false)) { & $bad 'ssh.session' }
  $transport = @($s.rsyncTransport)
  if ($transport.Count -ne 3 -or (@(for ($i = 0; $i -lt 3; $i++) { $transport[$i] -is [string] -and $transport[$i] -ceq $want.rsyncTransport[$i] }) -contains $false)) { & $bad 'ssh.rsyncTransport' }
  if ($s.fingerprint -isnot [string] -or $s.fingerprint -cnotmatch '^SHA256:[A-Za-z0-9+/]{43}\z') { & $bad 'ssh.fingerprint' }
  $files = @($s.files)
  if ($files.Count -ne 2 -or $files[0].name -cne 'ssh/ssh_config' -or $files[1].name -cne 'ssh/known_hosts' -or @($files.Where({ $_.sha256 -cnotmatch '^[0-9a-f]{64}\z' })).Count -gt 0) { & $bad 'ssh.files' }
  $rsyncHost = if ($s.host.Contains(':')) { "[$($s.host)]" } else { $s.host }
  if ($r.incomingPrefix -cne "$($rsyncHost):$($s.path)/.shadow-slots/incoming/") { & $bad 'rsync.incomingPrefix is not the server ring' }
  if ($r.linkDest -cne "--link-dest=$($s.path)/0") { & $bad 'rsync.linkDest is not the server ring' }
}
# rsyncFstab of src/platform/windows/rsyncRuntime.ts and the runtime DLL check (review 15b,
# finding 1): the same text as helper.ps1's copies (test/unit/windows/helperScript.test.ts).
function Get-RsyncFstab([string]$Flavor) {
  if ($Flavor -ceq 'cygwin') { $prefix = '/cygdrive' } elseif ($Flavor -ceq 'msys2') { $prefix = '/' } else { throw "$Flavor is no rsync flavor." }
  "none $prefix cygdrive binary,posix=0,noacl,user 0 0`n"
}
function Get-RuntimeFlavorProblem([string]$Flavor, [string[]]$Names) {
  if ($Flavor -ceq 'cygwin') { $want = 'rsync/usr/bin/cygwin1.dll'; $other = 'rsync/usr/bin/msys-2.0.dll' }
  elseif ($Flavor -ceq 'msys2') { $want = 'rsync/usr/bin/msys-2.0.dll'; $other = 'rsync/usr/bin/cygwin1.dll' }
  else { return "$Flavor is no rsync flavor" }
  $lower = @(@($Names).ForEach({ ([string]$_).ToLowerInvariant() }))
  if ($lower -cnotcontains $want) { return "rsync of flavor $Flavor is installed without $($want.Substring(14))" }
  if ($lower -ccontains $other) { return "rsync of flavor $Flavor is installed with $($other.Substring(14))" }
  $null
}
$readStaged = {
  param([string]$Name)
  $entry = @(@($M.files).Where({ $_.name -ceq $Name }))
  if ($entry.Count -ne 1) { Fail 10 "install.json does not list $Name." }
  $b = [IO.File]::ReadAllBytes([IO.Path]::Combine($Staging, $Name.Replace('/', '\')))
  if ((Get-Sha256 $b) -cne $entry[0].sha256) { Fail 11 "$Name in the staging folder differs from what was planned; nothing was installed." }
  , $b
}
$FstabBytes = $null
if ($Mode -eq 'install') {
  $planned = Microsoft.PowerShell.Utility\ConvertFrom-Json -InputObject ($Utf8.GetString((& $readStaged 'profile.json')))
  $flavor = [string]$planned.rsync.flavor
  if ($flavor -cne 'cygwin' -and $flavor -cne 'msys2') { Fail 10 'profile.json names no rsync flavor the helper knows.' }
  # The runtime reads its mount table from rsync\etc\fstab: a mount over this folder would hand
  # SYSTEM rsync another ssh.exe or ssh_config. The installer writes the fixed text itself; a plan
  # hashing other bytes is refused before anything is changed.
  $FstabBytes = $Utf8.GetBytes((Get-RsyncFstab $flavor))
  $fstabEntry = @(@($M.files).Where({ $_.name -ceq 'rsync/etc/fstab' }))
  if ($fstabEntry.Count -ne 1 -or $fstabEntry[0].sha256 -cne (Get-Sha256 $FstabBytes)) { Fail 10 "rsync/etc/fstab is not the fixed mount table of $flavor rsync; nothing was installed." }
  $runtimeProblem = Get-RuntimeFlavorProblem $flavor @($rsyncFiles.ForEach({ [string]$_.name }))
  if ($null -ne $runtimeProblem) { Fail 10 "install.json does not copy the runtime of its rsync: $runtimeProblem; nothing was installed." }
}
if ($Remote) {
  # Assert-ServerProfile and Get-HelperSshPlan tie every path to the folder the helper runs from.
  $Here = $M.installDir
  if ($null -eq $planned) { $planned = Microsoft.PowerShell.Utility\ConvertFrom-Json -InputObject ($Utf8.GetString((& $readStaged 'profile.json'))) }
  if ($null -eq $planned.PSObject.Properties['ssh']) { Fail 10 'profile.json has no ssh section, but install.json plans a ring on a server.' }
  Assert-ServerProfile $planned { param($what) Fail 10 "The planned helper profile is invalid: $what." }
  $wantSsh = Get-HelperSshPlan $Here $planned.rsync.flavor $planned.ssh
  if ([Convert]::ToBase64String((& $readStaged 'ssh/ssh_config')) -cne [Convert]::ToBase64String($Utf8.GetBytes($wantSsh.config))) { Fail 10 "ssh/ssh_config is not the helper's own configuration for $($planned.ssh.host); nothing was installed." }
  $knownProblem = Get-KnownHostsProblem ($Utf8.GetString((& $readStaged 'ssh/known_hosts'))) $planned.ssh
  if ($null -ne $knownProblem) { Fail 10 "ssh/known_hosts is not the one host key accepted: $knownProblem; nothing was installed." }
}

function Remove-Installed {
  Invoke-Schtasks $Unregister 13 -Tolerate
  $attributes = Get-EntryAttributes $M.installDir
  if ($null -eq $attributes) { return }
  if ($attributes -band [IO.FileAttributes]::ReparsePoint) { [ShadowSlots.Native]::DeleteName($M.installDir); return }
  # Review H2 / finding 2: never read state from a folder someone else could have written.
  if (-not (Test-AdminOnly $M.installDir)) { Move-Aside $M.installDir; return }
  $links = [IO.Path]::Combine($M.installDir, 'links')
  if ([IO.Directory]::Exists($links)) {
    # Links first and never recursively: they point into a shadowed volume.
    foreach ($l in [IO.DirectoryInfo]::new($links).GetFileSystemInfos()) {
      if ($l.Attributes -band [IO.FileAttributes]::ReparsePoint) { [ShadowSlots.Native]::DeleteName($l.FullName) }
    }
  }
  # Shadows the helper made and could not release (its record, in this folder); no others.
  $owned = [IO.Path]::Combine($M.installDir, 'shadows.json')
  if ([IO.File]::Exists($owned)) {
    $record = Microsoft.PowerShell.Utility\ConvertFrom-Json -InputObject ([IO.File]::ReadAllText($owned, $Utf8))
    $ids = @(if ($record.PSObject.Properties['ids']) { $record.ids })
    foreach ($s in @(CimCmdlets\Get-CimInstance -ClassName Win32_ShadowCopy)) { if ($ids -contains $s.ID) { CimCmdlets\Remove-CimInstance -InputObject $s } }
    if ($record.PSObject.Properties['intents'] -and @($record.intents).Count -gt 0) { [Console]::Error.WriteLine('A backup stopped while creating a shadow copy; check "vssadmin list shadows" for one it may have left.') }
  }
  if (Test-TreeAdminOnly $M.installDir) { [IO.Directory]::Delete($M.installDir, $true) } else { Move-Aside $M.installDir }
}

# The root: ProgramData lets every user create folders, so one may have been made before us, or
# be made while we work. A link there is removed; a folder someone else owns or can change is set
# aside; only a root that only administrators can change is reused.
$root = $M.installRoot
$rootAttributes = Get-EntryAttributes $root
$reuseRoot = $false
if ($null -ne $rootAttributes) {
  if ($rootAttributes -band [IO.FileAttributes]::ReparsePoint) { [ShadowSlots.Native]::DeleteName($root) }
  elseif (-not ($rootAttributes -band [IO.FileAttributes]::Directory)) { Fail 14 "$root is a file; delete it as administrator and try again." }
  elseif (Test-AdminOnly $root) { $reuseRoot = $true }
  else { Move-Aside $root }
}
if ($Mode -eq 'remove') {
  Invoke-Schtasks $Unregister 13 -Tolerate
  if ($reuseRoot) {
    Remove-Installed
    if (@([IO.DirectoryInfo]::new($root).GetFileSystemInfos()).Count -eq 0) { [ShadowSlots.Native]::DeleteName($root) }
  }
  Remove-Work
  exit 0
}
if ($reuseRoot) { Set-Planned $folders[0] }
else {
  # Made under an unguessable name with its descriptor, then renamed into place: the rename
  # fails if anyone took the name meanwhile, so a folder someone else made is never adopted.
  $fresh = "$root.new-$([Guid]::NewGuid().ToString('N'))"
  New-Folder ([pscustomobject]@{ path = $fresh; sddl = $folders[0].sddl; rules = $folders[0].rules })
  $h = [ShadowSlots.Native]::Open($fresh, $AsideAccess, $ShareReadWrite, $true)
  try { [ShadowSlots.Native]::Rename($h, $root) }
  catch { $h.Dispose(); [ShadowSlots.Native]::DeleteName($fresh); Fail 14 "Someone else created $root while the installer ran ($($_.Exception.Message)); run Set Up Elevated Helper again, and if this repeats, check who creates it." }
  $h.Dispose()
}

# Set Up again replaces the previous install of this profile.
Remove-Installed
$Script:Cleanup = { Invoke-Schtasks $Unregister 13 -Tolerate; if ([IO.Directory]::Exists($M.installDir) -and (Test-TreeAdminOnly $M.installDir)) { [IO.Directory]::Delete($M.installDir, $true) } }
foreach ($f in $folders[1..($folders.Count - 1)]) { New-Folder $f }
foreach ($d in 'rsync\usr', 'rsync\usr\bin', 'rsync\etc') { [void][IO.Directory]::CreateDirectory([IO.Path]::Combine($M.installDir, $d)) }

# Each staged file: read once from staging, checked in memory, written, and checked again where it lies.
$staged = @{}
function Write-Checked([string]$Name, [byte[]]$Bytes, [string]$Sha256) {
  $to = [IO.Path]::Combine($M.installDir, $Name.Replace('/', '\'))
  [IO.File]::WriteAllBytes($to, $Bytes)
  if ((Get-Sha256 ([IO.File]::ReadAllBytes($to))) -cne $Sha256) { Fail 11 "$Name differs from what was planned after copying; nothing was installed." }
  $staged[$Name] = $Bytes
}
foreach ($f in @($M.files)) {
  # The mount table is never taken from staging (review 15b, finding 1): its fixed text, checked above.
  $bytes = if ($f.name -ceq 'rsync/etc/fstab') { $FstabBytes } else { [IO.File]::ReadAllBytes([IO.Path]::Combine($Staging, $f.name.Replace('/', '\'))) }
  if ((Get-Sha256 $bytes) -cne $f.sha256) { Fail 11 "$($f.name) in the staging folder differs from what was planned; nothing was installed." }
  Write-Checked $f.name $bytes $f.sha256
}
foreach ($f in $rsyncFiles) { Write-Checked $f.name $rsyncBytes[$f.name] $f.sha256 }
foreach ($required in @('helper.ps1', 'native.cs', 'profile.json', 'task.xml', 'rsync/usr/bin/rsync.exe', 'rsync/etc/fstab') + @(if ($Remote) { 'rsync/usr/bin/ssh.exe', 'rsync/usr/bin/ssh-keygen.exe', 'ssh/ssh_config', 'ssh/known_hosts' })) { if (-not $staged.ContainsKey($required)) { Fail 10 "install.json does not list $required." } }
[IO.File]::WriteAllBytes($M.cancelRequest, [byte[]]@())

# The task must run exactly the installed helper with the system's own 64-bit PowerShell, as the
# one planned account, on demand only, with the planned settings: the planner ran unelevated.
$stored = Microsoft.PowerShell.Utility\ConvertFrom-Json -InputObject ($Utf8.GetString($staged['profile.json']))
if ($stored.requester -isnot [string] -or $stored.requester -cnotmatch '^S-1-(5-21(-\d{1,10}){4}|12-1(-\d{1,10}){4})$') { Fail 10 'profile.json names a requester that is not a user account.' }
$task = [xml]([Text.Encoding]::Unicode.GetString($staged['task.xml'], 2, $staged['task.xml'].Length - 2))
# Element children as "path=text" lines, so a check sees every element, present or not.
function Get-Leaves($Node, [string]$Prefix) {
  foreach ($c in @($Node.ChildNodes)) {
    if ($c.NodeType -ne [Xml.XmlNodeType]::Element) { continue }
    if (@($c.ChildNodes).Where({ $_.NodeType -eq [Xml.XmlNodeType]::Element }).Count -gt 0) { Get-Leaves $c "$Prefix$($c.LocalName)/" } else { "$Prefix$($c.LocalName)=$($c.InnerText)" }
  }
}
$helper = [IO.Path]::Combine($M.installDir, 'helper.ps1')
$powershell = [IO.Path]::Combine($System32, 'WindowsPowerShell\v1.0\powershell.exe')
$sddl = "O:BAD:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FRFX;;;$($stored.requester))"
$leaves = @(Get-Leaves $task.DocumentElement '')
# Paths compare without case: GetSystemDirectory may spell C:\WINDOWS\system32.
$actions = @($leaves.Where({ $_ -like 'Actions/*' })) -join "`n"
$wantActions = "Actions/Exec/Command=$powershell`nActions/Exec/Arguments=-NoProfile -NonInteractive -ExecutionPolicy Bypass -WindowStyle Hidden -File `"$helper`"`nActions/Exec/WorkingDirectory=$($M.installDir)"
if ($actions -ne $wantActions) { Fail 10 'task.xml does not run the installed helper with the system''s PowerShell.' }
$principal = @($leaves.Where({ $_ -like 'Principals/*' })) -join "`n"
$wantPrincipal = @("Principals/Principal/UserId=$SystemSid`nPrincipals/Principal/RunLevel=HighestAvailable",
  "Principals/Principal/UserId=$($stored.requester)`nPrincipals/Principal/LogonType=InteractiveToken`nPrincipals/Principal/RunLevel=HighestAvailable",
  "Principals/Principal/UserId=$($stored.requester)`nPrincipals/Principal/LogonType=S4U`nPrincipals/Principal/RunLevel=HighestAvailable")
if ($wantPrincipal -cnotcontains $principal) { Fail 10 'task.xml names another account than planned.' }
$registration = @($leaves.Where({ $_ -like 'RegistrationInfo/URI=*' -or $_ -like 'RegistrationInfo/SecurityDescriptor=*' })) -join "`n"
if ($registration -cne "RegistrationInfo/URI=$($M.taskName)`nRegistrationInfo/SecurityDescriptor=$sddl") { Fail 10 'task.xml names another task or other permissions than planned.' }
# On demand only (an empty Triggers element), with the settings the planner writes for the helper.
$TaskSettings = 'MultipleInstancesPolicy=IgnoreNew;DisallowStartIfOnBatteries=false;StopIfGoingOnBatteries=false;AllowHardTerminate=true;StartWhenAvailable=false;RunOnlyIfNetworkAvailable=false;IdleSettings/StopOnIdleEnd=false;IdleSettings/RestartOnIdle=false;AllowStartOnDemand=true;Enabled=true;Hidden=false;RunOnlyIfIdle=false;WakeToRun=false;ExecutionTimeLimit=PT72H;Priority=7'
$top = @(@($task.DocumentElement.ChildNodes).Where({ $_.NodeType -eq [Xml.XmlNodeType]::Element }).ForEach({ $_.LocalName })) -join ','
$triggers = @($leaves.Where({ $_ -like 'Triggers*' })) -join "`n"
$settings = @($leaves.Where({ $_ -like 'Settings/*' }).ForEach({ $_.Substring(9) })) -join ';'
if ($top -cne 'RegistrationInfo,Triggers,Principals,Settings,Actions' -or $triggers -cne 'Triggers=' -or $settings -cne $TaskSettings) {
  Fail 10 'task.xml has triggers or settings other than planned.'
}
if ($Remote) { New-TaskKey }
Invoke-Schtasks $Register 13
Remove-Work
exit 0
