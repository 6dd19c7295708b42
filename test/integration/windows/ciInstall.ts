/**
 * Used by .github/workflows/windows-vss.yml (not a test file; runs only on Windows): plans the
 * helper for a given requester - a standard user the workflow creates - and installs or removes
 * it through the real elevation path (staging in TEMP, the launcher, Start-Process -Verb RunAs,
 * the -EncodedCommand bootstrap, install.ps1). `args` prints the elevated argument string for a
 * staging folder written by `helper plan`, so the workflow can tamper with the folder first.
 *
 *   ciInstall.ts install|remove --source DIR --target DIR|ssh://… [--host-key LINE] --name NAME --slots N --user-sid SID --rsync FILE [--rsync-arg ARG]…
 *   ciInstall.ts args --staging DIR --mode install|remove
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { validateProfile } from '../../../src/core/profile';
import { looksRemote } from '../../../src/core/remoteTarget';
import { elevationCommand } from '../../../src/platform/windows/elevation';
import { runElevatedInstaller } from '../../../src/platform/windows/elevatedHelper';
import { readHelperAsset } from '../../../src/platform/windows/helperAssets';
import { planHelper, sha256 } from '../../../src/platform/windows/helperPlan';
import { programData, systemRoot, windowsFileSystem } from '../../../src/platform/windows/probe';
import { collectRsyncRuntime, windowsRsyncVersion } from '../../../src/platform/windows/rsyncRuntime';

async function main(): Promise<number> {
  const [mode, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: {
      source: { type: 'string' }, target: { type: 'string' }, name: { type: 'string' }, slots: { type: 'string' }, 'user-sid': { type: 'string' },
      rsync: { type: 'string' }, 'rsync-arg': { type: 'string', multiple: true }, staging: { type: 'string' }, mode: { type: 'string' }, 'host-key': { type: 'string' },
    },
  });
  if (mode === 'args') {
    const staged = async (name: string) => sha256(await readFile(`${values.staging!}\\${name}`));
    const cmd = elevationCommand(systemRoot(), values.staging!, { installer: await staged('install.ps1'), manifest: await staged('install.json') }, values.mode === 'remove' ? 'remove' : 'install');
    process.stdout.write(cmd.env['SHADOW_SLOTS_ELEVATE_ARGS']!);
    return 0;
  }
  if (mode !== 'install' && mode !== 'remove') throw new Error(`unknown mode ${mode}`);
  const { profile } = validateProfile({ source: values.source, target: values.target, name: values.name, slots: values.slots, snapshot: 'vss', rsyncArgs: values['rsync-arg'] ?? [] }, 'win32');
  // A ring on a server (issue 15): ssh.exe and ssh-keygen.exe are copied with rsync.
  const remote = looksRemote(profile.target);
  const files = await collectRsyncRuntime(values.rsync!, { ssh: remote });
  const version = remote ? await windowsRsyncVersion(values.rsync!) : undefined;
  const plan = planHelper({
    profile, account: 'system', userSid: values['user-sid']!, rsync: { path: values.rsync!, flavor: 'msys2', files, version }, hostKey: values['host-key'],
    targetFilesystem: remote ? 'unknown' : await windowsFileSystem(profile.target), programData: programData(), systemRoot: systemRoot(),
    helperScript: readHelperAsset('helper.ps1'), installerScript: readHelperAsset('install.ps1'), nativeSource: readHelperAsset('native.cs'),
    localNames: [hostname()],
  });
  const outcome = await runElevatedInstaller(plan, mode);
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
  return outcome.kind === 'done' ? 0 : outcome.kind === 'failed' ? outcome.exitCode : 1;
}

main().then((code) => process.exit(code), (error: unknown) => { process.stderr.write(`${String(error)}\n`); process.exit(1); });
