# Shadow Slots elevated helper. Runs as a Task Scheduler task with highest privileges - as SYSTEM
# unless a user account was chosen explicitly - in 64-bit Windows PowerShell 5.1. This file is
# CONSTANT: no profile value is ever written into it. It runs only profile.json beside it
# (planned by the TypeScript planner, installed with it into the admin-only folder) and
# re-validates that profile. It follows the ring contract of src/core/{layout,ring,manifest,
# journal}.ts: same folders, same JSON, same rotation. docs/windows.md has the threat model.
#Requires -Version 5.1

# Nothing from the environment is trusted (issue 12, finding 3): the module path and the temp
# folder are reset before anything else runs, system folders come from the OS, and every cmdlet
# is called by its module-qualified name.
$env:PSModulePath = [IO.Path]::Combine($PSHOME, 'Modules')
$Here = $PSScriptRoot
$Tmp = [IO.Path]::Combine($Here, 'tmp')
$env:TEMP = $Tmp
$env:TMP = $Tmp
$System32 = [Environment]::SystemDirectory
$WindowsDir = [Environment]::GetFolderPath([Environment+SpecialFolder]::Windows)
Microsoft.PowerShell.Core\Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
# Windows PowerShell 5.1's extra Array.Count type data makes ConvertTo-Json write {value, Count}.
Microsoft.PowerShell.Utility\Remove-TypeData System.Array -ErrorAction SilentlyContinue

# Mirrors src/core/windows/codes.ts (test/unit/windows/codes.test.ts checks they agree).
$VssCreateMessages = @{
  0 = 'The shadow copy was created.'
  1 = 'Access denied: creating a shadow copy needs administrator rights. Run Set Up Elevated Helper again.'
  2 = 'Windows rejected the shadow copy request as invalid (Win32_ShadowCopy code 2). Please report this.'
  3 = 'The source drive was not found. Check that the source folder is on a local drive that is connected.'
  4 = 'This drive does not support shadow copies (network, FAT/exFAT or removable drives do not). Use snapshot method "none" for it.'
  5 = 'Windows does not support this kind of shadow copy here (unsupported context). Client-accessible shadow copies need Windows 10 or later.'
  6 = 'The shadow storage area is too small. Enlarge it from an administrator prompt: vssadmin resize shadowstorage /for=C: /on=C: /maxsize=10%'
  7 = 'The drive is in use by another shadow copy operation. Try again in a few minutes.'
  8 = 'The drive already has the maximum number of shadow copies (64). Delete old restore points or shadow copies (System Protection settings), then try again.'
  9 = 'Another shadow copy operation is in progress (another backup program or System Restore). Try again when it has finished.'
  10 = 'A shadow copy provider refused the request (vetoed). See the Application event log for VSS errors.'
  11 = 'The shadow copy provider is not registered. Check that the "Volume Shadow Copy" and "Microsoft Software Shadow Copy provider" services can start.'
  12 = 'The shadow copy provider failed. See the Application event log for VSS errors, and check that the "Volume Shadow Copy" service can start.'
  13 = 'Creating the shadow copy failed for an unknown reason (Win32_ShadowCopy code 13). See the Application event log for VSS errors.'
}
$TaskResultMessages = @{
  '0x0' = 'The last backup finished successfully.'
  '0x41300' = 'The helper task is ready.'
  '0x41301' = 'The helper task is running now.'
  '0x41303' = 'The helper task has not run yet.'
  '0x41306' = 'The helper task was stopped before it finished (terminated by the user or the time limit).'
  '0x41325' = 'The helper task is queued and will start soon.'
  '0x8004131F' = 'A backup by the helper task is already running; this request was ignored.'
  '0x80041324' = 'The helper task did not start because a condition was not met (for example the computer is on battery).'
  '0x4131C' = 'The task''s account lacks the "Log on as a batch job" right. Choose another account in Set Up Elevated Helper, or ask an administrator to grant the right.'
}
$HelperExitMessages = @{
  0 = 'The backup finished successfully.'
  1 = 'The backup failed; see the helper log in the profile''s state folder.'
  2 = 'The stored profile is invalid or was changed; run Set Up Elevated Helper again.'
  3 = 'The backup copied most but not all files; the ring was not rotated.'
  4 = 'Another backup of this ring is running.'
  5 = 'The shadow copy could not be created.'
  6 = 'The helper must run in 64-bit PowerShell with administrator rights.'
  7 = 'The backup was cancelled; the ring was not rotated.'
}


# Mirrors of src/core (test/unit/windows/helperScript.test.ts checks they agree).
$MaxSlots = 1000
$NtfsMaxLinks = 1023
# The latest a shadow made by one run's Create calls can be dated after its intent (review L4).
$CreateWindowSeconds = 180
$AdminsSid = 'S-1-5-32-544'
$SystemSid = 'S-1-5-18'
$WriteRights = 0x500D0156

