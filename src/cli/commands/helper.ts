import { hostname } from 'node:os';
import * as path from 'node:path';
import type { CliCommand } from '../command';
import { parseCommandArgs, parseInteger, requireString } from '../args';
import { ExitCode, invalid } from '../../core/errors';
import { validateProfile } from '../../core/profile';
import { looksRemote } from '../../core/remoteTarget';
import { RSYNC_FLAVORS, type RsyncFlavor } from '../../core/windows/paths';
import { guessFlavor, locateWindowsRsync } from '../../core/windows/rsyncLocate';
import type { TargetFilesystem } from '../../core/windows/helperProfile';
import { DEFAULT_HELPER_ACCOUNT, HELPER_ACCOUNTS, planHelper, USER_ACCOUNT_WARNING, type HelperAccount } from '../../platform/windows/helperPlan';
import { collectRsyncRuntime, windowsRsyncVersion } from '../../platform/windows/rsyncRuntime';
import { readHelperAsset } from '../../platform/windows/helperAssets';
import { writeHelperStaging } from '../../platform/windows/helperStaging';
import { currentUser, fileExists, programData, systemRoot, windowsFileSystem } from '../../platform/windows/probe';

const usage = 'helper plan --source DIR --target DIR [--name NAME] [--slots N] [--exclude PATTERN]… [--account system|user|user-s4u [--accept-user-account-risk]] [--rsync-flavor cygwin|msys2] [--rsync FILE [--rsync-origin WINDOWS-PATH]] [--user-sid SID] [--target-fs NTFS|ReFS|exFAT|FAT32|unknown] [--target-mode auto|links|cow] [--host-key "HOST TYPE KEY" [--rsync-version X.Y.Z]] --out DIR';
/** Where rsync.exe usually is on Windows, per flavor: the default --rsync-origin off Windows. */
const DEFAULT_ORIGIN: Record<RsyncFlavor, string> = { msys2: 'C:\\msys64\\usr\\bin\\rsync.exe', cygwin: 'C:\\cygwin64\\bin\\rsync.exe' };
const FILESYSTEMS: readonly TargetFilesystem[] = ['NTFS', 'ReFS', 'FAT32', 'FAT', 'exFAT', 'unknown'];

/**
 * `helper plan` writes what Set Up Elevated Helper would install (same planner, same bytes) into
 * a folder for review, without installing anything. Paths are Windows paths on every OS.
 */
