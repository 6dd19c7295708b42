# Shadow Slots elevated helper. Runs as a Task Scheduler task with highest privileges in 64-bit
# Windows PowerShell 5.1. This file is CONSTANT: no profile value is ever written into it. It runs
# only profile.json beside it (planned by the TypeScript planner, installed with it into the
# admin-only folder) and re-validates that profile. It follows the ring contract of
# src/core/{layout,ring,manifest,journal}.ts: same folders, same JSON, same rotation.
#Requires -Version 5.1
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
# Windows PowerShell 5.1's extra Array.Count type data makes ConvertTo-Json write {value, Count}.
Remove-TypeData System.Array -ErrorAction SilentlyContinue

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

$Utf8 = New-Object System.Text.UTF8Encoding($false)
$Here = $PSScriptRoot
$Invariant = [Globalization.CultureInfo]::InvariantCulture
$RunStarted = [DateTime]::UtcNow
# newSlotId of src/core/layout.ts: UTC stamp plus a random suffix.
$RunId = $RunStarted.ToString("yyyyMMdd'T'HHmmss'Z'", $Invariant) + '-' + ([Guid]::NewGuid().ToString('N').Substring(0, 6))
$Script:LogFile = $null; $Script:StateFile = $null
$Script:State = [ordered]@{ format = 1; profile = ''; runId = $RunId; pid = $PID; status = 'running'; phase = 'preflight'; message = 'Starting'; percent = $null; bytes = 0; files = 0; rate = $null; etaSeconds = $null; startedAt = $RunStarted.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", $Invariant); updatedAt = ''; exitCode = $null; error = $null; warnings = @() }
$Script:LastStateWrite = [DateTime]::MinValue

function Stop-Helper([int]$Exit, [string]$Message) { $e = New-Object System.Exception($Message); $e.Data['exit'] = $Exit; throw $e }
function Now { [DateTime]::UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", $Invariant) }

# Most of what this writes lives in the user-writable target: a file is only ever created new
# (a planted link makes CreateNew fail instead of being followed), and a link in the way is removed.
function Remove-Planted([string]$Path) {
  if (Test-Link $Path) {
    if ([IO.File]::GetAttributes($Path) -band [IO.FileAttributes]::Directory) { [IO.Directory]::Delete($Path, $false) } else { [IO.File]::Delete($Path) }
  }
}
function New-File([string]$Path) {
  Remove-Planted $Path
  if ([IO.File]::Exists($Path)) { [IO.File]::Delete($Path) }
  [IO.File]::Open($Path, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write, [IO.FileShare]::Read)
}
function Write-Atomic([string]$Path, [string]$Text) {
  $tmp = "$Path.tmp-$PID"
  $fs = New-File $tmp
  try { $bytes = $Utf8.GetBytes($Text); $fs.Write($bytes, 0, $bytes.Length); $fs.Flush($true) } finally { $fs.Dispose() }
  Remove-Planted $Path
  for ($i = 0; ; $i++) {
    try {
      if ([IO.File]::Exists($Path)) { [IO.File]::Replace($tmp, $Path, $null) } else { [IO.File]::Move($tmp, $Path) }
      return
    } catch { if ($i -ge 20) { throw }; Start-Sleep -Milliseconds 50 }
  }
}
function Write-Json([string]$Path, $Value) { Write-Atomic $Path (($Value | ConvertTo-Json -Depth 10) + "`n") }
function Read-Json([string]$Path) { [IO.File]::ReadAllText($Path, $Utf8) | ConvertFrom-Json }

function Log([string]$Text) { if ($Script:LogFile) { [IO.File]::AppendAllText($Script:LogFile, "$(Now) $Text`r`n", $Utf8) } }
function Set-State([string]$Phase, [string]$Message, [switch]$Force) {
  $Script:State.phase = $Phase; $Script:State.message = $Message
  $now = [DateTime]::UtcNow
  if (-not $Force -and ($now - $Script:LastStateWrite).TotalMilliseconds -lt 1000) { return }
  $Script:LastStateWrite = $now
  $Script:State.updatedAt = Now
  if ($Script:StateFile) { Write-Json $Script:StateFile $Script:State }
}

function Assert-Profile($p) {
  $abs = '^([A-Za-z]:\\|\\\\[^\\]+\\[^\\]+)'
  $ctl = '[\x00-\x1f\x7f]'
  $bad = { param($what) Stop-Helper 2 "The stored helper profile is invalid: $what. Run Set Up Elevated Helper again." }
  if ($p.format -ne 1 -or $p.kind -ne 'shadow-slots-helper') { & $bad 'unknown format' }
  if ($p.name -isnot [string] -or $p.name -notmatch '^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$') { & $bad 'name' }
  foreach ($k in 'source', 'target', 'installDir', 'linkDir', 'stateDir', 'cancelDir') {
    $v = $p.$k
    if ($v -isnot [string] -or $v -notmatch $abs -or $v -match $ctl -or ($v -split '\\') -contains '..') { & $bad $k }
  }
  if ($p.volume -cnotmatch '^[A-Z]:\\$' -or -not $p.source.ToUpperInvariant().StartsWith($p.volume)) { & $bad 'volume' }
  if ($p.slots -isnot [int] -or $p.slots -lt 1 -or $p.slots -gt 1000) { & $bad 'slots' }
  # The profile must be the one installed beside this script, in the locked folder.
  if ($p.installDir -ne $Here -or $p.linkDir -ne (Join-Path $Here 'links') -or $p.stateDir -ne (Join-Path $Here 'state') -or $p.cancelDir -ne (Join-Path $Here 'cancel')) { & $bad 'installed in another folder' }
  $r = $p.rsync
  if ($r.exe -isnot [string] -or $r.exe -notmatch $abs -or $r.exe -match $ctl) { & $bad 'rsync.exe' }
  foreach ($o in @($r.options)) { if ($o -isnot [string] -or -not $o.StartsWith('-') -or $o -match $ctl) { & $bad 'rsync.options' } }
  if ($r.linkDestAt -isnot [int] -or $r.linkDestAt -lt 0 -or $r.linkDestAt -gt @($r.options).Count) { & $bad 'rsync.linkDestAt' }
  if (-not $r.linkDest.StartsWith('--link-dest=/')) { & $bad 'rsync.linkDest' }
  if (-not $r.snapshotPrefix.StartsWith('/') -or -not $r.incomingPrefix.StartsWith('/') -or -not $r.snapshotSuffix.EndsWith('/')) { & $bad 'rsync paths' }
}

# Windows command-line quoting (src/core/windows/cmdline.ts, always quoted: Cygwin and MSYS2
# glob-expand unquoted arguments).
function Quote-Arg([string]$a) {
  $out = '"'; $bs = 0
  foreach ($ch in $a.ToCharArray()) {
    if ($ch -eq '\') { $bs++; continue }
    if ($ch -eq '"') { $out += ('\' * ($bs * 2 + 1)) + '"' } else { $out += ('\' * $bs) + $ch }
    $bs = 0
  }
  $out + ('\' * ($bs * 2)) + '"'
}

# planRotation of src/core/ring.ts, step for step.
function Get-RotationPlan($Entries, [int]$Capacity, [string]$NewId) {
  $sorted = @($Entries | Sort-Object { [int]$_.number })
  $keep = @($sorted | Select-Object -First ([Math]::Max(0, $Capacity - 1)))
  $drop = @($sorted | Select-Object -Skip ($Capacity - 1))
  $steps = New-Object System.Collections.ArrayList
  for ($i = $drop.Count - 1; $i -ge 0; $i--) { [void]$steps.Add([ordered]@{ kind = 'drop'; from = [int]$drop[$i].number; id = [string]$drop[$i].id }) }
  $prefixEnd = $keep.Count
  for ($i = 0; $i -lt $keep.Count; $i++) { if ([int]$keep[$i].number -ne $i) { $prefixEnd = $i; break } }
  for ($i = $prefixEnd; $i -lt $keep.Count; $i++) {
    if ([int]$keep[$i].number -ne $i + 1) { [void]$steps.Add([ordered]@{ kind = 'move'; from = [int]$keep[$i].number; to = $i + 1; id = [string]$keep[$i].id }) }
  }
  for ($i = $prefixEnd - 1; $i -ge 0; $i--) { [void]$steps.Add([ordered]@{ kind = 'move'; from = [int]$keep[$i].number; to = $i + 1; id = [string]$keep[$i].id }) }
  [void]$steps.Add([ordered]@{ kind = 'promote'; id = $NewId })
  $final = New-Object System.Collections.ArrayList
  [void]$final.Add([ordered]@{ number = 0; id = $NewId })
  for ($i = 0; $i -lt $keep.Count; $i++) { [void]$final.Add([ordered]@{ number = $i + 1; id = [string]$keep[$i].id }) }
  [ordered]@{ newId = $NewId; steps = @($steps); final = [ordered]@{ format = 1; entries = @($final) }; startedAt = (Now) }
}

function Invoke-Rotation($Rotation) {
  Assert-SlotId $Rotation.newId
  foreach ($s in @($Rotation.steps)) {
    if ($s.kind -notin 'drop', 'move', 'promote') { Stop-Helper 1 'journal.json names an unknown rotation step.' }
    Assert-SlotId $s.id
    if ($s.kind -ne 'promote') { Assert-SlotNumber $s.from }
    if ($s.kind -eq 'move') { Assert-SlotNumber $s.to }
  }
  foreach ($e in @($Rotation.final.entries)) { Assert-SlotNumber $e.number; Assert-SlotId $e.id }
  foreach ($s in @($Rotation.steps)) {
    switch ($s.kind) {
      'drop' { $from = Join-Path $P.target ([string]$s.from); $to = Join-Path $Trash $s.id }
      'move' { $from = Join-Path $P.target ([string]$s.from); $to = Join-Path $P.target ([string]$s.to) }
      'promote' { $from = Join-Path $Incoming $s.id; $to = Join-Path $P.target '0' }
    }
    # stepStatus: destination present = done; source missing too = nothing left to do.
    if ([IO.Directory]::Exists($to) -or -not [IO.Directory]::Exists($from)) { continue }
    [IO.Directory]::Move($from, $to)
  }
  Write-Json $RingFile $Rotation.final
  $Script:Journal.rotation = $null
  Write-Json $JournalFile $Script:Journal
}

Add-Type -Namespace ShadowSlots -Name Native -MemberDefinition '[DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode)] [return: MarshalAs(UnmanagedType.I1)] public static extern bool CreateSymbolicLink(string link, string target, int flags);'

function Remove-Link([string]$Link) {
  # GetAttributes does not follow the link, so a link to a shadow that is already gone is found too.
  try { $attr = [IO.File]::GetAttributes($Link) } catch { return }
  # Only ever the link itself: a recursive delete through it would walk the shadowed volume.
  if ($attr -band [IO.FileAttributes]::ReparsePoint) { [IO.Directory]::Delete($Link, $false) }
  else { Log "Left $Link alone: it is not a link." }
}
# Shadows this helper created, recorded in the admin-only folder. The ring's journal lives in the
# user-writable target, so an ID found only there is never deleted (it could name a restore point).
$OwnedFile = Join-Path $Here 'shadows.json'
function Get-Owned { if ([IO.File]::Exists($OwnedFile)) { @((Read-Json $OwnedFile).ids) } else { @() } }
function Set-Owned($Ids) { Write-Json $OwnedFile ([ordered]@{ ids = @($Ids | Where-Object { $_ }) }) }
function Remove-Shadow([string]$Id) {
  if ($Id -notmatch '^\{[0-9A-Fa-f-]{36}\}$' -or @(Get-Owned) -notcontains $Id) { return }
  Get-CimInstance -ClassName Win32_ShadowCopy | Where-Object { $_.ID -eq $Id } | Remove-CimInstance
  Set-Owned @(Get-Owned | Where-Object { $_ -ne $Id })
}
# The target is writable by the user, this process is not: never follow a link or junction there.
function Test-Link([string]$Path) { try { [bool]([IO.File]::GetAttributes($Path) -band [IO.FileAttributes]::ReparsePoint) } catch { $false } }
function Assert-RealDir([string]$Dir) {
  if (Test-Link $Dir) { Stop-Helper 1 "$Dir is a link or junction; the elevated helper does not follow links in the ring. Replace it with a real folder." }
}
function Assert-SlotId($Id) { if ($Id -isnot [string] -or $Id -cnotmatch '^[0-9A-Za-z][0-9A-Za-z_-]{0,80}$') { Stop-Helper 1 "The ring's metadata names an invalid slot id; repair it with the CLI (shadow-slots list)." } }
function Assert-SlotNumber($N) { if ($N -isnot [int] -or $N -lt 0 -or $N -gt 999999) { Stop-Helper 1 "The ring's metadata names an invalid slot number; repair it with the CLI (shadow-slots list)." } }
function Remove-Tree([string]$Dir) {
  if (Test-Link $Dir) { [IO.Directory]::Delete($Dir, $false); return }
  if (-not [IO.Directory]::Exists($Dir)) { return }
  # The \\?\ form lifts the 260-character limit for deep trees.
  $long = if ($Dir.StartsWith('\\')) { '\\?\UNC\' + $Dir.Substring(2) } else { '\\?\' + $Dir }
  [IO.Directory]::Delete($long, $true)
}

function Invoke-Rsync([string[]]$Argv) {
  $psi = New-Object System.Diagnostics.ProcessStartInfo($P.rsync.exe)
  $psi.Arguments = (@($Argv | ForEach-Object { Quote-Arg $_ }) -join ' ')
  $psi.UseShellExecute = $false; $psi.CreateNoWindow = $true
  $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true
  $psi.StandardOutputEncoding = $Utf8; $psi.StandardErrorEncoding = $Utf8
  $psi.EnvironmentVariables['CYGWIN'] = 'noglob'; $psi.EnvironmentVariables['MSYS'] = 'noglob'
  $proc = [Diagnostics.Process]::Start($psi)
  $errTask = $proc.StandardError.ReadToEndAsync()
  $changes = New-Object IO.StreamWriter((New-File (Join-Path $Meta "changes\$RunId.log")), $Utf8)
  $stats = New-Object Text.StringBuilder
  $buf = New-Object char[] 65536; $pending = ''; $changed = 0; $items = 0
  try {
    while ($true) {
      $t = $proc.StandardOutput.ReadAsync($buf, 0, $buf.Length)
      while (-not $t.Wait(1000)) {
        if ([IO.File]::Exists($CancelFile)) { & "$env:SystemRoot\System32\taskkill.exe" /T /F /PID $proc.Id | Out-Null; Stop-Helper 7 'The backup was cancelled.' }
      }
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

# Link first, then the shadow, then its journal entry; safe to call twice.
function Invoke-Release {
  if ($null -ne $Script:Link) { Remove-Link $Script:Link; $Script:Link = $null }
  if ($null -ne $Script:ShadowId) {
    Remove-Shadow $Script:ShadowId
    $Script:Journal.snapshots = @(@($Script:Journal.snapshots) | Where-Object { $_.id -ne $Script:ShadowId })
    Write-Json $JournalFile $Script:Journal
    $Script:ShadowId = $null
  }
}

$exit = 0
$P = $null; $lockHeld = $false; $Script:Journal = $null; $Script:ShadowId = $null; $Script:Link = $null
try {
  if (-not [Environment]::Is64BitProcess) { Stop-Helper 6 $HelperExitMessages[6] }
  $principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
  if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) { Stop-Helper 6 $HelperExitMessages[6] }
  try { $P = Read-Json (Join-Path $Here 'profile.json'); Assert-Profile $P }
  catch { Stop-Helper 2 $(if ($_.Exception.Data.Contains('exit')) { $_.Exception.Message } else { "$($HelperExitMessages[2]) ($($_.Exception.Message))" }) }
  $Script:State.profile = $P.name; $Script:State.warnings = @($P.warnings)
  $Script:StateFile = Join-Path $P.stateDir 'progress.json'
  $Script:LogFile = Join-Path $P.stateDir 'helper.log'
  [IO.File]::WriteAllText($Script:LogFile, '', $Utf8)
  $CancelFile = Join-Path $P.cancelDir 'cancel'
  if ([IO.File]::Exists($CancelFile)) { [IO.File]::Delete($CancelFile) }
  Set-State 'preflight' 'Checking the profile' -Force
  if (-not [IO.Directory]::Exists($P.source)) { Stop-Helper 1 "The source folder $($P.source) does not exist." }
  if (-not [IO.Directory]::Exists($P.target)) { Stop-Helper 1 "The target folder $($P.target) does not exist. Connect the backup disk." }
  if (-not [IO.File]::Exists($P.rsync.exe)) { Stop-Helper 1 "rsync was not found at $($P.rsync.exe). Install it again or run Set Up Elevated Helper again." }

  $Meta = Join-Path $P.target '.shadow-slots'
  $RingFile = Join-Path $Meta 'ring.json'; $JournalFile = Join-Path $Meta 'journal.json'; $LockFile = Join-Path $Meta 'lock'
  $Incoming = Join-Path $Meta 'incoming'; $Trash = Join-Path $Meta 'trash'
  Assert-RealDir $P.target
  foreach ($d in $Meta, (Join-Path $Meta 'manifests'), (Join-Path $Meta 'changes'), (Join-Path $Meta 'logs'), $Incoming, $Trash) { Assert-RealDir $d; [void][IO.Directory]::CreateDirectory($d) }

  # The ring's lock, in the format of src/platform/lock.ts; a lock whose process is gone is stale.
  Set-State 'lock' 'Taking the ring lock' -Force
  $host_ = [Net.Dns]::GetHostName()
  for ($attempt = 0; -not $lockHeld -and $attempt -lt 3; $attempt++) {
    try {
      $fs = [IO.File]::Open($LockFile, [IO.FileMode]::CreateNew, [IO.FileAccess]::Write, [IO.FileShare]::Read)
      $bytes = $Utf8.GetBytes((([ordered]@{ pid = $PID; host = $host_; pidStart = $null; command = 'windows-helper'; startedAt = $Script:State.startedAt } | ConvertTo-Json -Compress) + "`n"))
      $fs.Write($bytes, 0, $bytes.Length); $fs.Flush($true); $fs.Dispose(); $lockHeld = $true
    } catch [IO.IOException] {
      $owner = $null; try { $owner = Read-Json $LockFile } catch { }
      $stale = $null -eq $owner -or ($owner.host -eq $host_ -and $null -eq (Get-Process -Id ([int]$owner.pid) -ErrorAction SilentlyContinue))
      if (-not $stale) { Stop-Helper 4 "Another backup of this ring is running (process $($owner.pid) on $($owner.host))." }
      Remove-Item -LiteralPath $LockFile -Force
    }
  }
  if (-not $lockHeld) { Stop-Helper 4 $HelperExitMessages[4] }

  # Repair: roll a journaled rotation forward; release journaled shadows and links, by ID only.
  Set-State 'repair' 'Checking for an interrupted run' -Force
  $Script:Journal = if ([IO.File]::Exists($JournalFile)) { Read-Json $JournalFile } else { [pscustomobject][ordered]@{ format = 1; rotation = $null; snapshots = @() } }
  if ($Script:Journal.format -ne 1) { Stop-Helper 1 'journal.json has an unknown format.' }
  if ($null -ne $Script:Journal.rotation) { Log 'Completing an interrupted rotation'; Invoke-Rotation $Script:Journal.rotation }
  foreach ($l in @(Get-ChildItem -LiteralPath $P.linkDir -Force)) { Log "Removing the link $($l.Name) left by an earlier run"; Remove-Link $l.FullName }
  foreach ($id in @(Get-Owned)) { Log "Releasing shadow $id left by an earlier run"; Remove-Shadow $id }
  $Script:Journal.snapshots = @(@($Script:Journal.snapshots) | Where-Object { $_.method -ne 'vss' })
  Write-Json $JournalFile $Script:Journal
  # Like the engine: resume the newest unfinished copy under this run's id, discard older ones.
  $left = @(Get-ChildItem -LiteralPath $Incoming -Force | Sort-Object Name -Descending)
  for ($i = 0; $i -lt $left.Count; $i++) {
    $d = $left[$i]
    if ($i -eq 0 -and -not (Test-Link $d.FullName) -and $d.PSIsContainer) {
      Log "Resuming the unfinished slot $($d.Name)"
      [IO.Directory]::Move($d.FullName, (Join-Path $Incoming $RunId))
      foreach ($f in (Join-Path $Meta "manifests\$($d.Name).json"), (Join-Path $Meta "changes\$($d.Name).log")) { if ([IO.File]::Exists($f)) { [IO.File]::Delete($f) } }
    } else { Log "Discarding $($d.Name)"; Remove-Tree $d.FullName }
  }

  if ([IO.File]::Exists($RingFile)) {
    $ring = Read-Json $RingFile
    if ($ring.format -ne 1) { Stop-Helper 1 'ring.json has an unknown format.' }
    $entries = @($ring.entries)
    foreach ($e in $entries) { Assert-SlotNumber $e.number; Assert-SlotId $e.id; Assert-RealDir (Join-Path $P.target ([string]$e.number)) }
  } else {
    $entries = @()
    if (@(Get-ChildItem -LiteralPath $P.target -Directory | Where-Object { $_.Name -match '^(0|[1-9][0-9]{0,5})$' }).Count -gt 0) {
      Stop-Helper 1 'The target holds numbered slot folders but no .shadow-slots\ring.json. Run one backup with snapshot method "none" from the editor or the CLI to adopt the ring, then use the helper.'
    }
  }
  $slot0 = @($entries | Where-Object { [int]$_.number -eq 0 })
  $hasSlot0 = $slot0.Count -gt 0 -and [IO.Directory]::Exists((Join-Path $P.target '0'))

  # Snapshot: flush, create, journal the ID at once, expose it through a link.
  Set-State 'snapshot' 'Creating a shadow copy' -Force
  try { Write-VolumeCache -DriveLetter $P.volume.Substring(0, 1) } catch { Log "Flushing the volume cache failed: $($_.Exception.Message)" }
  for ($attempt = 1; ; $attempt++) {
    $r = Invoke-CimMethod -ClassName Win32_ShadowCopy -MethodName Create -Arguments @{ Volume = $P.volume; Context = 'ClientAccessible' }
    $code = [int]$r.ReturnValue
    if ($code -eq 0) { $Script:ShadowId = [string]$r.ShadowID; Set-Owned (@(Get-Owned) + $Script:ShadowId); break }
    if ($code -ne 9 -or $attempt -ge 2) { Stop-Helper 5 $(if ($VssCreateMessages.ContainsKey($code)) { $VssCreateMessages[$code] } else { "Creating the shadow copy failed with code $code." }) }
    Start-Sleep -Seconds 10
  }
  $Script:Link = Join-Path $P.linkDir $RunId
  $Script:Journal.snapshots = @(@($Script:Journal.snapshots) + [pscustomobject][ordered]@{ method = 'vss'; id = $Script:ShadowId; path = $Script:Link; createdAt = (Now); pid = $PID })
  Write-Json $JournalFile $Script:Journal
  $device = [string](Get-CimInstance -ClassName Win32_ShadowCopy | Where-Object { $_.ID -eq $Script:ShadowId }).DeviceObject
  if ($device -notmatch '^\\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy\d+$') { Stop-Helper 5 "The new shadow copy $Script:ShadowId has no device path." }
  if (-not [ShadowSlots.Native]::CreateSymbolicLink($Script:Link, $device + '\', 1)) { Stop-Helper 5 "Could not link the shadow copy into $($P.linkDir) (error $([Runtime.InteropServices.Marshal]::GetLastWin32Error()))." }
  Log "Shadow $Script:ShadowId ($device) linked at $($Script:Link)"

  # Copy into the in-progress slot; the manifest says in-progress until rsync succeeded.
  $argv = New-Object System.Collections.Generic.List[string]
  foreach ($o in @($P.rsync.options)) { $argv.Add($o) }
  if ($hasSlot0) { $argv.Insert($P.rsync.linkDestAt, $P.rsync.linkDest) }
  $argv.Add('--'); $argv.Add($P.rsync.snapshotPrefix + $RunId + $P.rsync.snapshotSuffix); $argv.Add($P.rsync.incomingPrefix + $RunId + '/')
  $version = $null
  try { $v = & $P.rsync.exe --version 2>$null | Select-Object -First 1; if ($v -match 'version\s+(\S+)') { $version = $Matches[1] } } catch { }
  $slotDir = Join-Path $Incoming $RunId
  if (-not [IO.Directory]::Exists($slotDir)) { [void][IO.Directory]::CreateDirectory($slotDir) }
  $manifestFile = Join-Path $Meta "manifests\$RunId.json"
  $manifest = [ordered]@{
    format = 1; id = $RunId; state = 'in-progress'; profile = $P.name; source = $P.source; startedAt = $Script:State.startedAt; endedAt = $null
    snapshot = [ordered]@{ method = 'vss'; id = $Script:ShadowId; warning = $null }
    rsync = [ordered]@{ argv = @(@($P.rsync.exe) + @($argv)); exitCode = $null; version = $version }
    counts = $null; warnings = @($P.warnings); changeLog = "changes/$RunId.log"; checksums = $null; adopted = $false
    linkDest = $(if ($hasSlot0) { [string]$slot0[0].id } else { $null })
  }
  Write-Json $manifestFile $manifest
  Set-State 'copy' 'Copying from the shadow copy' -Force
  Log ("rsync " + (@($argv | ForEach-Object { Quote-Arg $_ }) -join ' '))
  Assert-RealDir $Incoming; Assert-RealDir $slotDir
  $result = Invoke-Rsync @($argv)
  $manifest.rsync.exitCode = $result.exitCode; $manifest.counts = $result.counts; $manifest.endedAt = (Now)
  if ($result.stderr) { Log $result.stderr }
  if ($result.exitCode -ne 0 -and $result.exitCode -ne 24) {
    $manifest.state = 'partial'; $manifest.warnings = @($manifest.warnings) + "rsync exited with code $($result.exitCode)"
    Write-Json $manifestFile $manifest
    Stop-Helper $(if ($result.exitCode -eq 23) { 3 } else { 1 }) "rsync failed with exit code $($result.exitCode): $(($result.stderr -split "`n" | Where-Object { $_ } | Select-Object -Last 3) -join ' ')"
  }
  if ($result.exitCode -eq 24) { $manifest.warnings = @($manifest.warnings) + 'Some source files vanished while they were being copied.' }
  $manifest.state = 'complete'
  Write-Json $manifestFile $manifest

  # Rotate: journal the whole plan first, so a crash is rolled forward by the next run.
  Set-State 'rotate' 'Rotating the ring' -Force
  $rotation = Get-RotationPlan $entries $P.slots $RunId
  $Script:Journal.rotation = $rotation
  Write-Json $JournalFile $Script:Journal
  Invoke-Rotation $rotation
  Set-State 'release' 'Releasing the shadow copy' -Force
  Invoke-Release
  Set-State 'finalize' 'Removing the oldest slot' -Force
  foreach ($d in @(Get-ChildItem -LiteralPath $Trash -Directory -Force)) { Remove-Tree $d.FullName }
  $Script:State.status = 'complete'
} catch {
  $exit = if ($_.Exception.Data.Contains('exit')) { [int]$_.Exception.Data['exit'] } else { 1 }
  $Script:State.status = switch ($exit) { 3 { 'partial' } 7 { 'cancelled' } default { 'failed' } }
  $Script:State.error = $_.Exception.Message
  Log "FAILED ($exit): $($_.Exception.Message) $($_.ScriptStackTrace)"
} finally {
  try { Invoke-Release } catch { Log "Releasing the shadow copy failed: $($_.Exception.Message)"; if ($exit -eq 0) { $exit = 1; $Script:State.status = 'failed'; $Script:State.error = $_.Exception.Message } }
  if ($lockHeld) { Remove-Item -LiteralPath $LockFile -Force -ErrorAction SilentlyContinue }
  $Script:State.exitCode = $exit
  if ($Script:StateFile) { Set-State 'done' $(if ($null -ne $Script:State.error) { $Script:State.error } else { $HelperExitMessages[$exit] }) -Force }
}
exit $exit
