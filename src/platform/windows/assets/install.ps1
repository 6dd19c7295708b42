# Shadow Slots: installs or removes the elevated helper of one profile. Run elevated by the
# bootstrap of src/platform/windows/elevation.ts, which read these very bytes and checked them
# against the SHA-256 on its command line. CONSTANT file: everything it does comes from
# install.json, whose SHA-256 arrives the same way. Every folder gets its complete security
# descriptor and is read back; every file is verified after copying. Nothing is taken from the
# environment: system folders come from the OS.
# Exit codes: 0 done, 10 bad plan, 11 copy/verify failed, 12 a folder's permissions could not be
# set or read back as planned, 13 schtasks failed, 14 the install folder was made by someone else
# and could not be set aside.
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

$Script:Cleanup = $null
# A failed install removes what it made: never a half-installed helper.
function Fail([int]$Code, [string]$Message) {
  [Console]::Error.WriteLine($Message)
  if ($null -ne $Script:Cleanup) { try { & $Script:Cleanup } catch { [Console]::Error.WriteLine("Cleaning up failed: $($_.Exception.Message)") } }
  exit $Code
}
function Get-Sha256([byte[]]$Bytes) { [BitConverter]::ToString([Security.Cryptography.SHA256]::Create().ComputeHash($Bytes)).Replace('-', '').ToLowerInvariant() }
# Only the System32 tools the plan names, found through the OS; the argv is data, passed without a shell.
function Invoke-Argv([string[]]$Argv, [int]$FailCode, [switch]$Tolerate) {
  $exe = $null
  foreach ($tool in 'schtasks.exe', 'takeown.exe') { $path = [IO.Path]::Combine($System32, $tool); if ($Argv[0] -eq $path) { $exe = $path } }
  if ($null -eq $exe) { Fail 10 "Refusing to run $($Argv[0])." }
  $rest = @(if ($Argv.Count -gt 1) { $Argv[1..($Argv.Count - 1)] })
  $null = & $exe @rest
  if ($LASTEXITCODE -ne 0 -and -not $Tolerate) { Fail $FailCode "$([IO.Path]::GetFileName($exe)) failed with exit code $LASTEXITCODE." }
}
function Test-Link([string]$Path) { try { [bool]([IO.File]::GetAttributes($Path) -band [IO.FileAttributes]::ReparsePoint) } catch { $false } }
# Owned by Administrators or SYSTEM, not a link, and no allow entry lets anyone else change it.
function Test-AdminOnly([string]$Path) {
  if (Test-Link $Path) { return $false }
  $sd = [IO.Directory]::GetAccessControl($Path)
  $owner = $sd.GetOwner([Security.Principal.SecurityIdentifier]).Value
  if ($owner -ne $AdminsSid -and $owner -ne $SystemSid) { return $false }
  foreach ($r in $sd.GetAccessRules($true, $true, [Security.Principal.SecurityIdentifier])) {
    $sid = $r.IdentityReference.Value
    if ($r.AccessControlType -ne [Security.AccessControl.AccessControlType]::Allow -or $sid -eq $AdminsSid -or $sid -eq $SystemSid) { continue }
    if (([int64]$r.FileSystemRights -band $WriteRights) -ne 0) { return $false }
  }
  $true
}
# The folder and every folder below it: only such a tree is deleted recursively (a folder a user
# can write might hold a junction swapped in while the delete walks it).
function Test-TreeAdminOnly([string]$Path) {
  if (-not (Test-AdminOnly $Path)) { return $false }
  foreach ($d in [IO.DirectoryInfo]::new($Path).GetDirectories()) { if (-not (Test-TreeAdminOnly $d.FullName)) { return $false } }
  $true
}
function New-Security([string]$Sddl) { $sd = [Security.AccessControl.DirectorySecurity]::new(); $sd.SetSecurityDescriptorSddlForm($Sddl, [Security.AccessControl.AccessControlSections]'Owner, Access'); $sd }
# The folder's whole descriptor as planned - owner and a protected DACL, nothing kept from before -
# then read back and compared entry by entry (issue 12, finding 2).
function Set-FolderSecurity($Folder) {
  if (-not [IO.Directory]::Exists($Folder.path)) { [void][IO.Directory]::CreateDirectory($Folder.path, (New-Security $Folder.sddl)) }
  if (Test-Link $Folder.path) { Fail 14 "$($Folder.path) is a link or junction that the installer did not make." }
  try { [IO.Directory]::SetAccessControl($Folder.path, (New-Security $Folder.sddl)) } catch { Fail 12 "Could not set the permissions of $($Folder.path): $($_.Exception.Message)" }
  $sd = [IO.Directory]::GetAccessControl($Folder.path)
  $rules = [Collections.Generic.List[string]]::new()
  foreach ($r in $sd.GetAccessRules($true, $true, [Security.Principal.SecurityIdentifier])) {
    if ($r.IsInherited -or $r.AccessControlType -ne [Security.AccessControl.AccessControlType]::Allow) { $rules.Add('unexpected') }
    else { $rules.Add(('{0}|{1}|{2}|{3}' -f $r.IdentityReference.Value, [int64]$r.FileSystemRights, [int]$r.InheritanceFlags, [int]$r.PropagationFlags)) }
  }
  $got = $rules.ToArray(); [Array]::Sort($got, [StringComparer]::Ordinal)
  if ($sd.GetOwner([Security.Principal.SecurityIdentifier]).Value -ne $AdminsSid -or -not $sd.AreAccessRulesProtected -or ($got -join ';') -cne (@($Folder.rules) -join ';')) {
    Fail 12 "The permissions of $($Folder.path) read back differently from what was planned ($($got -join ';'))."
  }
  # Checked last, as it now stands: an admin-only folder can no longer be renamed or replaced by a user.
  if ((Test-Link $Folder.path) -or -not (Test-AdminOnly $Folder.path)) { Fail 14 "$($Folder.path) changed while it was being set up; delete it as administrator and try again." }
}
# A folder someone else made or can change is never read from; it is renamed aside, which
# neither follows a link nor touches what is inside.
function Move-Aside([string]$Path) {
  $aside = "$Path.untrusted-$([DateTime]::UtcNow.ToString('yyyyMMddHHmmss'))"
  try { [IO.Directory]::Move($Path, $aside) } catch { Fail 14 "$Path was made by someone other than an administrator and could not be set aside ($($_.Exception.Message)); delete it as administrator and try again." }
  [Console]::Error.WriteLine("$Path was made by someone other than an administrator; it was renamed to $aside and nothing in it was used. Delete it as administrator.")
}