export const helperCommand: CliCommand = {
  name: 'helper',
  usage,
  summary: 'Windows elevated helper: "plan" writes the task XML, helper script, stored profile, rsync copy, folder ACLs and install manifest for review; installs nothing.',
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === '--help' || sub === '-h' || sub === undefined) {
      io.out(`Usage: shadow-slots ${usage}\n`);
      return sub === undefined ? ExitCode.usage : ExitCode.ok;
    }
    if (sub !== 'plan') throw invalid(`Unknown helper sub-command "${sub}".`, `Usage: shadow-slots ${usage}`);
    const { values } = parseCommandArgs(rest, {
      source: { type: 'string' }, target: { type: 'string' }, name: { type: 'string' }, slots: { type: 'string' },
      exclude: { type: 'string', multiple: true }, account: { type: 'string' }, 'rsync-flavor': { type: 'string' },
      rsync: { type: 'string' }, 'rsync-origin': { type: 'string' }, 'user-sid': { type: 'string' }, 'target-fs': { type: 'string' }, 'target-mode': { type: 'string' }, out: { type: 'string' }, 'host-key': { type: 'string' }, 'rsync-version': { type: 'string' },
      'accept-user-account-risk': { type: 'boolean' },
      help: { type: 'boolean' },
    }, usage);
    if (values.help) { io.out(`Usage: shadow-slots ${usage}\n`); return ExitCode.ok; }
    const out = path.resolve(requireString(values.out, 'out', usage));
    const onWindows = process.platform === 'win32';

    const { profile, notes } = validateProfile({
      source: requireString(values.source, 'source', usage),
      target: requireString(values.target, 'target', usage),
      name: values.name,
      slots: parseInteger(values.slots, 'slots'),
      excludes: values.exclude ?? [],
      snapshot: 'vss',
      targetMode: values['target-mode'],
    }, 'win32');
    const account = (values.account ?? DEFAULT_HELPER_ACCOUNT) as HelperAccount;
    if (!HELPER_ACCOUNTS.includes(account)) throw invalid(`--account must be one of ${HELPER_ACCOUNTS.join(', ')}, got ${JSON.stringify(values.account)}.`);
    if (account !== 'system' && values['accept-user-account-risk'] !== true) {
      throw invalid(`--account ${account} needs --accept-user-account-risk. ${USER_ACCOUNT_WARNING}`, 'Leave out --account to use SYSTEM (the default).');
    }
    const flavorFlag = values['rsync-flavor'] as RsyncFlavor | undefined;
    if (flavorFlag !== undefined && !RSYNC_FLAVORS.includes(flavorFlag)) throw invalid(`--rsync-flavor must be cygwin or msys2, got ${JSON.stringify(flavorFlag)}.`);
    const fsFlag = values['target-fs'] as TargetFilesystem | undefined;
    if (fsFlag !== undefined && !FILESYSTEMS.includes(fsFlag)) throw invalid(`--target-fs must be one of ${FILESYSTEMS.join(', ')}, got ${JSON.stringify(fsFlag)}.`);

    let userSid = values['user-sid'];
    if (userSid === undefined) {
      if (!onWindows) throw invalid('--user-sid is required when planning off Windows.', 'Give the SID that "whoami /user" shows on the Windows machine, e.g. --user-sid S-1-5-21-1004336348-1177238915-682003330-1001.');
      userSid = (await currentUser(io.signal)).sid;
    }
    // The rsync.exe (and its DLLs beside it) that the installer copies into the admin-only folder
    // from `origin` on the Windows machine: found there, or off Windows a copy on this machine
    // given with --rsync (its bytes are hashed) and its Windows path with --rsync-origin.
    let rsync: { path: string; flavor: RsyncFlavor };
    let read: string;
    if (onWindows) {
      rsync = locateWindowsRsync({ setting: values.rsync, flavor: flavorFlag, pathEnv: process.env['PATH'], programFiles: process.env['ProgramFiles'], programFilesX86: process.env['ProgramFiles(x86)'], programData: programData(), systemDrive: process.env['SystemDrive'], exists: fileExists });
      read = rsync.path;
    } else {
      if (values.rsync === undefined) throw invalid('--rsync is required when planning off Windows.', 'Give a copy of rsync.exe with the DLLs beside it (e.g. MSYS2\'s usr\\bin folder copied from the Windows machine): --rsync /path/to/usr/bin/rsync.exe, and where it is on Windows with --rsync-origin.');
      const flavor = flavorFlag ?? guessFlavor(values.rsync);
      rsync = { path: values['rsync-origin'] ?? DEFAULT_ORIGIN[flavor], flavor };
      read = path.resolve(values.rsync);
    }
    // A ring on a server: ssh.exe and ssh-keygen.exe of rsync's folder are copied too; the server's
    // file system is not probed from here.
    const remote = looksRemote(profile.target);
    const files = await collectRsyncRuntime(read, { ssh: remote });
    // A server ring needs rsync 3.4.0 (review H2): run it on Windows; off Windows it cannot run here.
    const versionFlag = values['rsync-version'];
    const version = !remote ? undefined : versionFlag !== undefined ? `rsync  version ${versionFlag}` : onWindows ? await windowsRsyncVersion(read, io.signal) : undefined;
    const targetFilesystem = fsFlag ?? (onWindows && !remote ? await windowsFileSystem(profile.target, io.signal) : 'unknown');

    const plan = planHelper({
      profile, account, userAccountAccepted: values['accept-user-account-risk'] === true, userSid, rsync: { ...rsync, files, version }, targetFilesystem,
      programData: onWindows ? programData() : 'C:\\ProgramData',
      systemRoot: onWindows ? systemRoot() : 'C:\\Windows',
      helperScript: readHelperAsset('helper.ps1'),
      installerScript: readHelperAsset('install.ps1'),
      nativeSource: readHelperAsset('native.cs'),
      localNames: onWindows ? [hostname(), hostname().split('.')[0]!] : [],
      hostKey: values['host-key'],
    });
    await writeHelperStaging(out, plan);
    io.out(`Planned the elevated helper for profile "${profile.name}" (task ${plan.taskName}) in ${out}; nothing was installed.\n`);
    for (const f of plan.staging) io.out(`  ${f.name.padEnd(28)} sha256 ${f.sha256}\n`);
    const more = remote ? `ssh.exe, ssh-keygen.exe and ${files.length - 3} DLL(s)` : `${files.length - 1} DLL(s)`;
    io.out(`rsync: ${rsync.path} (${rsync.flavor}), read by the installer with ${more} from that folder, only if administrators alone can change it, into the admin-only folder\n`);
    for (const n of [...notes, ...plan.notes]) io.out(`note: ${n}\n`);
    return ExitCode.ok;
  },
};