$Utf8 = [Text.UTF8Encoding]::new($false)
$Invariant = [Globalization.CultureInfo]::InvariantCulture
$RunStarted = [DateTime]::UtcNow
# newSlotId of src/core/layout.ts: UTC stamp plus a random suffix.
$RunId = $RunStarted.ToString("yyyyMMdd'T'HHmmss'Z'", $Invariant) + '-' + ([Guid]::NewGuid().ToString('N').Substring(0, 6))
$Script:LogFile = $null; $Script:StateFile = $null
$Script:State = [ordered]@{ format = 1; profile = ''; runId = $RunId; pid = $PID; status = 'running'; phase = 'preflight'; message = 'Starting'; percent = $null; bytes = 0; files = 0; rate = $null; etaSeconds = $null; startedAt = $RunStarted.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", $Invariant); updatedAt = ''; exitCode = $null; error = $null; warnings = @() }
$Script:LastStateWrite = [DateTime]::MinValue
$Script:Pins = [Collections.Generic.List[object]]::new()

function Stop-Helper([int]$Exit, [string]$Message) { $e = [Exception]::new($Message); $e.Data['exit'] = $Exit; throw $e }
function Now { [DateTime]::UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", $Invariant) }
# formatName of src/core/displayName.ts: characters that would not show or would change how
# the rest shows (C0/C1 controls, zero-width and bidi marks, line separators, BOM, surrogates,
# private use) as \uXXXX (review 15b, finding 5: server text reaches messages and the log).
function Format-Name([string]$Name) {
  -join @($Name.ToCharArray().ForEach({
    $c = [int]$_
    if ($c -lt 0x20 -or ($c -ge 0x7F -and $c -le 0x9F) -or ($c -ge 0x200B -and $c -le 0x200F) -or ($c -ge 0x2028 -and $c -le 0x202E) -or ($c -ge 0x2066 -and $c -le 0x2069) -or ($c -ge 0xD800 -and $c -le 0xF8FF) -or $c -eq 0xFEFF) { '\u{0:X4}' -f $c } else { [string]$_ }
  }))
}
function Log([string]$Text) { if ($Script:LogFile) { [IO.File]::AppendAllText($Script:LogFile, "$(Now) $Text`r`n", $Utf8) } }

# The native calls (assets/native.cs, installed beside this script and checked with its folder)
# never follow a link the helper did not make, read security descriptors through handles, and
# list the shadowed source with backup semantics. Compiled by Add-Type only after TEMP points into
# the admin-only install folder and that folder was checked.
$NativeSource = [IO.Path]::Combine($Here, 'native.cs')

function Set-State([string]$Phase, [string]$Message, [switch]$Force) {
  $Script:State.phase = $Phase; $Script:State.message = $Message
  $now = [DateTime]::UtcNow
  if (-not $Force -and ($now - $Script:LastStateWrite).TotalMilliseconds -lt 1000) { return }
  $Script:LastStateWrite = $now
  $Script:State.updatedAt = Now
  if ($Script:StateFile) { Write-Json $Script:StateFile $Script:State }
}

function Read-Json([string]$Path) { Microsoft.PowerShell.Utility\ConvertFrom-Json -InputObject ([IO.File]::ReadAllText($Path, $Utf8)) }
# Files in the ring belong to the user: read without following a link, and never quoted in an
# error message (helper.log is readable by the user).
function Read-UserJson([string]$Path) {
  $reader = [IO.StreamReader]::new([ShadowSlots.Native]::OpenPlainFile($Path), $Utf8)
  try { $text = $reader.ReadToEnd() } finally { $reader.Dispose() }
  try { Microsoft.PowerShell.Utility\ConvertFrom-Json -InputObject $text } catch { Stop-Helper 1 "$Path is not valid JSON; repair the ring with the CLI (shadow-slots list)." }
}
# A new file in a folder the user can write (review M1): created with CREATE_NEW without following
# a link, so a planted link or file of that name makes the create fail (it is never followed),
# and written only through that checked handle. Replacing the entry is a rename, which acts on
# the entry itself.
function Write-Atomic([string]$Path, [string]$Text) {
  $tmp = "$Path.tmp-$([Guid]::NewGuid().ToString('N'))"
  $fs = [ShadowSlots.Native]::CreateNew($tmp)
  try { $bytes = $Utf8.GetBytes($Text); $fs.Write($bytes, 0, $bytes.Length); $fs.Flush($true) } finally { $fs.Dispose() }
  [ShadowSlots.Native]::Replace($tmp, $Path)
}
function Write-Json([string]$Path, $Value) { Write-Atomic $Path ((Microsoft.PowerShell.Utility\ConvertTo-Json -InputObject $Value -Depth 10) + "`n") }
function Get-Sha256([string]$Path) {
  $fs = [IO.File]::OpenRead($Path)
  try { [BitConverter]::ToString([Security.Cryptography.SHA256]::Create().ComputeHash($fs)).Replace('-', '').ToLowerInvariant() } finally { $fs.Dispose() }
}

# Before native.cs is compiled (once, for the folders it is compiled in): .NET's rules, plus the
# raw DACL for the callback and object entries those rules do not return (review L1).
function Test-AdminOnlyBeforeNative([string]$Path) {
  if ([IO.File]::GetAttributes($Path) -band [IO.FileAttributes]::ReparsePoint) { return $false }
  $sd = [IO.Directory]::GetAccessControl($Path)
  $raw = [Security.AccessControl.RawSecurityDescriptor]::new($sd.GetSecurityDescriptorBinaryForm(), 0)
  if ($null -eq $raw.DiscretionaryAcl) { return $false }
  foreach ($ace in $raw.DiscretionaryAcl) { if ($ace -isnot [Security.AccessControl.CommonAce] -or $ace.IsCallback) { return $false } }
  $owner = $sd.GetOwner([Security.Principal.SecurityIdentifier]).Value
  if ($owner -ne $AdminsSid -and $owner -ne $SystemSid) { return $false }
  foreach ($r in $sd.GetAccessRules($true, $true, [Security.Principal.SecurityIdentifier])) {
    $sid = $r.IdentityReference.Value
    if ($r.AccessControlType -ne [Security.AccessControl.AccessControlType]::Allow -or $sid -eq $AdminsSid -or $sid -eq $SystemSid) { continue }
    if (([int64]$r.FileSystemRights -band $WriteRights) -ne 0) { return $false }
  }
  $true
}
# Owned by Administrators or SYSTEM and changeable by no one else, read from the raw DACL of a
# handle to the folder itself (a link is refused, not followed).
function Test-AdminOnly([string]$Path) {
  try { $h = [ShadowSlots.Native]::Pin($Path) } catch [IO.IOException] { return $false }
  try { $null -eq [ShadowSlots.Acl]::WriteProblem([ShadowSlots.Native]::Security($h), [string[]]@($AdminsSid, $SystemSid), $WriteRights, $false) } finally { $h.Dispose() }
}
# A slot folder this helper made: protected and changeable by administrators only, so nothing in
# it can have been planted by a user. FAT and exFAT have neither permissions nor links.
function Test-HelperMade([string]$Dir) {
  if (-not $Script:TargetHasAcls) { return $true }
  try { $h = [ShadowSlots.Native]::Pin($Dir) } catch [IO.IOException] { return $false }
  try {
    $sd = [ShadowSlots.Native]::Security($h)
    [ShadowSlots.Acl]::IsProtected($sd) -and $null -eq [ShadowSlots.Acl]::WriteProblem($sd, [string[]]@($AdminsSid, $SystemSid), $WriteRights, $false)
  } finally { $h.Dispose() }
}
# Slot folders are created with the requester's read-only access from the start (one call, no
# window in which the user could write into them).
function New-SlotDir([string]$Dir) {
  if ($Script:TargetHasAcls) { [ShadowSlots.Native]::CreateDirectory($Dir, $P.slotSddl) }
  else { [void][IO.Directory]::CreateDirectory($Dir) }
}
function Add-Pin([string]$Dir) { $pin = [ShadowSlots.Native]::Pin($Dir); $Script:Pins.Add($pin); $pin }
function Remove-Pin($Pin) { if ($null -ne $Pin) { [void]$Script:Pins.Remove($Pin); $Pin.Dispose() } }

# The target is the requester's (review M2): owned by them, and changeable only by them,
# Administrators and SYSTEM; .shadow-slots and its folders (which the helper may have made) are
# owned by the requester, Administrators or SYSTEM and changeable by no one else. Read from the raw
# DACL of the pinned folder itself.
function Assert-TargetAccess($Pin, [string]$Dir, [switch]$Meta) {
  $sd = [ShadowSlots.Native]::Security($Pin)
  $fix = "as administrator: icacls ""$Dir"" /setowner *$($P.requester) and icacls ""$Dir"" /inheritance:r /grant:r *$($P.requester):(OI)(CI)F *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F; or choose a folder of your own as target"
  if (-not $Meta -and $sd.Owner.Value -ne $P.requester) {
    Stop-Helper 1 "The target folder $Dir belongs to $($sd.Owner.Value), not to you. The elevated helper writes only into a folder of your own (a drive's root or a folder of another account or of Windows is refused): $fix."
  }
  $why = [ShadowSlots.Acl]::WriteProblem($sd, [string[]]@($P.requester, $AdminsSid, $SystemSid), $WriteRights, $false)
  if ($null -ne $why) { Stop-Helper 1 "Others can change the target folder $Dir ($why). The elevated helper writes only where no other user can: $fix." }
}
# A network target must be another computer's share, never this one's (review M2): the share
# would be this computer's own disk, reached around the checks of a local path.
function Assert-RemoteTarget([string]$Target) {
  $server = $Target.Substring(2).Split([char]'\')[0]
  $share = $Target.Substring(2).Split([char]'\')[1]
  if ($share -match '^([A-Za-z]|ADMIN|IPC|PRINT)\$$') { Stop-Helper 1 "The target $Target is an administrative share; give the folder's local path instead." }
  $local = @([Net.Dns]::GetHostName(), [Environment]::MachineName, 'localhost', '.')
  $addresses = @(try { [Net.Dns]::GetHostAddresses($server) } catch { })
  $mine = @(foreach ($nic in [Net.NetworkInformation.NetworkInterface]::GetAllNetworkInterfaces()) { foreach ($a in $nic.GetIPProperties().UnicastAddresses) { $a.Address } })
  if ($local -contains $server -or @($addresses.Where({ [Net.IPAddress]::IsLoopback($_) -or $mine -contains $_ })).Count -gt 0) {
    Stop-Helper 1 "The target $Target names this computer; give the folder's local path instead (D:\Backups), so it is checked like one."
  }
}

# The requester's profile folder, from the machine's registry (never from an environment variable).
function Get-ProfileFolder([string]$Sid) {
  $key = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey("SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList\$Sid")
  if ($null -eq $key) { return $null }
  try { $raw = [string]$key.GetValue('ProfileImagePath', '', [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames) } finally { $key.Dispose() }
  $expanded = $raw -replace '(?i)^%SystemDrive%', [IO.Path]::GetPathRoot($System32).TrimEnd('\')
  if ($expanded -match '%' -or $expanded -notmatch '^[A-Za-z]:\\.') { return $null }
  $expanded.TrimEnd('\')
}
# The source must be the requester's own (issue 12, finding 5): never a whole drive, no link on
# its path, owned by the requester or inside their profile folder. Checked in the frozen shadow
# copy, so nothing can change between the check and the copy.
function Assert-SourceIsRequesters([string]$ShadowRoot) {
  $relative = $P.source.Substring($P.volume.Length)
  if ($relative -eq '') { Stop-Helper 1 'The elevated helper does not back up a whole drive.' }
  $path = $ShadowRoot
  foreach ($part in $relative.Split([char]'\')) {
    if ($part -eq '') { continue }
    $path = [IO.Path]::Combine($path, $part)
    if ([IO.File]::GetAttributes($path) -band [IO.FileAttributes]::ReparsePoint) { Stop-Helper 1 "The source path goes through a link or junction ($part); back up the folder it points to instead." }
  }
  $owner = [IO.Directory]::GetAccessControl($path, [Security.AccessControl.AccessControlSections]::Owner).GetOwner([Security.Principal.SecurityIdentifier]).Value
  if ($owner -eq $P.requester) { return }
  $profileDir = Get-ProfileFolder $P.requester
  if ($null -ne $profileDir -and ($P.source.Equals($profileDir, [StringComparison]::OrdinalIgnoreCase) -or $P.source.StartsWith($profileDir + '\', [StringComparison]::OrdinalIgnoreCase))) { return }
  Stop-Helper 1 "The source $($P.source) is not yours: it belongs to $owner and is not in your user folder. The elevated helper copies only your own folders, so a slot never shows you files your account could not read."
}

function Assert-Profile($p) {
  $abs = '^([A-Za-z]:\\|\\\\[^\\?.][^\\]*\\[^\\]+)'
  $ctl = '[\x00-\x1f\x7f]'
  $bad = { param($what) Stop-Helper 2 "The stored helper profile is invalid: $what. Run Set Up Elevated Helper again." }
  if ($p.format -ne 3 -or $p.kind -ne 'shadow-slots-helper') { & $bad 'unknown format' }
  # Issue 15: a ring on a server (validateHelperSsh of src/core/windows/helperProfile.ts).
  $remote = $null -ne $p.PSObject.Properties['ssh']
  if ($remote) { Assert-ServerProfile $p $bad }
  if ($p.name -isnot [string] -or $p.name -notmatch '^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$') { & $bad 'name' }
  # A user account (local, domain or Microsoft Entra): never a group such as Users or Everyone (review L2).
  if ($p.requester -isnot [string] -or $p.requester -cnotmatch '^S-1-(5-21(-\d{1,10}){4}|12-1(-\d{1,10}){4})$') { & $bad 'requester' }
  foreach ($k in 'source', 'target', 'installDir', 'linkDir', 'stateDir', 'cancelDir', 'tmpDir') {
    if ($k -eq 'target' -and $remote) { continue }
    $v = $p.$k
    if ($v -isnot [string] -or $v -notmatch $abs -or $v -match $ctl -or ($v -split '\\') -contains '..') { & $bad $k }
  }
  # The profile must be the one installed beside this script, in the locked folder.
  if ($p.installDir -ne $Here) { & $bad 'installed in another folder' }
  foreach ($pair in @(@('linkDir', 'links'), @('stateDir', 'state'), @('cancelDir', 'cancel'), @('tmpDir', 'tmp'))) {
    if ($p.($pair[0]) -ne [IO.Path]::Combine($Here, $pair[1])) { & $bad "$($pair[0]) is not $($pair[1]) in the install folder" }
  }
  if ($p.volume -cnotmatch '^[A-Z]:\\$' -or -not $p.source.ToUpperInvariant().StartsWith($p.volume) -or $p.source.Length -le $p.volume.Length) { & $bad 'volume' }
  if ($p.slots -isnot [int] -or $p.slots -lt 1 -or $p.slots -gt $MaxSlots) { & $bad 'slots' }
  if ($p.slotSddl -isnot [string] -or $p.slotSddl -cnotmatch '^O:S-1-5-32-544D:P(\([A-Z]*;[A-Z]*;0x[0-9a-f]+;;;S-1-[0-9-]+\))+$') { & $bad 'slotSddl' }
  $r = $p.rsync
  if ($r.flavor -isnot [string] -or ($r.flavor -cne 'cygwin' -and $r.flavor -cne 'msys2')) { & $bad 'rsync.flavor' }
  if ($r.exe -ne [IO.Path]::Combine($Here, 'rsync\usr\bin\rsync.exe')) { & $bad 'rsync.exe is not the installed copy' }
  foreach ($f in @($r.files)) { if ($f.name -cnotmatch '^rsync/(usr/bin/[A-Za-z0-9][A-Za-z0-9._+-]{0,63}\.(exe|dll)|etc/fstab)$' -or $f.sha256 -cnotmatch '^[0-9a-f]{64}$') { & $bad 'rsync.files' } }
  # Finding 4: no value with a double quote reaches rsync's command line.
  # Review L2: only the options the planner writes (helperOptionProblem of src/core/windows/helperProfile.ts).
  foreach ($o in @($r.options)) { if ($o -isnot [string] -or -not (Test-HelperOption $o)) { & $bad 'rsync.options' } }
  if ($r.origin -isnot [string] -or $r.origin -notmatch '^[A-Za-z]:\\') { & $bad 'rsync.origin' }
  if ($r.linkDestAt -isnot [int] -or $r.linkDestAt -lt 0 -or $r.linkDestAt -gt @($r.options).Count) { & $bad 'rsync.linkDestAt' }
  if (-not $r.linkDest.StartsWith('--link-dest=/') -or -not (Test-RsyncArg $r.linkDest)) { & $bad 'rsync.linkDest' }
  foreach ($k in @('snapshotPrefix', 'incomingPrefix', 'excludeFromPrefix').Where({ -not $remote -or $_ -ne 'incomingPrefix' })) { if (-not $r.$k.StartsWith('/') -or -not $r.$k.EndsWith('/') -or -not (Test-RsyncArg $r.$k)) { & $bad "rsync.$k" } }
  if (-not $r.snapshotSuffix.EndsWith('/') -or -not (Test-RsyncArg $r.snapshotSuffix)) { & $bad 'rsync.snapshotSuffix' }
}

# The ssh section: the installed copies, one server, the session and rsync's -e exactly as the
# planner writes them (planHelperSsh), the incoming folder and --link-dest on that server's ring.
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

# toRsyncPath of src/core/windows/paths.ts for a drive path (the install folder is always one).
function ConvertTo-RsyncPath([string]$Path, [string]$Flavor) {
  $m = [regex]::Match($Path, '^([A-Za-z]):(\\.*)?\z')
  if (-not $m.Success -or ($Flavor -cne 'cygwin' -and $Flavor -cne 'msys2')) { throw "$Path is not a drive path, or $Flavor no rsync flavor." }
  $rest = $m.Groups[2].Value.Replace('\', '/')
  if ($rest.EndsWith('/')) { $rest = $rest.Substring(0, $rest.Length - 1) }
  $drive = $m.Groups[1].Value.ToLowerInvariant()
  if ($Flavor -ceq 'cygwin') { "/cygdrive/$drive$rest" } else { "/$drive$rest" }
}
# sshConfigWord of src/core/windows/sshConfig.ts: a value ssh_config cannot carry literally is refused.
function Format-SshConfigWord([string]$Value, [bool]$Tokens) {
  if ($Value -eq '' -or $Value -match '[\x00-\x1f\x7f-\x9f]' -or $Value.Contains('"') -or $Value.Contains('\') -or $Value.Contains('${') -or $Value.StartsWith('-')) { throw 'A value cannot be written into ssh_config.' }
  $literal = if ($Tokens) { $Value.Replace('%', '%%') } else { $Value }
  # JavaScript's \s is .NET's without U+0085 (refused above) and with U+FEFF.
  if ($literal -match '[\s\uFEFF''#=]') { '"' + $literal + '"' } else { $literal }
}
# rsyncShellWord of src/core/rsyncArgs.ts: one word of rsync's -e.
function Format-RsyncShellWord([string]$Word) {
  if ($Word -match '[\x00-\x1f\x7f]') { throw 'A word of rsync''s -e holds a control character.' }
  if ($Word -ne '' -and $Word -notmatch "[ '`"]") { $Word } else { "'" + $Word.Replace("'", "''") + "'" }
}
# planHelperSsh of src/platform/windows/helperSsh.ts (helperSshConfig, helperSessionArgv,
# helperRsyncShell), from the server's validated user, host and port and the install folder $Dir:
# what ssh_config must hold byte for byte and how ssh must be started (review H1). Nothing the
# planner wrote decides a path or an option; a config that differs is refused, so no
# ProxyCommand, LocalCommand, KnownHostsCommand, PKCS11Provider or Include can run as SYSTEM.
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
# acceptHostKey of src/platform/windows/helperSsh.ts, as a check: known_hosts is exactly one line
# "name keytype key" for this server, of a key type the helper accepts, whose blob names that type
# and whose SHA-256 is the fingerprint accepted at Set Up. $null when it is, else what is wrong.
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

# rsyncFstab of src/platform/windows/rsyncRuntime.ts (review 15b, finding 1): the copied runtime
# reads its mount table from rsync\etc\fstab, so these bytes decide where every POSIX path of
# rsync and ssh lands (the ssh.exe rsync runs, -F, --link-dest). Only this fixed text is installed
# or run with; the planner's copy is never trusted.
function Get-RsyncFstab([string]$Flavor) {
  if ($Flavor -ceq 'cygwin') { $prefix = '/cygdrive' } elseif ($Flavor -ceq 'msys2') { $prefix = '/' } else { throw "$Flavor is no rsync flavor." }
  "none $prefix cygdrive binary,posix=0,noacl,user 0 0`n"
}
# The runtime DLL of the copied rsync must be its flavor's (cygwin1.dll or msys-2.0.dll, never
# both): the other runtime reads its own fstab rules and cygdrive prefix. $null when it is.
function Get-RuntimeFlavorProblem([string]$Flavor, [string[]]$Names) {
  if ($Flavor -ceq 'cygwin') { $want = 'rsync/usr/bin/cygwin1.dll'; $other = 'rsync/usr/bin/msys-2.0.dll' }
  elseif ($Flavor -ceq 'msys2') { $want = 'rsync/usr/bin/msys-2.0.dll'; $other = 'rsync/usr/bin/cygwin1.dll' }
  else { return "$Flavor is no rsync flavor" }
  $lower = @(@($Names).ForEach({ ([string]$_).ToLowerInvariant() }))
  if ($lower -cnotcontains $want) { return "rsync of flavor $Flavor is installed without $($want.Substring(14))" }
  if ($lower -ccontains $other) { return "rsync of flavor $Flavor is installed with $($other.Substring(14))" }
  $null
}

# rsyncArgProblem of src/core/windows/cmdline.ts.
function Test-RsyncArg([string]$a) { -not ($a.Contains('"') -or $a -match '[\x00-\x1f\x7f]') }
# helperOptionProblem of src/core/windows/helperProfile.ts (golden pairs in helper-golden.json).
function Test-HelperOption([string]$o) {
  $HelperFixedOptions = @('-rtDx', '--delete', '--chmod=ugo=rwX', '--modify-window=1', '--out-format=%i %n', '--stats', '--info=progress2', '-c', '--checksum', '-W', '--whole-file', '--no-whole-file', '-S', '--sparse', '--preallocate', '--no-specials', '--no-devices', '-O', '--omit-dir-times', '-J', '--omit-link-times')
  (Test-RsyncArg $o) -and ($HelperFixedOptions -ccontains $o -or $o -cmatch '^--(bwlimit|max-size|min-size|timeout|checksum-choice)=[0-9A-Za-z.+-]{1,32}$' -or ($o.StartsWith('--exclude=') -and $o.Length -gt 10 -and $o -cne '--exclude=!' -and $o -cnotmatch '^--exclude=[-+PHSRp!:.],? '))
}
# quoteRsyncArg of src/core/windows/cmdline.ts: Cygwin's and MSVCRT's parsers read it back alike.
function Quote-Arg([string]$a) {
  if (-not (Test-RsyncArg $a)) { throw "An rsync argument holds a double quote or a control character." }
  $body = $a.TrimEnd([char]'\')
  '"' + $body + '"' + $a.Substring($body.Length)
}
# reparseExcludeLine of src/core/windows/reparseExcludes.ts: an anchored rsync exclude for one
# path below the source, never folder-only (a junction may point at a file).
function Format-ExcludeLine([string]$Relative) {
  $problem = [ShadowSlots.CygwinNames]::Problem($Relative.TrimEnd([char]'\'))
  if ($null -ne $problem) { throw "The name contains $($problem): rsync would see another name, so no exclude rule can match it." }
  $path = $Relative.TrimEnd([char]'\').Replace('\', '/') -replace '([\[*?])', '\$1'
  '/' + $path
}

# planRotation of src/core/ring.ts, step for step (golden pairs: test/fixtures/windows/helper-golden.json).
function Get-RotationPlan($Entries, [int]$Capacity, [string]$NewId) {
  $sorted = @(@($Entries) | Microsoft.PowerShell.Utility\Sort-Object { [int]$_.number })
  $keep = @($sorted | Microsoft.PowerShell.Utility\Select-Object -First ([Math]::Max(0, $Capacity - 1)))
  $drop = @($sorted | Microsoft.PowerShell.Utility\Select-Object -Skip ($Capacity - 1))
  $steps = [Collections.ArrayList]::new()
  for ($i = $drop.Count - 1; $i -ge 0; $i--) { [void]$steps.Add([ordered]@{ kind = 'drop'; from = [int]$drop[$i].number; id = [string]$drop[$i].id }) }
  $prefixEnd = $keep.Count
  for ($i = 0; $i -lt $keep.Count; $i++) { if ([int]$keep[$i].number -ne $i) { $prefixEnd = $i; break } }
  for ($i = $prefixEnd; $i -lt $keep.Count; $i++) {
    if ([int]$keep[$i].number -ne $i + 1) { [void]$steps.Add([ordered]@{ kind = 'move'; from = [int]$keep[$i].number; to = $i + 1; id = [string]$keep[$i].id }) }
  }
  for ($i = $prefixEnd - 1; $i -ge 0; $i--) { [void]$steps.Add([ordered]@{ kind = 'move'; from = [int]$keep[$i].number; to = $i + 1; id = [string]$keep[$i].id }) }
  [void]$steps.Add([ordered]@{ kind = 'promote'; id = $NewId })
  $final = [Collections.ArrayList]::new()
  [void]$final.Add([ordered]@{ number = 0; id = $NewId })
  for ($i = 0; $i -lt $keep.Count; $i++) { [void]$final.Add([ordered]@{ number = $i + 1; id = [string]$keep[$i].id }) }
  [ordered]@{ newId = $NewId; steps = @($steps); final = [ordered]@{ format = 1; entries = @($final) } }
}

function Assert-SlotId($Id) { if ($Id -isnot [string] -or $Id -cnotmatch '^[0-9A-Za-z][0-9A-Za-z_-]{0,80}\z') { Stop-Helper 1 "The ring's metadata names an invalid slot id; repair it with the CLI (shadow-slots list)." } }
# parseRingState of src/core/ring.ts (review L8): a slot listed twice would label one folder with another's id.
function Assert-RingUnique($Entries) {
  $numbers = [Collections.Generic.HashSet[int]]::new(); $ids = [Collections.Generic.HashSet[string]]::new([StringComparer]::Ordinal)
  foreach ($e in @($Entries)) { if (-not $numbers.Add([int]$e.number) -or -not $ids.Add([string]$e.id)) { Stop-Helper 1 "ring.json lists a slot twice; repair the ring with the CLI (shadow-slots list)." } }
}
function Assert-SlotNumber($N) { if ($N -isnot [int] -or $N -lt 0 -or $N -gt 999999) { Stop-Helper 1 "The ring's metadata names an invalid slot number; repair it with the CLI (shadow-slots list)." } }

# A journaled rotation is the user's (or the server account's) to write: every id, number and
# step kind is checked before anything is renamed.
function Assert-Rotation($Rotation) {
  Assert-SlotId $Rotation.newId
  foreach ($s in @($Rotation.steps)) {
    if ($s.kind -notin 'drop', 'move', 'promote') { Stop-Helper 1 'journal.json names an unknown rotation step.' }
    Assert-SlotId $s.id
    if ($s.kind -ne 'promote') { Assert-SlotNumber $s.from }
    if ($s.kind -eq 'move') { Assert-SlotNumber $s.to }
  }
  foreach ($e in @($Rotation.final.entries)) { Assert-SlotNumber $e.number; Assert-SlotId $e.id }
}

# Renames only: a rename acts on the entry itself and never follows it, and every folder above
# the renamed ones is pinned.
function Invoke-Rotation($Rotation) {
  Assert-Rotation $Rotation
  foreach ($s in @($Rotation.steps)) {
    switch ($s.kind) {
      'drop' { $from = [IO.Path]::Combine($P.target, [string]$s.from); $to = [IO.Path]::Combine($Trash, $s.id) }
      'move' { $from = [IO.Path]::Combine($P.target, [string]$s.from); $to = [IO.Path]::Combine($P.target, [string]$s.to) }
      'promote' { $from = [IO.Path]::Combine($Incoming, $s.id); $to = [IO.Path]::Combine($P.target, '0') }
    }
    # stepStatus: destination present = done; source missing too = nothing left to do.
    if ([IO.Directory]::Exists($to) -or -not [IO.Directory]::Exists($from)) { continue }
    [IO.Directory]::Move($from, $to)
  }
  Write-Json $RingFile $Rotation.final
  $Script:Journal.rotation = $null
  Write-Json $JournalFile $Script:Journal
}

# Deletes a folder tree only if this helper made it (nothing in it can be a planted link); any
# other tree is left for its owner, and the log says so. Returns whether it was deleted.
function Remove-Tree([string]$Dir) {
  $pin = [ShadowSlots.Native]::Pin($Dir)
  try {
    if (-not (Test-HelperMade $Dir)) { Log "Left $Dir in place: the helper did not make it, so it is not deleted with administrator rights."; return $false }
    $long = if ($Dir.StartsWith('\\')) { '\\?\UNC\' + $Dir.Substring(2) } else { '\\?\' + $Dir }
    foreach ($e in [IO.DirectoryInfo]::new($long).GetFileSystemInfos()) {
      if ($e -is [IO.DirectoryInfo]) { $e.Delete($true) } else { $e.Attributes = [IO.FileAttributes]::Normal; $e.Delete() }
    }
  } finally { $pin.Dispose() }
  [IO.Directory]::Delete($Dir, $false)
  $true
}

function Remove-Link([string]$Link) {
  # GetAttributes does not follow the link, so a link to a shadow that is already gone is found too.
  try { $attr = [IO.File]::GetAttributes($Link) } catch { return }
  # Only ever the link itself: a recursive delete through it would walk the shadowed volume.
  if ($attr -band [IO.FileAttributes]::ReparsePoint) { [ShadowSlots.Native]::DeleteName($Link) }
  else { Log "Left $Link alone: it is not a link." }
}

# Shadows this helper created, and the intent recorded just before each Create (finding 7), in
# the admin-only folder. The ring's journal lives in the user-writable target, so an ID found only
# there is never deleted (it could name a restore point).
$OwnedFile = [IO.Path]::Combine($Here, 'shadows.json')
function Get-Owned {
  if (-not [IO.File]::Exists($OwnedFile)) { return [pscustomobject]@{ ids = @(); intents = @() } }
  $o = Read-Json $OwnedFile
  [pscustomobject]@{ ids = @(if ($o.PSObject.Properties['ids']) { $o.ids }); intents = @(if ($o.PSObject.Properties['intents']) { $o.intents }) }
}
function Set-Owned($Owned) { Write-Json $OwnedFile ([ordered]@{ ids = @(@($Owned.ids).Where({ $_ })); intents = @($Owned.intents) }) }
function Get-Shadows { @(CimCmdlets\Get-CimInstance -ClassName Win32_ShadowCopy) }
function Remove-Shadow([string]$Id) {
  $owned = Get-Owned
  if ($Id -notmatch '^\{[0-9A-Fa-f-]{36}\}$' -or @($owned.ids) -notcontains $Id) { return }
  foreach ($s in Get-Shadows) { if ($s.ID -eq $Id) { CimCmdlets\Remove-CimInstance -InputObject $s } }
  $owned.ids = @(@($owned.ids).Where({ $_ -ne $Id }))
  Set-Owned $owned
}
# A run that died between Create and recording the ID left only its intent. Its shadow is the
# one on that volume that did not exist before, made between the intent and the latest moment a
# Create of that run could have returned (two attempts of seconds each, 10 s apart: review L4),
# with the flags of a client-accessible shadow. Exactly one such shadow is deleted; with several, none is
# (one could belong to another program) and the log and the run's warnings say so.
function Invoke-IntentSweep {
  $owned = Get-Owned
  if (@($owned.intents).Count -eq 0) { return }
  $shadows = Get-Shadows
  $volumes = @(CimCmdlets\Get-CimInstance -ClassName Win32_Volume)
  foreach ($intent in @($owned.intents)) {
    $device = $null
    foreach ($v in $volumes) { if ($null -ne $v.DriveLetter -and ($v.DriveLetter + '\') -eq [string]$intent.volume) { $device = [string]$v.DeviceID } }
    $start = [DateTime]::Parse([string]$intent.startedAt, $Invariant, [Globalization.DateTimeStyles]::AdjustToUniversal)
    $candidates = @(foreach ($s in $shadows) {
      $made = ([DateTime]$s.InstallDate).ToUniversalTime()
      if ($null -ne $device -and $s.VolumeName -eq $device -and @($intent.before) -notcontains $s.ID -and $s.ClientAccessible -and $s.NoWriters -and $made -ge $start.AddSeconds(-5) -and $made -le $start.AddSeconds($CreateWindowSeconds)) { $s }
    })
    if ($candidates.Count -eq 1) { Log "Deleting shadow $($candidates[0].ID): made by run $($intent.runId), which stopped before recording it"; CimCmdlets\Remove-CimInstance -InputObject $candidates[0] }
    elseif ($candidates.Count -gt 1) {
      $message = "Run $($intent.runId) stopped while creating a shadow copy; $($candidates.Count) shadow copies were made then, so none was deleted. Check vssadmin list shadows."
      Log $message; $Script:State.warnings = @($Script:State.warnings) + $message
    }
  }
  $owned.intents = @()
  Set-Owned $owned
}

# rsync gets a clean environment: nothing of the account's reaches it (Cygwin reads CYGWIN,
# LD_PRELOAD and more), and its DLLs come from its admin-only folder or System32.
function New-RsyncStart([string[]]$Argv) {
  $psi = [Diagnostics.ProcessStartInfo]::new($P.rsync.exe)
  $psi.Arguments = @(@($Argv).ForEach({ Quote-Arg $_ })) -join ' '
  $psi.UseShellExecute = $false; $psi.CreateNoWindow = $true
  $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true
  $psi.StandardOutputEncoding = $Utf8; $psi.StandardErrorEncoding = $Utf8
  $psi.WorkingDirectory = $Tmp
  $psi.EnvironmentVariables.Clear()
  $psi.EnvironmentVariables['SystemRoot'] = $WindowsDir
  $psi.EnvironmentVariables['PATH'] = [IO.Path]::GetDirectoryName($P.rsync.exe) + ';' + $System32
  $psi.EnvironmentVariables['TEMP'] = $Tmp
  $psi.EnvironmentVariables['TMP'] = $Tmp
  $psi.EnvironmentVariables['LANG'] = 'C.UTF-8'
  # Cygwin and MSYS2 glob-expand unquoted arguments otherwise (and noglob selects the parser rules
  # the quoting is tested against).
  $psi.EnvironmentVariables['CYGWIN'] = 'noglob'
  $psi.EnvironmentVariables['MSYS'] = 'noglob'
  $psi
}

# Whether rsync may go on (review 15b, findings 2 and 4): checked before each read of its output
# and on each second of silence, so a chatty rsync cannot hide a cancel or a lost connection. For a
# ring on a server the session's shell holds the ring's lock; once the session has ended, the lock
# is stale and another run may take the ring over, so this rsync (it has its own connection) is
# ended at once, before it changes anything the next holder relies on.
function Assert-RsyncMayGo($Proc) {
  $lost = $Remote -and ($null -eq $Script:Session -or $Script:Session.HasExited)
  if ($Script:Cancel.Length -gt 0 -or $lost) { & ([IO.Path]::Combine($System32, 'taskkill.exe')) /T /F /PID $Proc.Id | Microsoft.PowerShell.Core\Out-Null }
  if ($lost) { $Script:ServerLock = $null; Stop-Helper 1 "The connection holding the ring's lock was lost; rsync was stopped and nothing was rotated. The next run resumes the copy ($Script:ServerName)." }
  if ($Script:Cancel.Length -gt 0) { Stop-Helper 7 'The backup was cancelled.' }
}

function Invoke-Rsync([string[]]$Argv, [string]$ChangesFile) {
  $proc = [Diagnostics.Process]::Start((New-RsyncStart $Argv))
  $errTask = $proc.StandardError.ReadToEndAsync()
  $changes = [IO.StreamWriter]::new([ShadowSlots.Native]::CreateNew($ChangesFile), $Utf8)
  $stats = [Text.StringBuilder]::new()
  $buf = [char[]]::new(65536); $pending = ''; $changed = 0; $items = 0
  try {
    while ($true) {
      Assert-RsyncMayGo $proc
      $t = $proc.StandardOutput.ReadAsync($buf, 0, $buf.Length)
      while (-not $t.Wait(1000)) { Assert-RsyncMayGo $proc }
      if ($t.Result -eq 0) { break }
      $parts = @(($pending + [string]::new($buf, 0, $t.Result)) -split "[`r`n]")
      $pending = $parts[-1]
      $complete = if ($parts.Count -gt 1) { $parts[0..($parts.Count - 2)] } else { @() }
      foreach ($line in $complete) {
        if ($line -match '^\s*([\d,.]+)\s+(\d+)%\s+([\d.,]+)([kMGT]?B)/s\s+(\d+):(\d\d):(\d\d)') {
          $mult = @{ B = 1; kB = 1KB; MB = 1MB; GB = 1GB; TB = 1TB }[$Matches[4]]
          $Script:State.bytes = [int64]($Matches[1] -replace '[,.]', ''); $Script:State.percent = [int]$Matches[2]
          $Script:State.rate = [int64]([double]($Matches[3] -replace ',', '') * $mult)
          $Script:State.etaSeconds = [int]$Matches[5] * 3600 + [int]$Matches[6] * 60 + [int]$Matches[7]
          Set-State 'copy' 'Copying from the shadow copy'
        } elseif ($line -match '^([<>ch.*][fdLDS][.+?cstpoguax ]{9,10} |\*deleting )') {
          $changes.WriteLine($line); $items++; $Script:State.files = $items
          if ($line -match '^[<>c]f' -and $line -notmatch '^.f\+\+\+') { $changed++ }
        } elseif ($line -ne '') { [void]$stats.AppendLine($line) }
      }
    }
    $proc.WaitForExit()
  } finally { $changes.Dispose() }
  $s = $stats.ToString()
  $num = { param($re) $m = [regex]::Match($s, $re, 'Multiline'); if ($m.Success) { [int64]($m.Groups[1].Value -replace '[,.]', '') } else { [int64]0 } }
  $counts = [ordered]@{
    files = & $num '^Number of files: [\d,.]+ \(reg: ([\d,.]+)'; dirs = & $num '^Number of files: .*dir: ([\d,.]+)'
    created = & $num '^Number of created files: ([\d,.]+)'; changed = [int64]$changed
    deleted = & $num '^Number of deleted files: ([\d,.]+)'; bytesSent = & $num '^Literal data: ([\d,.]+) bytes'
    totalSize = & $num '^Total file size: ([\d,.]+) bytes'
  }
  @{ exitCode = $proc.ExitCode; stderr = $errTask.Result; counts = $counts }
}

# A new slot's manifest (src/core/manifest.ts), in progress; `$LinkDestId` '' when it is a full copy.
function New-SlotManifest([string[]]$Argv, [string]$LinkDestId) {
  $version = $null
  try {
    $vp = [Diagnostics.Process]::Start((New-RsyncStart @('--version')))
    $first = $vp.StandardOutput.ReadLine(); [void]$vp.StandardOutput.ReadToEnd(); $vp.WaitForExit()
    if ($first -match 'version\s+(\S+)') { $version = $Matches[1] }
  } catch { }
  [ordered]@{
    format = 1; id = $RunId; state = 'in-progress'; profile = $P.name; source = $P.source; startedAt = $Script:State.startedAt; endedAt = $null
    snapshot = [ordered]@{ method = 'vss'; id = $Script:ShadowId; warning = $null }
    rsync = [ordered]@{ argv = @(@($P.rsync.exe) + @($Argv)); exitCode = $null; version = $version }
    counts = $null; warnings = @($Script:State.warnings); changeLog = "changes/$RunId.log"; checksums = $null; adopted = $false
    linkDest = $(if ($LinkDestId -ne '') { $LinkDestId } else { $null })
  }
}
# rsync's outcome into the manifest, saved where the ring is (-Server: on the server): partial
# (and the run stops: nothing is rotated) or complete (24, files vanished while copied, is complete).
function Complete-SlotManifest($Manifest, $Result, [string]$File, [switch]$Server) {
  $save = { if ($Server) { Write-ServerJson $File $Manifest } else { Write-Json $File $Manifest } }
  $Manifest.rsync.exitCode = $Result.exitCode; $Manifest.counts = $Result.counts; $Manifest.endedAt = (Now)
  # A server's rsync writes into this stderr too: no control character reaches the log (review L10).
  if ($Result.stderr) { Log (@(($Result.stderr -split "`r?`n").ForEach({ Format-Name $_ })) -join "`r`n") }
  if ($Result.exitCode -ne 0 -and $Result.exitCode -ne 24) {
    $Manifest.state = 'partial'; $Manifest.warnings = @($Manifest.warnings) + "rsync exited with code $($Result.exitCode)"
    & $save
    Stop-Helper $(if ($Result.exitCode -eq 23) { 3 } else { 1 }) "rsync failed with exit code $($Result.exitCode): $(Format-Name ((@(($Result.stderr -split "`n").Where({ $_ })) | Microsoft.PowerShell.Utility\Select-Object -Last 3) -join ' '))"
  }
  if ($Result.exitCode -eq 24) { $Manifest.warnings = @($Manifest.warnings) + 'Some source files vanished while they were being copied.' }
  $Manifest.state = 'complete'
  & $save
}

# Link first, then the shadow, then its journal entry; safe to call twice.
function Invoke-Release {
  if ($null -ne $Script:Link) { Remove-Link $Script:Link; $Script:Link = $null }
  if ($null -ne $Script:ShadowId) {
    Remove-Shadow $Script:ShadowId
    if ($null -ne $Script:Journal) {
      $Script:Journal.snapshots = @(@($Script:Journal.snapshots).Where({ $_.id -ne $Script:ShadowId }))
      Write-Json $JournalFile $Script:Journal
    }
    $Script:ShadowId = $null
  }
}

# ---- A ring on a server over SSH (issue 15) ----
# Everything the helper does on the server is one of these POSIX sh scripts: constant text, the
# same bytes as HELPER_REMOTE_SCRIPTS of src/core/serverScripts.ts (a test compares them).
# Values reach a script only as `set --` followed by words quoted by Quote-Sh, read as "$1"...
$RemoteScripts = @{
  hello = @'
printf 'hello-%s\n' "$1"
printf '%s\n' "$$" "$(uname -n)"
s=$(cat /proc/$$/stat 2>/dev/null) && { s=${s##*) }; set -- $s; printf '%s\n' "${20}"; }
exit 0
'@
  prepare = @'
[ -d "$1" ] || exit 3
cd -- "$1" || exit 4
[ -w . ] || exit 5
for d in .shadow-slots .shadow-slots/manifests .shadow-slots/changes .shadow-slots/sums .shadow-slots/logs .shadow-slots/incoming .shadow-slots/trash; do
  if [ -L "$d" ]; then exit 7; fi
  [ -d "$d" ] || mkdir -- "$d" || exit 6
done
for n in *; do
  case $n in ''|*[!0-9]*|0?*) continue;; esac
  [ -d "$n" ] && printf 'slot %s\n' "$n"
done
printf 'rsync %s\n' "$(rsync --version 2>/dev/null | head -n 1)"
exit 0
'@
  lockPublish = @'
d=$1.new-$$-$3
if [ -e "$1" ]; then exit 17; fi
printf '%s\n' "$2" > "$d" || { rm -f -- "$d"; exit 1; }
sync -- "$d" 2>/dev/null
ln -- "$d" "$1" 2>/dev/null; s=$?; rm -f -- "$d"
if [ $s -ne 0 ] && [ -e "$1" ]; then exit 17; fi
exit $s
'@
  lockRead = @'
t=$(cat -- "$1" 2>/dev/null) || exit 3
date -u '+now %Y %m %d %H %M %S'
TZ=UTC0 rsync --list-only --no-h -l -D -- "$1" 2>/dev/null
printf '@@lock\n%s' "$t"
'@
  processAlive = @'
p=$1
case $p in ''|*[!0-9]*) echo gone; exit 0;; esac
if [ -d /proc/1 ]; then
  s=$(cat /proc/$p/stat 2>/dev/null) || { echo gone; exit 0; }
  s=${s##*) }; set -- $s; echo "alive ${20}"; exit 0
fi
if kill -0 $p 2>/dev/null; then echo alive; exit 0; fi
case $(kill -0 $p 2>&1) in *ermi*) echo alive;; *) echo gone;; esac
'@
  lockAside = @'
mv -f -- "$1" "$2" 2>/dev/null || exit 3
cat -- "$2"
'@
  lockRestore = @'
ln -- "$1" "$2" 2>/dev/null; s=$?; rm -f -- "$1"
exit $s
'@
  unlock = @'
if [ "$(cat -- "$1" 2>/dev/null)" = "$2" ]; then rm -f -- "$1"; fi
exit 0
'@
  read = @'
if [ ! -e "$1" ]; then exit 3; fi
cat -- "$1"
'@
  write = @'
t=$1.tmp-$$-$3
printf '%s' "$2" > "$t" || { rm -f -- "$t"; exit 1; }
sync -- "$t" 2>/dev/null
mv -f -- "$t" "$1" || { rm -f -- "$t"; exit 1; }
sync -- "${1%/*}" 2>/dev/null
exit 0
'@
  append = @'
printf '%s' "$2" >> "$1"
'@
  move = @'
if [ -d "$2" ] && [ ! -L "$2" ]; then printf '%s: File exists\n' "$2" >&2; exit 1; fi
mv -f -- "$1" "$2"
'@
  remove = @'
rm -f -- "$@"
'@
  incoming = @'
cd -- "$1" 2>/dev/null || exit 0
for n in *; do
  case $n in [0-9A-Za-z]*) ;; *) continue;; esac
  case $n in *[!0-9A-Za-z_-]*) continue;; esac
  [ -d "$n" ] && [ ! -L "$n" ] && printf '%s\n' "$n"
done
exit 0
'@
  rotate = @'
while [ $# -ge 2 ]; do
  if [ -e "$2" ] || [ -L "$2" ]; then :
  elif [ -e "$1" ] || [ -L "$1" ]; then mv -- "$1" "$2" || exit 1
  fi
  shift 2
done
exit 0
'@
  purge = @'
m=$1
if [ -L "$m/trash" ]; then exit 0; fi
cd -- "$m/trash" 2>/dev/null || exit 0
for n in * .[!.]* ..?*; do
  [ -e "$n" ] || [ -L "$n" ] || continue
  if ! rm -rf -- "$n" 2>/dev/null; then
    find "./$n" -type d ! -perm -700 -exec chmod u+rwx -- {} \; 2>/dev/null
    rm -rf -- "$n" || { echo failed; continue; }
  fi
  rm -f -- "$m/manifests/$n.json" "$m/changes/$n.log" "$m/sums/$n.tsv" "$m/space/$n~"*
  echo removed
done
exit 0
'@
}
# parseRsyncVersion of src/core/rsyncVersion.ts: the first "rsync version x.y[.z]" in a text, or $null.
function Get-RsyncVersion([string]$Text) {
  $m = [regex]::Match($Text, 'rsync\s+version\s+v?([0-9]{1,4})\.([0-9]{1,4})(?:\.([0-9]{1,4}))?')
  if (-not $m.Success) { return $null }
  , [int[]]@([int]$m.Groups[1].Value, [int]$m.Groups[2].Value, $(if ($m.Groups[3].Success) { [int]$m.Groups[3].Value } else { 0 }))
}
# versionAtLeast of src/core/rsyncVersion.ts (negated).
function Test-VersionBelow([int[]]$Version, [int[]]$Floor) {
  for ($i = 0; $i -lt 3; $i++) { if ($Version[$i] -ne $Floor[$i]) { return $Version[$i] -lt $Floor[$i] } }
  $false
}
# shQuote of src/core/posixQuote.ts: single quotes keep every byte literally in every POSIX shell.
function Quote-Sh([string]$Value) {
  if ($Value.Contains([string][char]0)) { throw 'A NUL character cannot be passed to a shell.' }
  "'" + $Value.Replace("'", "'\''") + "'"
}
# helperRemoteScript: the values as $1..., then the constant body (a checkout with CRLF line ends
# must not put a carriage return into the shell's lines).
function Format-RemoteScript([string]$Name, [string[]]$Values) {
  'set --' + (-join @(@($Values).ForEach({ ' ' + (Quote-Sh $_) }))) + "`n" + $RemoteScripts[$Name].Replace("`r`n", "`n")
}
# helperRemoteFrame: a subshell reading nothing of the session, then the marker and its status.
function Format-RemoteFrame([string]$Script, [string]$Marker) {
  "(`nexport LC_ALL=C`n$Script`n) </dev/null 2>&1`nprintf '\n%s %s\n' $Marker `$?`n"
}
# parseHelperReply: null until the marker line with the status arrived.
function Read-RemoteReply([string]$Buffer, [string]$Marker) {
  $frame = "`n$Marker "
  $at = $Buffer.IndexOf($frame, [StringComparison]::Ordinal)
  if ($at -lt 0) { return $null }
  $end = $Buffer.IndexOf("`n", $at + $frame.Length, [StringComparison]::Ordinal)
  if ($end -lt 0) { return $null }
  $status = $Buffer.Substring($at + $frame.Length, $end - $at - $frame.Length)
  if ($status -cnotmatch '^[0-9]{1,3}\z') { return $null }
  [pscustomobject][ordered]@{ status = [int]$status; output = $Buffer.Substring(0, $at); rest = $Buffer.Substring($end + 1) }
}
# parseLockReply: the lock's age on the server's clock (null when unknown) and its text.
function Read-LockReply([string]$Output) {
  $split = $Output.IndexOf("@@lock`n", [StringComparison]::Ordinal)
  $head = if ($split -lt 0) { $Output } else { $Output.Substring(0, $split) }
  $utc = {
    param($m)
    if (-not $m.Success) { return $null }
    try { [DateTime]::new([int]$m.Groups[1].Value, [int]$m.Groups[2].Value, [int]$m.Groups[3].Value, [int]$m.Groups[4].Value, [int]$m.Groups[5].Value, [int]$m.Groups[6].Value, [DateTimeKind]::Utc) } catch { $null }
  }
  $now = & $utc ([regex]::Match($head, '(?m)^now ([0-9]{4}) ([0-9]{2}) ([0-9]{2}) ([0-9]{2}) ([0-9]{2}) ([0-9]{2})$'))
  $listed = & $utc ([regex]::Match($head, '(?m)^\S{10,}\s+[0-9,.]+ ([0-9]{4,})/([0-9]{2})/([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) '))
  [pscustomobject][ordered]@{ age = $(if ($null -ne $now -and $null -ne $listed) { [int64]($now - $listed).TotalSeconds } else { $null }); text = $(if ($split -lt 0) { '' } else { $Output.Substring($split + 7) }) }
}
# helperRsyncArgv of src/core/windows/helperProfile.ts: after the exclude list, a server ring's
# transport (the copied ssh with the helper's ssh_config, and -s), then the planned options.
function Get-RsyncArgv($Stored, [string]$Id, [bool]$LinkDest) {
  $argv = [Collections.Generic.List[string]]::new()
  $argv.Add("--exclude-from=$($Stored.rsync.excludeFromPrefix)$Id.exclude")
  $transport = @(if ($null -ne $Stored.PSObject.Properties['ssh']) { $Stored.ssh.rsyncTransport })
  foreach ($o in $transport) { $argv.Add($o) }
  foreach ($o in @($Stored.rsync.options)) { $argv.Add($o) }
  if ($LinkDest) { $argv.Insert(1 + $transport.Count + $Stored.rsync.linkDestAt, $Stored.rsync.linkDest) }
  # HELPER_SERVER_RSYNC_TIMEOUT_S (review 15b, finding 2): a server-side rsync whose peer is gone ends by itself.
  if ($transport.Count -gt 0) { $argv.Add('--timeout=300') }
  $argv.Add('--'); $argv.Add($Stored.rsync.snapshotPrefix + $Id + $Stored.rsync.snapshotSuffix); $argv.Add($Stored.rsync.incomingPrefix + $Id + '/')
  , $argv.ToArray()
}

# The session: the copied ssh, the helper's own ssh_config (-F), known_hosts and key; one shell
# on the server ("exec sh") that reads the scripts above from stdin. Its pid holds the ring's
# lock, as the engine's connection does (src/platform/target/remoteLock.ts): it lives exactly as
# long as the connection, so a helper killed or cut off leaves a lock the next run finds stale.
function Open-ServerSession {
  $psi = New-RsyncStart @($P.ssh.session)
  $psi.FileName = $P.ssh.exe
  $psi.RedirectStandardInput = $true
  $Script:Session = [Diagnostics.Process]::Start($psi)
  # .NET Framework may already have written a byte order mark (its stdin writer's preamble); a
  # line of its own makes that one failed command name instead of a corrupt first script.
  $Script:Session.StandardInput.BaseStream.Write([byte[]]@(10), 0, 1)
  # ssh's own messages (host key, authentication) drain all along; read when the session ends.
  $Script:SessionErr = $Script:Session.StandardError.ReadToEndAsync()
  $Script:SessionOut = ''
  $Script:Marker = [Guid]::NewGuid().ToString('N')
  $hello = Invoke-Server 'hello' @($Script:Marker)
  $greeting = "hello-$($Script:Marker)`n"
  $lines = $hello.output.Substring($hello.output.LastIndexOf($greeting, [StringComparison]::Ordinal) + $greeting.Length).Split([char]"`n")
  if ($lines.Count -lt 2 -or $lines[0] -cnotmatch '^[1-9][0-9]{0,9}\z') { Stop-Helper 1 "$Script:ServerName did not answer like a POSIX shell; the account's login shell must run commands (not a menu or a restricted shell such as rrsync)." }
  $Script:ServerInfo = [ordered]@{ pid = [int64]$lines[0]; host = $lines[1]; start = $(if ($lines.Count -gt 2 -and $lines[2] -cmatch '^[0-9]{1,20}\z') { $lines[2] } else { $null }) }
  Log "Connected to $Script:ServerName ($(Format-Name $Script:ServerInfo.host)); session shell $($Script:ServerInfo.pid)"
}
function Get-SessionLost {
  $why = ''
  if ($null -ne $Script:Session -and $Script:Session.WaitForExit(5000)) { $why = Format-Name ((@(($Script:SessionErr.Result -split "`r?`n").Where({ $_ })) | Microsoft.PowerShell.Utility\Select-Object -Last 3) -join ' ') }
  $hint = if ($why -match 'Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED') { " The server's host key is not the one accepted at Set Up ($($P.ssh.fingerprint)); if the server's key really changed, run Set Up Elevated Helper again." }
    elseif ($why -match 'Permission denied') { " Add the helper's public key (shown at Set Up) to ~/.ssh/authorized_keys of $($P.ssh.user) on $($P.ssh.host)." } else { '' }
  "The connection to $Script:ServerName was lost or refused: $why.$hint"
}
$ServerReplySeconds = 3600
$ServerPurgeSeconds = 43200
$ServerReplyMaxChars = 16MB
# Ends the session at once (cancel, deadline, flood): the lock's holder is gone with it, as after
# a killed helper; the server's shell ends with the connection.
function Stop-ServerSession {
  $Script:ServerLock = $null
  try { $Script:Session.Kill() } catch { }
}
# Review M7, and review 15b findings 3 and 4: checked before each read of the session and on each
# second of silence, so a server that answers a little at a time cannot hold the helper either.
# A cancel counts only while $Script:Cancellable: once this run's rotation is journaled the ring
# is (or the next run makes it) rotated, so the run goes on to the end and says so.
function Assert-ServerWait([string]$Name, [DateTime]$Deadline) {
  if ($Script:Cancellable -and $null -ne $Script:Cancel -and $Script:Cancel.Length -gt 0) { Stop-ServerSession; Stop-Helper 7 'The backup was cancelled.' }
  if ([DateTime]::UtcNow -gt $Deadline) { Stop-ServerSession; Stop-Helper 1 "$Script:ServerName did not finish $Name in time; the connection was closed. The next run repairs the ring." }
}
# Runs one script in the session; a status other than 0 or one of $Allowed stops the run.
function Invoke-Server([string]$Name, [string[]]$Values, [int[]]$Allowed = @()) {
  $bytes = $Utf8.GetBytes((Format-RemoteFrame (Format-RemoteScript $Name $Values) $Script:Marker))
  try { $Script:Session.StandardInput.BaseStream.Write($bytes, 0, $bytes.Length); $Script:Session.StandardInput.BaseStream.Flush() } catch { Stop-Helper 1 (Get-SessionLost) }
  $buf = [char[]]::new(65536)
  # Review M7: a server that stalls or floods cannot hold the helper: the cancel request is
  # honoured while waiting, each script has a deadline (purge deletes whole slots: longer), and a
  # reply may not exceed 16 MB (the largest is a manifest or the journal).
  $deadline = [DateTime]::UtcNow.AddSeconds($(if ($Name -eq 'purge') { $ServerPurgeSeconds } else { $ServerReplySeconds }))
  while ($null -eq ($reply = Read-RemoteReply $Script:SessionOut $Script:Marker)) {
    Assert-ServerWait $Name $deadline
    $t = $Script:Session.StandardOutput.ReadAsync($buf, 0, $buf.Length)
    while (-not $t.Wait(1000)) { Assert-ServerWait $Name $deadline }
    if ($t.Result -eq 0) { Stop-Helper 1 (Get-SessionLost) }
    if ($Script:SessionOut.Length + $t.Result -gt $ServerReplyMaxChars) { Stop-ServerSession; Stop-Helper 1 "$Script:ServerName answered $Name with more than 16 MB; the connection was closed." }
    $Script:SessionOut += [string]::new($buf, 0, $t.Result)
  }
  $Script:SessionOut = $reply.rest
  if ($reply.status -ne 0 -and $Allowed -notcontains $reply.status) {
    Stop-Helper 1 "On $Script:ServerName, $Name failed (exit $($reply.status)): $(Format-Name ((@(($reply.output -split "`n").Where({ $_ })) | Microsoft.PowerShell.Utility\Select-Object -Last 3) -join ' '))"
  }
  $reply
}
# Files on the server belong to its account: parsed as untrusted JSON, never quoted in messages.
function Read-ServerJson([string]$Path) {
  $r = Invoke-Server 'read' @($Path) @(3)
  if ($r.status -eq 3) { return $null }
  try { Microsoft.PowerShell.Utility\ConvertFrom-Json -InputObject $r.output } catch { Stop-Helper 1 "$Path on $Script:ServerName is not valid JSON; repair the ring with the CLI (shadow-slots list --target ...)." }
}
function Write-ServerJson([string]$Path, $Value) {
  [void](Invoke-Server 'write' @($Path, ((Microsoft.PowerShell.Utility\ConvertTo-Json -InputObject $Value -Depth 10) + "`n"), [Guid]::NewGuid().ToString('N').Substring(0, 8)))
}
function Get-ServerOwner([string]$Text) {
  try { $o = Microsoft.PowerShell.Utility\ConvertFrom-Json -InputObject $Text } catch { return $null }
  # A JSON number, as readRemoteOwner of the engine takes it (review L11: true is no pid, and such a lock is judged by its age).
  if ($null -eq $o -or $o -isnot [pscustomobject] -or $null -eq $o.PSObject.Properties['pid'] -or $null -eq $o.PSObject.Properties['host'] -or $o.host -isnot [string]) { return $null }
  if ($o.pid -isnot [int] -and $o.pid -isnot [int64] -and $o.pid -isnot [double] -and $o.pid -isnot [decimal]) { return $null }
  $o
}
function Format-ServerOwner($Owner) {
  $command = if ($null -ne $Owner.PSObject.Properties['command']) { Format-Name ([string]$Owner.command) } else { '?' }
  "process $(Format-Name ([string]$Owner.pid)) on $(Format-Name $Owner.host) ($command)"
}
# Whether the server still runs the lock's holder: readRemoteOwner + remoteProcessRuns.
function Test-ServerLockLive($Owner, [int64]$Age) {
  if ($null -eq $Owner) { return $Age -lt 30 }
  if ($Owner.host -cne $Script:ServerInfo.host) { return $true }
  if ($Owner.pid -isnot [int] -and $Owner.pid -isnot [int64] -or $Owner.pid -le 0) { return $false }
  $state = (Invoke-Server 'processAlive' @([string]$Owner.pid)).output.Trim().Split([char]' ')
  if ($state[0] -cne 'alive') { return $false }
  $start = if ($null -ne $Owner.PSObject.Properties['pidStart']) { $Owner.pidStart } else { $null }
  -not ($null -ne $start -and $state.Count -gt 1 -and [string]$state[1] -cne [string]$start)
}
# acquireRemoteLock: publish a complete lock by link(2); a stale one (its holder gone) is set
# aside, checked to be the one judged, and removed.
function Lock-ServerRing {
  $text = Microsoft.PowerShell.Utility\ConvertTo-Json -Compress -InputObject ([ordered]@{ pid = $Script:ServerInfo.pid; host = $Script:ServerInfo.host; pidStart = $Script:ServerInfo.start; command = "windows-helper from $([Net.Dns]::GetHostName()) (pid $PID)"; startedAt = $Script:State.startedAt })
  for ($attempt = 0; $attempt -lt 3; $attempt++) {
    $r = Invoke-Server 'lockPublish' @($Srv.lock, $text, [Guid]::NewGuid().ToString('N').Substring(0, 6)) @(17)
    if ($r.status -eq 0) { $Script:ServerLock = $text; return }
    $read = Invoke-Server 'lockRead' @($Srv.lock) @(3)
    if ($read.status -eq 3) { continue }
    $reply = Read-LockReply $read.output
    $owner = Get-ServerOwner $reply.text
    $age = if ($null -eq $reply.age) { [int64]::MaxValue } else { $reply.age }
    if (Test-ServerLockLive $owner $age) {
      Stop-Helper 4 "Another backup of this ring is running: $(if ($null -eq $owner) { 'a lock being written' } else { Format-ServerOwner $owner }) (the lock on $Script:ServerName)."
    }
    $aside = "$($Srv.lock).stale-$($Script:ServerInfo.pid)-$([Guid]::NewGuid().ToString('N').Substring(0, 6))"
    $moved = Invoke-Server 'lockAside' @($Srv.lock, $aside) @(3)
    if ($moved.status -eq 3) { continue }
    $movedOwner = Get-ServerOwner $moved.output
    if ($null -ne $movedOwner -and ($null -eq $owner -or [string]$movedOwner.pid -cne [string]$owner.pid -or [string]$movedOwner.startedAt -cne [string]$owner.startedAt)) {
      [void](Invoke-Server 'lockRestore' @($aside, $Srv.lock) @(1)); continue
    }
    [void](Invoke-Server 'remove' @($aside))
    Log "Took over a stale lock on $Script:ServerName"
  }
  Stop-Helper 4 "Could not take the ring's lock on $Script:ServerName; another run keeps taking it."
}
function Close-ServerSession {
  if ($null -ne $Script:ServerLock) { try { [void](Invoke-Server 'unlock' @($Srv.lock, $Script:ServerLock)) } catch { Log "Unlocking on the server failed: $($_.Exception.Message)" }; $Script:ServerLock = $null }
  try { $Script:Session.StandardInput.Close() } catch { }
  if (-not $Script:Session.WaitForExit(10000)) { try { $Script:Session.Kill() } catch { } }
  $Script:Session.Dispose(); $Script:Session = $null
}
# The ring's paths on the server, joined as the engine's posix.join joins them.
function Get-ServerPaths([string]$Ring) {
  $m = "$Ring/.shadow-slots"
  [ordered]@{ target = $Ring; root = $Ring; meta = $m; ringFile = "$m/ring.json"; journal = "$m/journal.json"; lock = "$m/lock"; manifests = "$m/manifests"; changes = "$m/changes"; incoming = "$m/incoming"; trash = "$m/trash" }
}
# A journaled rotation, rolled forward on the server (RingStore.repair/rotate): steps by which
# paths exist, then ring.json, then the journal without it. Values read back are validated first.
function Invoke-ServerRotation($Rotation, $Journal) {
  Assert-Rotation $Rotation
  $final = [ordered]@{ format = 1; entries = @(foreach ($e in @($Rotation.final.entries)) { [ordered]@{ number = [int]$e.number; id = [string]$e.id } }) }
  $deletion = $null -ne $Rotation.PSObject.Properties['kind'] -and $Rotation.kind -eq 'delete'
  if (-not $deletion) {
    $manifestFile = "$($Srv.manifests)/$($Rotation.newId).json"
    $m = Read-ServerJson $manifestFile
    if ($null -ne $m -and $null -ne $m.PSObject.Properties['state'] -and $m.state -ne 'complete') { $m.state = 'complete'; Write-ServerJson $manifestFile $m }
  }
  $pairs = [Collections.Generic.List[string]]::new()
  foreach ($s in @($Rotation.steps)) {
    switch ($s.kind) {
      'drop' { $pairs.Add("$($Srv.root)/$([int]$s.from)"); $pairs.Add("$($Srv.trash)/$($s.id)") }
      'move' { $pairs.Add("$($Srv.root)/$([int]$s.from)"); $pairs.Add("$($Srv.root)/$([int]$s.to)") }
      'promote' { $pairs.Add("$($Srv.incoming)/$($s.id)"); $pairs.Add("$($Srv.root)/0") }
    }
  }
  [void](Invoke-Server 'rotate' $pairs.ToArray())
  Write-ServerJson $Srv.ringFile $final
  $Journal.rotation = $null
  Write-ServerJson $Srv.journal $Journal
}

# Connect, lock, repair and read the ring on the server: what the local path does with the pinned
# target folder. Sets $Script:ServerEntries and $Script:ServerLinkDest.
function Initialize-ServerRing {
  foreach ($f in @($P.ssh.files)) {
    if ((Get-Sha256 ([IO.Path]::Combine($Here, $f.name.Replace('/', '\')))) -ne $f.sha256) { Stop-Helper 2 "$($f.name) differs from what was installed; run Set Up Elevated Helper again." }
  }
  # Review H1: the hashes above are the planner's; the bytes must also be what this script makes
  # of the checked user, host and port, and known_hosts the one accepted key.
  $want = Get-HelperSshPlan $Here $P.rsync.flavor $P.ssh
  $config = [IO.File]::ReadAllBytes([IO.Path]::Combine($Here, 'ssh\ssh_config'))
  if ([Convert]::ToBase64String($config) -cne [Convert]::ToBase64String($Utf8.GetBytes($want.config))) { Stop-Helper 2 "ssh\ssh_config is not the helper's own configuration for $Script:ServerName; run Set Up Elevated Helper again." }
  $known = Get-KnownHostsProblem ($Utf8.GetString([IO.File]::ReadAllBytes([IO.Path]::Combine($Here, 'ssh\known_hosts')))) $P.ssh
  if ($null -ne $known) { Stop-Helper 2 "ssh\known_hosts is not as Set Up accepted it: $known; run Set Up Elevated Helper again." }
  $sshDir = [IO.Path]::Combine($Here, 'ssh')
  if (-not (Test-AdminOnly $sshDir) -or -not [IO.File]::Exists([IO.Path]::Combine($sshDir, 'id_ed25519'))) { Stop-Helper 2 "$sshDir or the helper's key in it is not as installed; run Set Up Elevated Helper again." }
  # Review H2: this rsync runs as SYSTEM and speaks rsync's protocol with a server the requester
  # chose; before 3.4.0 a server can overflow its heap (CVE-2024-12084) or read its memory
  # (CVE-2024-12085). HELPER_SSH_MIN_RSYNC of src/core/rsyncVersion.ts.
  $vp = [Diagnostics.Process]::Start((New-RsyncStart @('--version')))
  $versionLine = $vp.StandardOutput.ReadLine(); [void]$vp.StandardOutput.ReadToEnd(); $vp.WaitForExit()
  $localRsync = Get-RsyncVersion ([string]$versionLine)
  if ($null -eq $localRsync -or (Test-VersionBelow $localRsync @(3, 4, 0))) {
    Stop-Helper 2 "The installed rsync is $(if ($null -eq $localRsync) { 'of an unknown version' } else { $localRsync -join '.' }); a ring on a server needs rsync 3.4.0 or later (CVE-2024-12084, CVE-2024-12085). Update rsync, then run Set Up Elevated Helper again."
  }
  Set-State 'connect' "Connecting to $Script:ServerName" -Force
  Open-ServerSession
  $prep = Invoke-Server 'prepare' @($Srv.target) @(3, 4, 5, 6, 7)
  $ringName = Format-Name $Srv.target
  switch ($prep.status) {
    3 { Stop-Helper 1 "The target folder $ringName does not exist on $Script:ServerName. Create it there (the helper never creates it, so a backup cannot fill the wrong disk), or mount the backup disk." }
    { $_ -in 4, 5, 6 } { Stop-Helper 1 "$($P.ssh.user) cannot write to $ringName on $Script:ServerName (exit $($prep.status)); check the folder's permissions there." }
    7 { Stop-Helper 1 "A folder in $ringName/.shadow-slots on $Script:ServerName is a symbolic link; the helper writes and deletes only in real folders there. Replace the link with a folder." }
  }
  # Review L11: what the message says is what is checked (MIN_RSYNC_VERSION of the engine).
  $serverRsync = Get-RsyncVersion $prep.output
  if ($null -eq $serverRsync) { Stop-Helper 1 "rsync is not installed on $Script:ServerName (the server needs sshd, a POSIX sh and rsync 3.1 or later)." }
  if (Test-VersionBelow $serverRsync @(3, 1, 0)) { Stop-Helper 1 "$Script:ServerName has rsync $($serverRsync -join '.'); the server needs rsync 3.1 or later." }
  $present = @(foreach ($l in $prep.output.Split([char]"`n")) { if ($l -cmatch '^slot (0|[1-9][0-9]{0,5})\z') { [int]$Matches[1] } })

  Set-State 'lock' 'Taking the ring lock' -Force
  Lock-ServerRing

  # Repair, as the engine does first: a journaled rotation is rolled forward.
  Set-State 'repair' 'Checking for an interrupted run' -Force
  $Script:ServerJournal = Read-ServerJson $Srv.journal
  if ($null -eq $Script:ServerJournal) { $Script:ServerJournal = [pscustomobject][ordered]@{ format = 1; rotation = $null; snapshots = @() } }
  if ($Script:ServerJournal.format -ne 1 -or $null -eq $Script:ServerJournal.PSObject.Properties['rotation']) { Stop-Helper 1 'journal.json on the server has an unknown format.' }
  if ($null -ne $Script:ServerJournal.rotation) {
    Log 'Completing an interrupted rotation on the server'
    Invoke-ServerRotation $Script:ServerJournal.rotation $Script:ServerJournal
    $prep = Invoke-Server 'prepare' @($Srv.target)
    $present = @(foreach ($l in $prep.output.Split([char]"`n")) { if ($l -cmatch '^slot (0|[1-9][0-9]{0,5})\z') { [int]$Matches[1] } })
  }
  # Like the engine: resume the newest unfinished copy under this run's id, discard older ones.
  # Ordinal, newest first, as the engine and test/helpers/helperServerRun.ts sort (Sort-Object compares by culture: review M6).
  $left = [string[]]@(@((Invoke-Server 'incoming' @($Srv.incoming)).output.Split([char]"`n")).Where({ $_ -cmatch '^[0-9A-Za-z][0-9A-Za-z_-]{0,80}\z' }))
  [Array]::Sort($left, [StringComparer]::Ordinal); [Array]::Reverse($left)
  for ($i = 0; $i -lt $left.Count; $i++) {
    if ($i -eq 0) {
      Log "Resuming the unfinished slot $($left[$i]) on the server"
      [void](Invoke-Server 'move' @("$($Srv.incoming)/$($left[$i])", "$($Srv.incoming)/$RunId"))
      [void](Invoke-Server 'remove' @("$($Srv.manifests)/$($left[$i]).json", "$($Srv.changes)/$($left[$i]).log"))
    } else {
      Log "Discarding $($left[$i]) on the server"
      [void](Invoke-Server 'move' @("$($Srv.incoming)/$($left[$i])", "$($Srv.trash)/$($left[$i])"))
    }
  }

  $ring = Read-ServerJson $Srv.ringFile
  if ($null -eq $ring) {
    if ($present.Count -gt 0) { Stop-Helper 1 "The target on $Script:ServerName holds numbered slot folders but no .shadow-slots/ring.json. Run one backup with snapshot method ""none"" (the engine adopts the ring), then use the helper." }
    $entries = @()
  } else {
    if ($ring.format -ne 1) { Stop-Helper 1 'ring.json on the server has an unknown format.' }
    $entries = @(foreach ($e in @($ring.entries)) { Assert-SlotNumber $e.number; Assert-SlotId $e.id; [pscustomobject][ordered]@{ number = [int]$e.number; id = [string]$e.id } })
    Assert-RingUnique $entries
    $foreign = @($present.Where({ $entries.number -notcontains $_ }))
    if ($foreign.Count -gt 0) { Stop-Helper 1 "The target on $Script:ServerName holds folder(s) named $($foreign -join ', ') that are not slots of this ring; a backup would rotate or delete them. Move them out of the target folder. Nothing was changed." }
    # A slot whose folder is gone is left out, as the engine's readState does.
    $entries = @($entries.Where({ $present -contains $_.number }))
  }
  $Script:ServerEntries = $entries
  # Slot 0 on the server is linked against whoever made it: the server's files are its account's
  # either way, and nothing of them comes back to this computer.
  $Script:ServerLinkDest = @($entries.Where({ $_.number -eq 0 })).Count -gt 0
}

# Copy into the server's incoming folder through the copied ssh, then rotate there (journaled
# first), release the shadow, and delete the dropped slots.
function Copy-ToServer {
  $argv = Get-RsyncArgv $P $RunId $Script:ServerLinkDest
  $manifestFile = "$($Srv.manifests)/$RunId.json"
  $manifest = New-SlotManifest $argv $(if ($Script:ServerLinkDest) { [string]@($Script:ServerEntries.Where({ $_.number -eq 0 }))[0].id } else { '' })
  Write-ServerJson $manifestFile $manifest
  Set-State 'copy' "Copying from the shadow copy to $Script:ServerName" -Force
  Log ('rsync ' + (@(@($argv).ForEach({ Quote-Arg $_ })) -join ' '))
  $Script:LocalChanges = [IO.Path]::Combine($Tmp, "$RunId.changes")
  $result = Invoke-Rsync @($argv) $Script:LocalChanges
  # The change log goes to the server in pieces cut at line ends.
  $log = [IO.File]::ReadAllText($Script:LocalChanges, $Utf8)
  for ($at = 0; $at -lt $log.Length; ) {
    $end = if ($log.Length - $at -le 262144) { $log.Length } else { $log.LastIndexOf([char]10, $at + 262143) + 1 }
    if ($end -le $at) { $end = [Math]::Min($log.Length, $at + 262144) }
    [void](Invoke-Server 'append' @("$($Srv.changes)/$RunId.log", $log.Substring($at, $end - $at)))
    $at = $end
  }
  Complete-SlotManifest $manifest $result $manifestFile -Server

  Set-State 'rotate' 'Rotating the ring' -Force
  $rotation = Get-RotationPlan $Script:ServerEntries $P.slots $RunId
  $rotation.startedAt = (Now)
  $Script:ServerJournal.rotation = $rotation
  # Review 15b, finding 3: from the journal write on, the ring is rotated whatever happens; a
  # cancel no longer stops the run (deadline and reply cap still hold).
  $Script:Cancellable = $false
  Write-ServerJson $Srv.journal $Script:ServerJournal
  Invoke-ServerRotation ([pscustomobject]$rotation) $Script:ServerJournal
  Set-State 'release' 'Releasing the shadow copy' -Force
  Invoke-Release
  Set-State 'finalize' 'Removing the oldest slot' -Force
  $purged = (Invoke-Server 'purge' @($Srv.meta)).output
  if ($purged -cmatch '(?m)^failed$') { Log "Some dropped slots on $Script:ServerName could not be deleted; the next run tries again." }
}

$exit = 0
$P = $null; $Remote = $false; $Srv = $null; $Script:Session = $null; $Script:ServerLock = $null; $Script:LocalChanges = $null; $lockHeld = $false; $Script:Cancel = $null; $Script:Cancellable = $true; $Script:Journal = $null; $Script:ShadowId = $null; $Script:Link = $null; $Script:TargetHasAcls = $true
$excludeFile = $null
try {
  if (-not [Environment]::Is64BitProcess) { Stop-Helper 6 $HelperExitMessages[6] }
  $principal = [Security.Principal.WindowsPrincipal]::new([Security.Principal.WindowsIdentity]::GetCurrent())
  if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) { Stop-Helper 6 $HelperExitMessages[6] }
  # The install folder must still be what the installer made before anything is read from it or
  # compiled in it (findings 2 and 3).
  foreach ($d in [IO.Path]::GetDirectoryName($Here), $Here, $Tmp) {
    if (-not (Test-AdminOnlyBeforeNative $d)) { Stop-Helper 2 "$d can be changed by someone other than administrators; run Set Up Elevated Helper again." }
  }
  try { $P = Read-Json ([IO.Path]::Combine($Here, 'profile.json')); Assert-Profile $P }
  catch { Stop-Helper 2 $(if ($_.Exception.Data.Contains('exit')) { $_.Exception.Message } else { "$($HelperExitMessages[2]) ($($_.Exception.Message))" }) }
  # Review 15b, finding 1: before any process starts (csc of Add-Type included), the runtime's
  # mount table must be the fixed text for its flavor and the runtime DLL that flavor's, for local
  # rings as for server rings. The folder was checked above; nothing else can write it.
  $fstab = [IO.Path]::Combine($Here, 'rsync\etc\fstab')
  if (-not [IO.File]::Exists($fstab) -or [Convert]::ToBase64String([IO.File]::ReadAllBytes($fstab)) -cne [Convert]::ToBase64String($Utf8.GetBytes((Get-RsyncFstab $P.rsync.flavor)))) { Stop-Helper 2 "rsync\etc\fstab is not the fixed mount table of $($P.rsync.flavor) rsync; run Set Up Elevated Helper again." }
  $runtimeProblem = Get-RuntimeFlavorProblem $P.rsync.flavor @(@($P.rsync.files).ForEach({ $_.name }))
  if ($null -ne $runtimeProblem) { Stop-Helper 2 "The installed rsync does not match its flavor: $runtimeProblem; run Set Up Elevated Helper again." }
  $Remote = $null -ne $P.PSObject.Properties['ssh']
  $Script:LogFile = [IO.Path]::Combine($P.stateDir, 'helper.log')
  [IO.File]::WriteAllText($Script:LogFile, '', $Utf8)
  Microsoft.PowerShell.Utility\Add-Type -TypeDefinition ([IO.File]::ReadAllText($NativeSource, $Utf8)) -Language CSharp
  # Review H3: rsync, its ssh and the session's ssh end with this process however it ends (a
  # kill-on-close job; docs/windows.md, "Copies that outlive the helper"), so no copy can write into
  # a ring after its lock is found stale. Before any process is started.
  [ShadowSlots.ProcessJob]::KillChildrenWithThisProcess()
  # Again, through handles and the raw DACL; then the privileges rsync enables for itself, so the
  # helper sees what rsync will see (review H3).
  foreach ($d in [IO.Path]::GetDirectoryName($Here), $Here, $Tmp) {
    if (-not (Test-AdminOnly $d)) { Stop-Helper 2 "$d can be changed by someone other than administrators; run Set Up Elevated Helper again." }
  }
  if (@([ShadowSlots.Native]::EnablePrivileges()) -contains 'SeBackupPrivilege') { Stop-Helper 6 $HelperExitMessages[6] }
  $Script:State.profile = $P.name; $Script:State.warnings = @($P.warnings)
  $Script:StateFile = [IO.Path]::Combine($P.stateDir, 'progress.json')
  # The requester may append to this one file (and do nothing else here): non-empty means "stop".
  # Made anew and held for the run (review L5): whatever the requester did to it is gone.
  $CancelFile = [IO.Path]::Combine($P.cancelDir, 'request')
  $Script:Cancel = [ShadowSlots.Native]::CreateCancelFile($CancelFile)
  Set-State 'preflight' 'Checking the profile' -Force
  foreach ($f in @($P.rsync.files)) {
    if ((Get-Sha256 ([IO.Path]::Combine($Here, $f.name.Replace('/', '\')))) -ne $f.sha256) { Stop-Helper 2 "$($f.name) differs from what was installed; run Set Up Elevated Helper again." }
  }
  if ($Remote) {
    # A ring on a server: connect, lock, repair and read it there (Initialize-ServerRing).
    $Script:ServerName = "$($P.ssh.user)@$($P.ssh.host)"
    $Srv = Get-ServerPaths $P.ssh.path
    Initialize-ServerRing
  } else {
  if (-not [IO.Directory]::Exists($P.target)) { Stop-Helper 1 "The target folder $($P.target) does not exist. Connect the backup disk." }
  if ($P.target.StartsWith('\\')) { Assert-RemoteTarget $P.target }

  # Finding 5, target side: every folder from the drive down to the ring is opened as itself and
  # held, so none of them can be swapped for a junction while the helper works.
  $targetPins = [ShadowSlots.Native]::PinPath($P.target)
  foreach ($pin in $targetPins) { $Script:Pins.Add($pin) }
  if (-not $P.target.StartsWith('\\')) {
    $format = [IO.DriveInfo]::new($P.target.Substring(0, 1)).DriveFormat
    $Script:TargetHasAcls = $format -notin 'FAT', 'FAT32', 'exFAT'
    if ($format -eq 'NTFS' -and $P.slots -gt $NtfsMaxLinks) { Stop-Helper 2 "NTFS allows $NtfsMaxLinks hard links per file; a ring of $($P.slots) slots cannot be kept." }
  }
  if ($Script:TargetHasAcls) { Assert-TargetAccess $targetPins[$targetPins.Count - 1] $P.target }
  $Meta = [IO.Path]::Combine($P.target, '.shadow-slots')
  $RingFile = [IO.Path]::Combine($Meta, 'ring.json'); $JournalFile = [IO.Path]::Combine($Meta, 'journal.json'); $LockFile = [IO.Path]::Combine($Meta, 'lock')
  $Incoming = [IO.Path]::Combine($Meta, 'incoming'); $Trash = [IO.Path]::Combine($Meta, 'trash')
  foreach ($d in $Meta, [IO.Path]::Combine($Meta, 'manifests'), [IO.Path]::Combine($Meta, 'changes'), [IO.Path]::Combine($Meta, 'logs'), $Incoming, $Trash) {
    if (-not [IO.Directory]::Exists($d)) { [void][IO.Directory]::CreateDirectory($d) }
    $pin = Add-Pin $d
    if ($Script:TargetHasAcls) { Assert-TargetAccess $pin $d -Meta }
  }

  # The ring's lock, in the format of src/platform/lock.ts; a lock whose process is gone is stale.
  Set-State 'lock' 'Taking the ring lock' -Force
  $host_ = [Net.Dns]::GetHostName()
  for ($attempt = 0; -not $lockHeld -and $attempt -lt 3; $attempt++) {
    try {
      $fs = [ShadowSlots.Native]::CreateNew($LockFile)
      $bytes = $Utf8.GetBytes(((Microsoft.PowerShell.Utility\ConvertTo-Json -InputObject ([ordered]@{ pid = $PID; host = $host_; pidStart = $null; command = 'windows-helper'; startedAt = $Script:State.startedAt }) -Compress) + "`n"))
      $fs.Write($bytes, 0, $bytes.Length); $fs.Flush($true); $fs.Dispose(); $lockHeld = $true
    } catch [IO.IOException] {
      $owner = $null; try { $owner = Read-UserJson $LockFile } catch { }
      $stale = $null -eq $owner -or ($owner.host -eq $host_ -and $null -eq (Microsoft.PowerShell.Management\Get-Process -Id ([int]$owner.pid) -ErrorAction SilentlyContinue))
      if (-not $stale) { Stop-Helper 4 "Another backup of this ring is running (process $($owner.pid) on $($owner.host))." }
      [ShadowSlots.Native]::DeleteName($LockFile)
    }
  }
  if (-not $lockHeld) { Stop-Helper 4 $HelperExitMessages[4] }

  # Repair: roll a journaled rotation forward; release this helper's shadows and links.
  Set-State 'repair' 'Checking for an interrupted run' -Force
  $Script:Journal = if ([IO.File]::Exists($JournalFile)) { Read-UserJson $JournalFile } else { [pscustomobject][ordered]@{ format = 1; rotation = $null; snapshots = @() } }
  if ($Script:Journal.format -ne 1) { Stop-Helper 1 'journal.json has an unknown format.' }
  if ($null -ne $Script:Journal.rotation) { Log 'Completing an interrupted rotation'; Invoke-Rotation $Script:Journal.rotation }
  foreach ($l in [IO.DirectoryInfo]::new($P.linkDir).GetFileSystemInfos()) { Log "Removing the link $($l.Name) left by an earlier run"; Remove-Link $l.FullName }
  foreach ($id in @((Get-Owned).ids)) { Log "Releasing shadow $id left by an earlier run"; Remove-Shadow $id }
  Invoke-IntentSweep
  $Script:Journal.snapshots = @(@($Script:Journal.snapshots).Where({ $_.method -ne 'vss' }))
  Write-Json $JournalFile $Script:Journal
  # Like the engine: resume the newest unfinished copy under this run's id (only one this helper
  # made: nothing in it can be planted), discard older ones.
  $left = @([IO.DirectoryInfo]::new($Incoming).GetFileSystemInfos() | Microsoft.PowerShell.Utility\Sort-Object -Property Name -Descending)
  for ($i = 0; $i -lt $left.Count; $i++) {
    $d = $left[$i]
    $realFolder = ($d.Attributes -band [IO.FileAttributes]::Directory) -and -not ($d.Attributes -band [IO.FileAttributes]::ReparsePoint)
    if (-not $realFolder) { Log "Removing $($d.Name) from incoming: not a folder"; [ShadowSlots.Native]::DeleteName($d.FullName); continue }
    if ($i -eq 0 -and (Test-HelperMade $d.FullName)) {
      Log "Resuming the unfinished slot $($d.Name)"
      [IO.Directory]::Move($d.FullName, [IO.Path]::Combine($Incoming, $RunId))
      foreach ($f in [IO.Path]::Combine($Meta, "manifests\$($d.Name).json"), [IO.Path]::Combine($Meta, "changes\$($d.Name).log")) { [ShadowSlots.Native]::DeleteName($f) }
    } else {
      Log "Discarding $($d.Name)"
      try { [void](Remove-Tree $d.FullName) } catch { Log "Could not discard $($d.FullName): $($_.Exception.Message)" }
    }
  }

  if ([IO.File]::Exists($RingFile)) {
    $ring = Read-UserJson $RingFile
    if ($ring.format -ne 1) { Stop-Helper 1 'ring.json has an unknown format.' }
    $entries = @($ring.entries)
    foreach ($e in $entries) { Assert-SlotNumber $e.number; Assert-SlotId $e.id }
    Assert-RingUnique $entries
  } else {
    $entries = @()
    if (@([IO.DirectoryInfo]::new($P.target).GetDirectories().Where({ $_.Name -match '^(0|[1-9][0-9]{0,5})$' })).Count -gt 0) {
      Stop-Helper 1 'The target holds numbered slot folders but no .shadow-slots\ring.json. Run one backup with snapshot method "none" from the editor or the CLI to adopt the ring, then use the helper.'
    }
  }
  # rsync reads slot 0 for --link-dest only if this helper made it; a slot made by the engine is
  # the user's to change, so the new slot is then a full copy.
  $slot0 = @($entries.Where({ [int]$_.number -eq 0 }))
  $slot0Dir = [IO.Path]::Combine($P.target, '0')
  $slot0Pin = $null
  if ($slot0.Count -gt 0 -and [IO.Directory]::Exists($slot0Dir)) {
    try { $slot0Pin = Add-Pin $slot0Dir } catch { Log "Not linking to slot 0: $($_.Exception.Message)" }
    if ($null -ne $slot0Pin -and -not (Test-HelperMade $slot0Dir)) { Log 'Slot 0 was not made by the helper: this slot is a full copy.'; Remove-Pin $slot0Pin; $slot0Pin = $null }
  }
  $linkDest = $null -ne $slot0Pin
  }

  # Snapshot: flush; record the intent; create; record the ID at once; expose it through a link.
  Set-State 'snapshot' 'Creating a shadow copy' -Force
  try { Storage\Write-VolumeCache -DriveLetter $P.volume.Substring(0, 1) } catch { Log "Flushing the volume cache failed: $($_.Exception.Message)" }
  $owned = Get-Owned
  $owned.intents = @(@($owned.intents) + [pscustomobject][ordered]@{ runId = $RunId; volume = $P.volume; startedAt = (Now); before = @((Get-Shadows).ForEach({ [string]$_.ID })) })
  Set-Owned $owned
  for ($attempt = 1; ; $attempt++) {
    $r = CimCmdlets\Invoke-CimMethod -ClassName Win32_ShadowCopy -MethodName Create -Arguments @{ Volume = $P.volume; Context = 'ClientAccessible' }
    $code = [int]$r.ReturnValue
    if ($code -eq 0) { $Script:ShadowId = [string]$r.ShadowID }
    if ($code -eq 0 -or $code -ne 9 -or $attempt -ge 2) {
      $owned = Get-Owned
      if ($code -eq 0) { $owned.ids = @(@($owned.ids) + $Script:ShadowId) }
      $owned.intents = @(@($owned.intents).Where({ $_.runId -ne $RunId }))
      Set-Owned $owned
    }
    if ($code -eq 0) { break }
    if ($code -ne 9 -or $attempt -ge 2) { Stop-Helper 5 $(if ($VssCreateMessages.ContainsKey($code)) { $VssCreateMessages[$code] } else { "Creating the shadow copy failed with code $code." }) }
    [Threading.Thread]::Sleep(10000)
  }
  $Script:Link = [IO.Path]::Combine($P.linkDir, $RunId)
  # A server's journal never names this computer's shadow: shadows.json above is the record.
  if (-not $Remote) {
    $Script:Journal.snapshots = @(@($Script:Journal.snapshots) + [pscustomobject][ordered]@{ method = 'vss'; id = $Script:ShadowId; path = $Script:Link; createdAt = (Now); pid = $PID })
    Write-Json $JournalFile $Script:Journal
  }
  $device = [string]@((Get-Shadows).Where({ $_.ID -eq $Script:ShadowId }))[0].DeviceObject
  if ($device -notmatch '^\\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy\d+$') { Stop-Helper 5 "The new shadow copy $Script:ShadowId has no device path." }
  [ShadowSlots.Native]::LinkDirectory($Script:Link, $device + '\')
  Log "Shadow $Script:ShadowId ($device) linked at $($Script:Link)"

  # Finding 5 and review H3, source side, in the frozen shadow: the source is the requester's own;
  # the whole tree is walked with backup semantics (what rsync sees; a folder that cannot be
  # listed stops the run); every entry must be readable by the requester; every link, junction
  # or mount point is excluded, and one whose name rsync would read differently stops the run.
  Assert-SourceIsRequesters $Script:Link
  $shadowSource = $Script:Link + '\' + $P.source.Substring($P.volume.Length)
  $scan = [ShadowSlots.Native]::ScanSource($shadowSource, $P.requester)
  Log "Checked $($scan.Entries) entries of the source"
  if ($scan.Unmatchable.Count -gt 0) {
    Stop-Helper 1 "The source holds $($scan.Unmatchable.Count) link(s) or junction(s) whose name rsync would read differently (a private-use or unpaired surrogate character, a reserved character, or a trailing dot or space), e.g. $(Format-Name $scan.Unmatchable[0]). Such a link could lead rsync out of the source; rename or remove it."
  }
  if ($scan.Unreadable.Count -gt 0) {
    Stop-Helper 1 "$($scan.Unreadable.Count) file(s) or folder(s) in the source cannot be read by your account, e.g. $(Format-Name $scan.Unreadable[0]). The helper copies with administrator rights into a slot you can read, so it copies only what you can read: give yourself read access or move them out of the source."
  }
  $redirections = @($scan.Redirections)
  $excludeFile = [IO.Path]::Combine($Tmp, "$RunId.exclude")
  [IO.File]::WriteAllText($excludeFile, (@($redirections.ForEach({ (Format-ExcludeLine $_) + "`n" })) -join ''), $Utf8)
  if ($redirections.Count -gt 0) {
    $Script:State.warnings = @($Script:State.warnings) + "$($redirections.Count) link(s), junction(s) or mount point(s) in the source were not followed, e.g. $($redirections[0])"
    Log "Not following: $($redirections -join ', ')"
  }

  if ($Remote) { Copy-ToServer } else {
  # Copy into the in-progress slot: a folder only administrators can change, held open.
  $argv = Get-RsyncArgv $P $RunId $linkDest
  $slotDir = [IO.Path]::Combine($Incoming, $RunId)
  New-SlotDir $slotDir
  $slotPin = Add-Pin $slotDir
  if (-not (Test-HelperMade $slotDir)) { Stop-Helper 1 "$slotDir was not made by the helper (something else created it first); remove it and run the backup again." }
  $manifestFile = [IO.Path]::Combine($Meta, "manifests\$RunId.json")
  $manifest = New-SlotManifest $argv $(if ($linkDest) { [string]$slot0[0].id } else { '' })
  Write-Json $manifestFile $manifest
  Set-State 'copy' 'Copying from the shadow copy' -Force
  Log ('rsync ' + (@(@($argv).ForEach({ Quote-Arg $_ })) -join ' '))
  $result = Invoke-Rsync @($argv) ([IO.Path]::Combine($Meta, "changes\$RunId.log"))
  Complete-SlotManifest $manifest $result $manifestFile

  # Rotate: journal the whole plan first, so a crash is rolled forward by the next run. The
  # folders that move are let go first (the helper's own hold would stop the rename).
  Set-State 'rotate' 'Rotating the ring' -Force
  Remove-Pin $slotPin; Remove-Pin $slot0Pin
  $rotation = Get-RotationPlan $entries $P.slots $RunId
  $rotation.startedAt = (Now)
  $Script:Journal.rotation = $rotation
  Write-Json $JournalFile $Script:Journal
  Invoke-Rotation $rotation
  Set-State 'release' 'Releasing the shadow copy' -Force
  Invoke-Release
  Set-State 'finalize' 'Removing the oldest slot' -Force
  # The slot is complete; a tree that cannot be deleted now is left for the next run.
  foreach ($d in [IO.DirectoryInfo]::new($Trash).GetDirectories()) {
    try {
      if ($d.Attributes -band [IO.FileAttributes]::ReparsePoint) { Log "Removing the link $($d.Name) from trash"; [ShadowSlots.Native]::DeleteName($d.FullName) }
      else { [void](Remove-Tree $d.FullName) }
    } catch { Log "Could not delete $($d.FullName): $($_.Exception.Message)" }
  }
  }
  $Script:State.status = 'complete'
} catch {
  $exit = if ($_.Exception.Data.Contains('exit')) { [int]$_.Exception.Data['exit'] } else { 1 }
  $Script:State.status = switch ($exit) { 3 { 'partial' } 7 { 'cancelled' } default { 'failed' } }
  $Script:State.error = $_.Exception.Message
  Log "FAILED ($exit): $($_.Exception.Message) $($_.ScriptStackTrace)"
} finally {
  try { Invoke-Release } catch { Log "Releasing the shadow copy failed: $($_.Exception.Message)"; if ($exit -eq 0) { $exit = 1; $Script:State.status = 'failed'; $Script:State.error = $_.Exception.Message } }
  if ($lockHeld) { try { [ShadowSlots.Native]::DeleteName($LockFile) } catch { } }
  if ($null -ne $Script:Session) { try { Close-ServerSession } catch { Log "Closing the connection failed: $($_.Exception.Message)" } }
  if ($null -ne $Script:LocalChanges) { try { [IO.File]::Delete($Script:LocalChanges) } catch { } }
  if ($null -ne $Script:Cancel) { $Script:Cancel.Dispose() }
  if ($null -ne $excludeFile) { try { [IO.File]::Delete($excludeFile) } catch { } }
  foreach ($pin in @($Script:Pins)) { $pin.Dispose() }
  $Script:State.exitCode = $exit
  if ($Script:StateFile) { try { Set-State 'done' $(if ($null -ne $Script:State.error) { $Script:State.error } else { $HelperExitMessages[$exit] }) -Force } catch { } }
}
exit $exit