# Hash and parse the same bytes: the staging folder is writable by the user.
$planBytes = [IO.File]::ReadAllBytes($Plan)
if ((Get-Sha256 $planBytes) -cne $PlanSha256.ToLowerInvariant()) { Fail 10 'install.json changed after it was planned; run Set Up Elevated Helper again.' }
$M = Microsoft.PowerShell.Utility\ConvertFrom-Json -InputObject ($Utf8.GetString($planBytes))
if ($M.format -ne 2 -or $M.kind -ne 'shadow-slots-helper-install') { Fail 10 'install.json has an unknown format.' }
$expectedRoot = [IO.Path]::Combine($ProgramDataDir, 'Shadow Slots')
if ($M.profile -isnot [string] -or $M.profile -notmatch '^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$') { Fail 10 'install.json names an invalid profile.' }
if ($M.installRoot -ne $expectedRoot -or $M.installDir -ne [IO.Path]::Combine($expectedRoot, $M.profile)) { Fail 10 'install.json names a folder outside %ProgramData%\Shadow Slots.' }
if ($M.taskName -cne "\Shadow Slots\helper-$($M.profile)") { Fail 10 'install.json names another task.' }
$folders = @($M.folders)
$leaves = @('', 'links', 'state', 'cancel', 'tmp', 'rsync')
if ($folders.Count -ne 7 -or $folders[0].path -ne $M.installRoot) { Fail 10 'install.json lists unexpected folders.' }
for ($i = 0; $i -lt $leaves.Count; $i++) {
  $want = if ($leaves[$i] -eq '') { $M.installDir } else { [IO.Path]::Combine($M.installDir, $leaves[$i]) }
  if ($folders[$i + 1].path -ne $want -or $folders[$i + 1].sddl -cnotmatch '^O:S-1-5-32-544D:P(\([A-Z]*;[A-Z]*;0x[0-9a-f]+;;;S-1-[0-9-]+\))+$') { Fail 10 'install.json lists unexpected folders.' }
}
if ($M.cancelRequest -ne [IO.Path]::Combine($M.installDir, 'cancel\request')) { Fail 10 'install.json names another cancel file.' }
$Staging = [IO.Path]::GetDirectoryName($Plan)

