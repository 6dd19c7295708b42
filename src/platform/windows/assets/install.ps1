# Shadow Slots: installs or removes the elevated helper of one profile. Started elevated (one UAC
# prompt) from the staging folder the extension wrote. CONSTANT file: everything it does comes from
# install.json beside it, whose SHA-256 arrives on the elevated command line, so a staging folder
# changed after the user saw the prompt is refused. Every file is verified again after copying.
# Exit codes: 0 done, 10 bad plan, 11 copy/verify failed, 12 icacls failed, 13 schtasks failed,
# 14 the install folder holds a link or junction that was not put there by this installer.
#Requires -Version 5.1
param(
  [Parameter(Mandatory = $true)][string]$Plan,
  [Parameter(Mandatory = $true)][string]$PlanSha256,
  [ValidateSet('install', 'remove')][string]$Mode = 'install'
)
Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
trap { Fail 11 $_.Exception.Message }

$Script:Cleanup = $null
# A failed install removes what it made: never a half-installed helper.
function Fail([int]$Code, [string]$Message) {
  [Console]::Error.WriteLine($Message)
  if ($null -ne $Script:Cleanup) { try { & $Script:Cleanup } catch { [Console]::Error.WriteLine("Cleaning up failed: $($_.Exception.Message)") } }
  exit $Code
}
function Hash([string]$Path) { (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash.ToLowerInvariant() }
function Invoke-Argv([string[]]$Argv, [int]$FailCode, [switch]$Tolerate) {
  # Only the two System32 tools the planner uses; the argv is data, passed without any shell.
  $exe = $Argv[0]
  $allowed = @((Join-Path $env:SystemRoot 'System32\icacls.exe'), (Join-Path $env:SystemRoot 'System32\schtasks.exe'))
  if ($allowed -notcontains $exe) { Fail 10 "Refusing to run $exe." }
  $rest = @($Argv | Select-Object -Skip 1)
  & $exe @rest | Out-Null
  if ($LASTEXITCODE -ne 0 -and -not $Tolerate) { Fail $FailCode "$([IO.Path]::GetFileName($exe)) failed with exit code $LASTEXITCODE." }
}
function Assert-NoLinks([string]$Dir) {
  # A normal user may create folders in ProgramData; one made before us could hide a junction.
  $links = @(Get-ChildItem -LiteralPath $Dir -Recurse -Force -Attributes ReparsePoint -ErrorAction SilentlyContinue)
  if ($links.Count -gt 0) { Fail 14 "$($links[0].FullName) is a link or junction; remove $Dir and try again." }
}

# Hash and parse the same bytes: the staging folder is writable by the user.
$planBytes = [IO.File]::ReadAllBytes($Plan)
$planHash = -join ([Security.Cryptography.SHA256]::Create().ComputeHash($planBytes) | ForEach-Object { $_.ToString('x2') })
if ($planHash -ne $PlanSha256.ToLowerInvariant()) { Fail 10 'install.json changed after it was planned; run Set Up Elevated Helper again.' }
$M = (New-Object System.Text.UTF8Encoding($false)).GetString($planBytes) | ConvertFrom-Json
if ($M.format -ne 1 -or $M.kind -ne 'shadow-slots-helper-install') { Fail 10 'install.json has an unknown format.' }
$expectedRoot = Join-Path $env:ProgramData 'Shadow Slots'
if ($M.installRoot -ne $expectedRoot -or $M.installDir -ne (Join-Path $expectedRoot $M.profile) -or (Split-Path -Leaf $M.installDir) -ne $M.profile) { Fail 10 'install.json names a folder outside %ProgramData%\Shadow Slots.' }
foreach ($k in 'linkDir', 'stateDir', 'cancelDir') { if ((Split-Path -Parent $M.$k) -ne $M.installDir) { Fail 10 "install.json: $k is not inside the install folder." } }
$Staging = Split-Path -Parent $Plan

function Remove-Installed {
  Invoke-Argv @($M.unregister) 13 -Tolerate
  if (Test-Path -LiteralPath $M.installDir) {
    # Links first and never recursively: they point into a shadowed volume.
    foreach ($l in @(Get-ChildItem -LiteralPath $M.linkDir -Force -ErrorAction SilentlyContinue)) {
      if ($l.Attributes -band [IO.FileAttributes]::ReparsePoint) { [IO.Directory]::Delete($l.FullName, $false) }
    }
    # Shadows the helper made and could not release (it records them in shadows.json); no others.
    $owned = Join-Path $M.installDir 'shadows.json'
    if (Test-Path -LiteralPath $owned) {
      $ids = @(([IO.File]::ReadAllText($owned) | ConvertFrom-Json).ids)
      Get-CimInstance -ClassName Win32_ShadowCopy | Where-Object { $ids -contains $_.ID } | Remove-CimInstance
    }
    Assert-NoLinks $M.installDir
    Remove-Item -LiteralPath $M.installDir -Recurse -Force
  }
}
if ($Mode -eq 'remove') {
  Remove-Installed
  if ((Test-Path -LiteralPath $M.installRoot) -and @(Get-ChildItem -LiteralPath $M.installRoot -Force).Count -eq 0) { Remove-Item -LiteralPath $M.installRoot -Force }
  exit 0
}

if ([IO.Directory]::Exists($M.installRoot)) {
  # Any user may create folders in ProgramData; one made by someone else keeps its owner's rights.
  $owner = (Get-Acl -LiteralPath $M.installRoot).GetOwner([Security.Principal.SecurityIdentifier]).Value
  if ($owner -notin 'S-1-5-32-544', 'S-1-5-18', [Security.Principal.WindowsIdentity]::GetCurrent().User.Value) { Fail 14 "$($M.installRoot) exists and is owned by $owner, not by Administrators; delete it and try again." }
}
[void][IO.Directory]::CreateDirectory($M.installRoot)
Invoke-Argv @($M.acl.beforeCopy[0]) 12
Assert-NoLinks $M.installRoot
# Set Up again replaces the previous install of this profile.
Remove-Installed
$Script:Cleanup = { Invoke-Argv @($M.unregister) 13 -Tolerate; if (Test-Path -LiteralPath $M.installDir) { Remove-Item -LiteralPath $M.installDir -Recurse -Force } }
foreach ($d in $M.installDir, $M.linkDir, $M.stateDir, $M.cancelDir) { [void][IO.Directory]::CreateDirectory($d) }
foreach ($a in @($M.acl.beforeCopy | Select-Object -Skip 1)) { Invoke-Argv @($a) 12 }
foreach ($f in @($M.files)) {
  if ($f.name -notmatch '^[a-z]+\.(ps1|json|xml)$') { Fail 10 "install.json names an unexpected file $($f.name)." }
  $to = Join-Path $M.installDir $f.name
  Copy-Item -LiteralPath (Join-Path $Staging $f.name) -Destination $to -Force
  if ((Hash $to) -ne $f.sha256) { Fail 11 "$($f.name) differs from what was planned after copying; nothing was installed." }
}
foreach ($a in @($M.acl.afterCopy)) { Invoke-Argv @($a) 12 }
Invoke-Argv @($M.register) 13
exit 0
