import * as path from 'node:path';
import { invalid } from '../../core/errors';
import { joinWindowsArgs } from '../../core/windows/cmdline';
import { checkWindowsPath } from '../../core/windows/paths';
import { encodePowerShellArgs, encodePowerShellCommand } from '../../core/windows/psArgs';
import { powershellPath } from './helperPlan';

/**
 * The constant script the elevated PowerShell runs (passed whole as -EncodedCommand, so nothing
 * on disk can be swapped while the UAC prompt is shown: issue 12, finding 6). It reads
 * install.ps1 once, checks those bytes against the SHA-256 it was given, and runs exactly those
 * bytes. Its inputs arrive as -EncodedArguments: strings bound to param(), never code.
 */
export const ELEVATION_BOOTSTRAP = [
  'param([string]$Installer, [string]$InstallerSha256, [string]$Plan, [string]$PlanSha256, [string]$Mode)',
  '$env:PSModulePath = [IO.Path]::Combine($PSHOME, \'Modules\')',
  '$ErrorActionPreference = \'Stop\'',
  'try {',
  '  $bytes = [IO.File]::ReadAllBytes($Installer)',
  '  $hash = [BitConverter]::ToString([Security.Cryptography.SHA256]::Create().ComputeHash($bytes)).Replace(\'-\', \'\').ToLowerInvariant()',
  '} catch { [Console]::Error.WriteLine($_.Exception.Message); exit 10 }',
  'if ($hash -cne $InstallerSha256) { [Console]::Error.WriteLine(\'install.ps1 differs from what was planned; nothing was installed.\'); exit 10 }',
  '$installer = [ScriptBlock]::Create([Text.UTF8Encoding]::new($false).GetString($bytes))',
  '& $installer -Plan $Plan -PlanSha256 $PlanSha256 -Mode $Mode',
  'exit $LASTEXITCODE',
].join('\r\n');

/**
 * The tiny constant script the unelevated side runs to raise the UAC prompt. The program it
 * elevates is the system's own PowerShell, found with GetSystemDirectory ([Environment]::
 * SystemDirectory), not through %SystemRoot%, which the user's environment sets (review M3). Its
 * (already quoted) argument string arrives as an environment variable: data, never code, and
 * never parsed by cmd.exe. Exit code 1223 means the user declined the prompt.
 */
export const ELEVATION_LAUNCHER = [
  '$ErrorActionPreference = "Stop"',
  'try {',
  "  $exe = [IO.Path]::Combine([Environment]::SystemDirectory, 'WindowsPowerShell\\v1.0\\powershell.exe')",
  '  $p = Microsoft.PowerShell.Management\\Start-Process -FilePath $exe -ArgumentList $env:SHADOW_SLOTS_ELEVATE_ARGS -Verb RunAs -Wait -PassThru -WindowStyle Hidden',
  '  exit $p.ExitCode',
  '} catch {',
  '  $e = $_.Exception',
  '  while ($null -ne $e) { if ($e -is [System.ComponentModel.Win32Exception] -and $e.NativeErrorCode -eq 1223) { exit 1223 }; $e = $e.InnerException }',
  '  [Console]::Error.WriteLine($_.Exception.Message)',
  '  exit 1',
  '}',
].join('\r\n');

export const ELEVATION_DECLINED = 1223;

export interface ElevationCommand {
  command: string;
  argv: string[];
  env: Record<string, string>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The command (for platform/runner's run()) that asks for elevation and runs the installer from
 * the staging folder. The elevated command line carries the bootstrap itself and, as data, the
 * paths and SHA-256 of install.ps1 and install.json: files swapped in the staging folder while
 * the prompt is shown are refused, never run.
 */
export function elevationCommand(systemRoot: string, stagingDir: string, hashes: { installer: string; manifest: string }, mode: 'install' | 'remove'): ElevationCommand {
  if (!SHA256_HEX.test(hashes.installer) || !SHA256_HEX.test(hashes.manifest)) throw invalid('The installer and manifest hashes must be SHA-256 hex digests.');
  const ps = powershellPath(checkWindowsPath(systemRoot));
  const staging = checkWindowsPath(stagingDir);
  const args = [path.win32.join(staging, 'install.ps1'), hashes.installer, path.win32.join(staging, 'install.json'), hashes.manifest, mode];
  const elevatedArgs = ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', encodePowerShellCommand(ELEVATION_BOOTSTRAP), '-EncodedArguments', encodePowerShellArgs(args)];
  return {
    command: ps,
    argv: ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', encodePowerShellCommand(ELEVATION_LAUNCHER)],
    env: { SHADOW_SLOTS_ELEVATE_ARGS: joinWindowsArgs(elevatedArgs) },
  };
}