function Remove-Installed {
  Invoke-Argv @($M.unregister) 13 -Tolerate
  if (-not [IO.Directory]::Exists($M.installDir) -and -not (Test-Link $M.installDir)) { return }
  # Finding 2: never read state from a folder someone else could have written.
  if (-not (Test-AdminOnly $M.installDir)) { Move-Aside $M.installDir; return }
  $links = [IO.Path]::Combine($M.installDir, 'links')
  if ([IO.Directory]::Exists($links)) {
    # Links first and never recursively: they point into a shadowed volume.
    foreach ($l in [IO.DirectoryInfo]::new($links).GetFileSystemInfos()) {
      if ($l.Attributes -band [IO.FileAttributes]::ReparsePoint) { [IO.Directory]::Delete($l.FullName, $false) }
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

# The root: ProgramData lets every user create folders, so one may have been made before us.
# A link there is removed; a folder someone else owns or can change is set aside (after taking
# ownership, so an administrator can delete it); then the root gets its own descriptor.
$root = $M.installRoot
if (Test-Link $root) { [IO.Directory]::Delete($root, $false) }
elseif ([IO.Directory]::Exists($root) -and -not (Test-AdminOnly $root)) {
  $owner = [IO.Directory]::GetAccessControl($root).GetOwner([Security.Principal.SecurityIdentifier]).Value
  if ($owner -ne $AdminsSid -and $owner -ne $SystemSid) { Invoke-Argv @($M.takeOwnership) 14 }
  Move-Aside $root
}
if ($Mode -eq 'remove') {
  Invoke-Argv @($M.unregister) 13 -Tolerate
  if ([IO.Directory]::Exists($root)) {
    Remove-Installed
    if (@([IO.DirectoryInfo]::new($root).GetFileSystemInfos()).Count -eq 0) { [IO.Directory]::Delete($root, $false) }
  }
  exit 0
}
Set-FolderSecurity $folders[0]

# Set Up again replaces the previous install of this profile.
Remove-Installed
$Script:Cleanup = { Invoke-Argv @($M.unregister) 13 -Tolerate; if ([IO.Directory]::Exists($M.installDir) -and (Test-TreeAdminOnly $M.installDir)) { [IO.Directory]::Delete($M.installDir, $true) } }
foreach ($f in $folders[1..($folders.Count - 1)]) { Set-FolderSecurity $f }
foreach ($d in 'rsync\usr', 'rsync\usr\bin', 'rsync\etc') { [void][IO.Directory]::CreateDirectory([IO.Path]::Combine($M.installDir, $d)) }

# Each file: read once from staging, checked in memory, written, and checked again where it lies.
$staged = @{}
foreach ($f in @($M.files)) {
  if ($f.name -cnotmatch '^(helper\.ps1|profile\.json|task\.xml|rsync/usr/bin/[A-Za-z0-9][A-Za-z0-9._+-]{0,63}\.(exe|dll)|rsync/etc/fstab)$') { Fail 10 "install.json names an unexpected file $($f.name)." }
  $bytes = [IO.File]::ReadAllBytes([IO.Path]::Combine($Staging, $f.name.Replace('/', '\')))
  if ((Get-Sha256 $bytes) -cne $f.sha256) { Fail 11 "$($f.name) in the staging folder differs from what was planned; nothing was installed." }
  $to = [IO.Path]::Combine($M.installDir, $f.name.Replace('/', '\'))
  [IO.File]::WriteAllBytes($to, $bytes)
  if ((Get-Sha256 ([IO.File]::ReadAllBytes($to))) -cne $f.sha256) { Fail 11 "$($f.name) differs from what was planned after copying; nothing was installed." }
  $staged[$f.name] = $bytes
}
foreach ($required in 'helper.ps1', 'profile.json', 'task.xml', 'rsync/usr/bin/rsync.exe') { if (-not $staged.ContainsKey($required)) { Fail 10 "install.json does not list $required." } }
[IO.File]::WriteAllBytes($M.cancelRequest, [byte[]]@())

# The task must run exactly the installed helper with the system's own 64-bit PowerShell: the
# planner ran unelevated and read %SystemRoot% from an environment the user controls.
$stored = Microsoft.PowerShell.Utility\ConvertFrom-Json -InputObject ($Utf8.GetString($staged['profile.json']))
$task = [xml]([Text.Encoding]::Unicode.GetString($staged['task.xml'], 2, $staged['task.xml'].Length - 2))
$exec = @($task.Task.Actions.ChildNodes)
$helper = [IO.Path]::Combine($M.installDir, 'helper.ps1')
$powershell = [IO.Path]::Combine($System32, 'WindowsPowerShell\v1.0\powershell.exe')
$principal = $task.Task.Principals.Principal
$sddl = "O:BAD:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FRFX;;;$($stored.requester))"
if ($exec.Count -ne 1 -or $exec[0].LocalName -ne 'Exec' -or $exec[0].Command -ne $powershell -or $exec[0].Arguments -cne "-NoProfile -NonInteractive -ExecutionPolicy Bypass -WindowStyle Hidden -File `"$helper`"" -or $exec[0].WorkingDirectory -ne $M.installDir) {
  Fail 10 'task.xml does not run the installed helper with the system''s PowerShell.'
}
if ($principal.RunLevel -cne 'HighestAvailable' -or ($principal.UserId -cne $SystemSid -and $principal.UserId -cne $stored.requester) -or $task.Task.RegistrationInfo.SecurityDescriptor -cne $sddl) {
  Fail 10 'task.xml names another account or other permissions than planned.'
}
Invoke-Argv @($M.register) 13
exit 0
