// Item 9 of issue 19: the helper script repeats a few pure functions of the TypeScript side
// (rotation plan, rsync quoting, exclude lines). Golden pairs are generated here from the
// TypeScript functions; .github/workflows/windows-vss.yml runs the PowerShell functions on the
// same inputs and requires the same outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRingState, planRotation, type RingEntry } from '../../../src/core/ring';
import { joinRsyncArgs } from '../../../src/core/windows/cmdline';
import { helperOptionProblem, helperRsyncArgv, type HelperProfile } from '../../../src/core/windows/helperProfile';
import { HELPER_REMOTE_SCRIPTS, helperRemoteFrame, helperRemoteScript, parseHelperReply, parseLockReply, type HelperRemoteScript } from '../../../src/core/serverScripts';
import { HELPER_SSH_MIN_RSYNC, MIN_RSYNC_VERSION, parseRsyncVersion, versionAtLeast } from '../../../src/core/rsyncVersion';
import { parseRemoteTarget } from '../../../src/core/remoteTarget';
import { acceptHostKey, knownHostsName, planHelperSsh } from '../../../src/platform/windows/helperSsh';
import { HOSTILE_NAMES } from '../../helpers/hostileNames';
import { formatName } from '../../../src/core/displayName';
import { rsyncFstab } from '../../../src/platform/windows/rsyncRuntime';
import { cygwinNameProblem, reparseExcludeLine } from '../../../src/core/windows/reparseExcludes';
import { HOSTILE_WINDOWS_NAMES } from './planFixtures';

const file = join(__dirname, '../../fixtures/windows/helper-golden.json');
const id = (n: number) => `2026110${n % 10}T230000Z-${(0xa00000 + n).toString(16)}`;
const ring = (...numbers: number[]): RingEntry[] => numbers.map((number, i) => ({ number, id: id(i + 1) }));

function goldenPairs() {
  const rotationInputs: Array<{ entries: RingEntry[]; capacity: number }> = [
    { entries: [], capacity: 1 },
    { entries: [], capacity: 16 },
    { entries: ring(0), capacity: 1 },
    { entries: ring(0), capacity: 2 },
    { entries: ring(0, 1, 2), capacity: 3 },
    { entries: ring(0, 1, 2), capacity: 16 },
    { entries: ring(0, 1, 2, 3, 4), capacity: 3 },
    { entries: ring(2, 0, 1), capacity: 4 },
    { entries: ring(0, 2, 5), capacity: 8 },
    { entries: ring(1, 2, 3), capacity: 8 },
    { entries: ring(3, 7, 9, 12), capacity: 2 },
    { entries: ring(0, 1, 3, 4, 9), capacity: 4 },
  ];
  const newId = '20261128T230005Z-112233';
  const rotation = rotationInputs.map(({ entries, capacity }) => {
    const plan = planRotation({ format: 1, entries }, capacity, newId);
    return { entries, capacity, newId, steps: plan.steps, final: plan.final };
  });
  const argvs = [
    ['-rtDx', '--delete', '--exclude=*.tmp', '--', '/c/ProgramData/Shadow Slots/p/links/x/Users/a b/', '/d/B/.shadow-slots/incoming/x/'],
    ['', 'a\\', 'a\\\\', 'x\\y', ' lead', 'trail ', '@file', 'tab-less', '%PATH%', '$(x)'],
    HOSTILE_WINDOWS_NAMES,
  ];
  const quoting = argvs.map((argv) => ({ argv, line: joinRsyncArgs(argv) }));
  // Names Cygwin shows rsync differently (review H3): no exclude line, the helper refuses them.
  const unmatchable = ['x\uf02a\\', 'cfg\uf03a', 'a\\\uf000b\\', 'z\uf0ff', 'lone \ud800 high\\', 'lone \udc00 low', 'dot.\\x\\', 'trailing space \\'];
  const excludes = ['node_modules\\', 'a\\b\\Application Data\\', 'file link.txt', 'odd [name]\\', 'emoji 😀\\', 'x\uefff', ...HOSTILE_WINDOWS_NAMES.map((n) => `${n}\\`), ...unmatchable]
    .map((relative) => (cygwinNameProblem(relative.replace(/\\$/, '')) === undefined ? { relative, line: reparseExcludeLine(relative) } : { relative, line: null }));
  const options = ['-rtDx', '--delete', '--chmod=ugo=rwX', '--out-format=%i %n', '--exclude=*.tmp', '--exclude=', '--bwlimit=2000', '--bwlimit=2000 --log-file=/c/x', '--timeout=', '-c', '-A', '-p', '--perms', '-L',
    '--copy-unsafe-links', '--log-file=/c/x.log', '--chmod=a+rwx', '--exclude=a"b', '--filter=merge /x', '-e', '--rsh=sh', '--max-size=1G', '--checksum-choice=xxh128',
    '--exclude=!', '--exclude=+ *', '--exclude=- x', '--exclude=!x', '--exclude=. /c/x']
    .map((option) => ({ option, ok: helperOptionProblem(option) === undefined }));
  return { rotation, quoting, excludes, options, remote: remotePairs(), runtime: runtimePairs() };
}

/**
 * Review 15b, findings 1 and 5: the mount table helper.ps1 and install.ps1 require (Get-RsyncFstab,
 * from rsyncFstab; an unknown flavor has none), which runtime DLL each flavor must have copied
 * (Get-RuntimeFlavorProblem: ok or not), and how Format-Name escapes server text (formatName).
 */
function runtimePairs() {
  const fstab = ['cygwin', 'msys2', 'MSYS2', 'cwrsync', ''].map((flavor) => ({ flavor, text: flavor === 'cygwin' || flavor === 'msys2' ? rsyncFstab(flavor) : null }));
  const bin = (n: string) => `rsync/usr/bin/${n}`;
  const runtimes = [
    { flavor: 'msys2', names: [bin('rsync.exe'), bin('msys-2.0.dll'), 'rsync/etc/fstab'], ok: true },
    { flavor: 'msys2', names: [bin('rsync.exe'), bin('MSYS-2.0.DLL')], ok: true },
    { flavor: 'msys2', names: [bin('rsync.exe'), bin('cygwin1.dll')], ok: false },
    { flavor: 'msys2', names: [bin('rsync.exe'), bin('msys-2.0.dll'), bin('cygwin1.dll')], ok: false },
    { flavor: 'cygwin', names: [bin('rsync.exe'), bin('cygwin1.dll'), bin('cygiconv-2.dll')], ok: true },
    { flavor: 'cygwin', names: [bin('rsync.exe'), bin('msys-2.0.dll')], ok: false },
    { flavor: 'cygwin', names: [bin('rsync.exe')], ok: false },
    { flavor: 'other', names: [bin('rsync.exe'), bin('cygwin1.dll')], ok: false },
  ];
  const names = ['plain', 'tab\tnew\nline', 'del\u007f c1\u0080\u009b[31m', 'nbsp\u00a0 ok', 'zw\u200b\u200c\u200d\u200e\u200f', 'ls\u2028ps\u2029', 'bidi\u202a\u202b\u202c\u202d\u202e', 'iso\u2066\u2067\u2068\u2069', 'nnbsp\u202f ok', 'bom\ufeff', 'pua\ue000 lone \ud800', 'emoji 😀 日本 ü', '\u2065\u206a ok']
    .map((name) => ({ name, shown: formatName(name) }));
  return { fstab, runtimes, names };
}

/**
 * Issue 15: the server side of the helper. Every script with hostile values (Format-RemoteScript),
 * frames (Format-RemoteFrame), replies (Read-RemoteReply), lock answers (Read-LockReply) and the
 * rsync argv of a local and a server profile (Get-RsyncArgv).
 */
function remotePairs() {
  const names = Object.keys(HELPER_REMOTE_SCRIPTS) as HelperRemoteScript[];
  const values = HOSTILE_NAMES.filter((n) => n !== '');
  const scripts = [
    ...names.map((name, i) => ({ name, values: [`/srv/ring ${values[i % values.length]!}/.shadow-slots/lock`, values[(i + 7) % values.length]!, 'a1b2c3'] })),
    { name: 'remove' as const, values: [] },
    { name: 'rotate' as const, values: [...values, ''] },
    { name: 'write' as const, values: ['/srv/b/.shadow-slots/ring.json', '{\n  "format": 1,\n  "entries": []\n}\n', '0123abcd'] },
  ].map((c) => ({ ...c, script: helperRemoteScript(c.name, c.values) }));
  const marker = '0123456789abcdef0123456789abcdef';
  const frames = [helperRemoteScript('hello', [marker]), 'exit 3', "printf '%s' 'x\ny'"].map((script) => ({ script, marker, frame: helperRemoteFrame(script, marker) }));
  const replies = [
    `out\n${marker} 0\n`, `\n${marker} 17\nnext`, `partial\n${marker} 1`, `x\n${marker} 1x\n`, `no marker\n`, `two\nlines ü\n\n${marker} 255\n${marker} 3\n`, `${marker} 0\n`,
  ].map((buffer) => ({ buffer, marker, reply: parseHelperReply(buffer, marker) }));
  const listing = (date: string) => `-rw-r--r--             96 ${date} lock`;
  const lockReplies = [
    `now 2026 12 03 21 10 00\n${listing('2026/12/03 21:08:00')}\n@@lock\n{"pid":12,"host":"nas"}`,
    `now 2026 12 03 21 10 00\n${listing('2026/12/03 21:09:55')}\n@@lock\nnot json`,
    `now 2026 01 01 00 00 05\n${listing('2025/12/31 23:59:59')}\n@@lock\n`,
    `${listing('2026/12/03 21:08:00')}\n@@lock\n{}`,
    `now 2026 13 03 21 10 00\n${listing('2026/12/03 21:08:00')}\n@@lock\nx`,
    `now 2026 12 03 21 10 00\n@@lock\nx`,
    'no lock text at all',
  ].map((output) => ({ output, reply: parseLockReply(output) }));
  const stored = ['plan-msys2', 'plan-msys2-ssh'].map((plan) => {
    const p = JSON.parse(readFileSync(join(__dirname, `../../fixtures/windows/${plan}/profile.json`), 'utf8')) as HelperProfile;
    return { rsync: p.rsync, ...(p.ssh ? { ssh: { rsyncTransport: p.ssh.rsyncTransport } } : {}) };
  });
  const rsyncArgv = stored.flatMap((profile) => [true, false].map((linkDest) => ({ profile, id: '20261203T211000Z-a1b2c3', linkDest, argv: helperRsyncArgv(profile as HelperProfile, '20261203T211000Z-a1b2c3', linkDest) })));
  const versions = ['rsync  version 3.4.1  protocol version 32', 'rsync rsync  version 3.2.7  protocol version 31', 'rsync version v3.1.0 protocol', 'rsync  version 3.4', 'rsync  version 2.6.9  protocol version 29',
    'rsync  version 3.3.0pre1', 'no version here', 'openrsync: protocol version 29', '']
    .map((text) => {
      const version = parseRsyncVersion(text);
      return { text, version, below340: version === null ? null : !versionAtLeast(version, HELPER_SSH_MIN_RSYNC), below310: version === null ? null : !versionAtLeast(version, MIN_RSYNC_VERSION) };
    });
  // Review L8/L9: ring.json entries (parseRingState: ids by SLOT_ID_PATTERN, no slot twice) and lock owners' pids.
  const e = (number: unknown, slotId: unknown) => ({ number, id: slotId });
  const rings = [[], [e(0, 'a'), e(1, 'b')], [e(0, 'a'), e(0, 'b')], [e(0, 'a'), e(1, 'a')], [e(2, 'x-1'), e(0, 'x_2')], [e(0, 'a\n')], [e(0, '-a')], [e(0, 'a'), e(1, 'A')]]
    .map((entries) => {
      let ok = true;
      try { parseRingState(JSON.stringify({ format: 1, entries })); } catch { ok = false; }
      return { entries, ok };
    });
  return { scripts, frames, replies, lockReplies, rsyncArgv, versions, rings, ...sshPairs() };
}

const KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAINQhgIQgO+YeXwREMkVS6VL8CVwJlTeEyLmGUGELzeDn';

/**
 * Review H1: what the helper makes of an install folder and a server (Get-HelperSshPlan: the
 * ssh_config bytes, the session's argv, rsync's -e), from planHelperSsh itself; and which
 * known_hosts texts it accepts (Get-KnownHostsProblem), from acceptHostKey.
 */
function sshPairs() {
  const dirs = ['C:\\ProgramData\\Shadow Slots\\p', "D:\\Prog Data's 100% #1=x\\Shadow Slots\\Ünï 日本 1.2", 'c:\\P\\Shadow Slots\\a b'];
  const servers = [
    { target: 'ssh://backup@nas.local/srv/b', user: 'backup', host: 'nas.local', port: 22 },
    { target: 'ssh://u_1@[::1]:2222/srv/b', user: 'u_1', host: '::1', port: 2222 },
    { target: 'ssh://a.b-c@10.0.0.5:65535/x', user: 'a.b-c', host: '10.0.0.5', port: 65535 },
  ];
  const sshPlans = dirs.flatMap((installDir, i) => (['msys2', 'cygwin'] as const).map((flavor, j) => {
    const server = servers[(i + j) % servers.length]!;
    const target = parseRemoteTarget(server.target)!;
    const line = `${knownHostsName(target)} ssh-ed25519 ${KEY}`;
    const plan = planHelperSsh({ target, hostKey: line, installDir, flavor, profileName: 'p' });
    return { installDir, flavor, ssh: { user: server.user, host: server.host, port: server.port }, config: plan.files[0]!.bytes.toString('utf8'), session: plan.stored.session, rsyncTransport: plan.stored.rsyncTransport };
  }));
  const ssh = { host: 'nas', port: 2222, fingerprint: acceptHostKey(`[nas]:2222 ssh-ed25519 ${KEY}`, parseRemoteTarget('ssh://b@nas:2222/x')!).fingerprint };
  const target = parseRemoteTarget('ssh://b@nas:2222/x')!;
  const other = 'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=';
  const knownHosts = [
    `[nas]:2222 ssh-ed25519 ${KEY}\n`, `[nas]:2222 ssh-ed25519 ${KEY}`, `[nas]:2222 ssh-ed25519 ${KEY}\r\n`, `[nas]:2222 ssh-ed25519 ${KEY}\n[nas]:2222 ssh-ed25519 ${KEY}\n`,
    `nas ssh-ed25519 ${KEY}\n`, `[nas]:2222 ssh-rsa ${KEY}\n`, `[nas]:2222 ssh-ed25519 ${KEY.slice(0, -4)}\n`, `[nas]:2222 ecdsa-sha2-nistp256 ${other}\n`,
    `@cert-authority [nas]:2222 ssh-ed25519 ${KEY}\n`, `[nas]:2222  ssh-ed25519 ${KEY}\n`, `[nas]:2222 ssh-ed25519 ${KEY} comment\n`, `\ufeff[nas]:2222 ssh-ed25519 ${KEY}\n`, '',
  ].map((text) => {
    let ok = false;
    try { const r = acceptHostKey(text, target); ok = r.line === text && r.fingerprint === ssh.fingerprint; } catch { ok = false; }
    return { text, ssh, ok };
  });
  return { sshPlans, knownHosts };
}

test('golden pairs for the helper script are generated from the TypeScript functions', () => {
  const expected = JSON.stringify(goldenPairs(), null, 2) + '\n';
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(file, expected);
  assert.equal(readFileSync(file, 'utf8'), expected, 'test/fixtures/windows/helper-golden.json is stale (UPDATE_GOLDEN=1 to regenerate)');
});

test('the golden pairs cover the rotation cases that matter', () => {
  const { rotation, excludes } = goldenPairs();
  const kinds = new Set(rotation.flatMap((r) => r.steps.map((s) => s.kind)));
  assert.deepEqual([...kinds].sort(), ['drop', 'move', 'promote']);
  assert.ok(rotation.some((r) => r.steps.some((s) => s.kind === 'move' && s.to < s.from)), 'a gap closed downwards');
  assert.ok(rotation.some((r) => r.steps.filter((s) => s.kind === 'drop').length > 1), 'several slots dropped');
  // No folder-only rule: a junction can point at a file (review 12b, NEW-2).
  assert.equal(excludes.find((e) => e.relative === 'odd [name]\\')!.line, '/odd \\[name]');
  assert.equal(excludes.find((e) => e.relative === 'file link.txt')!.line, '/file link.txt');
  // The private-use and surrogate names are in the pairs, refused (review L7).
  assert.equal(excludes.find((e) => e.relative === 'x\uf02a\\')!.line, null);
  assert.equal(excludes.find((e) => e.relative === 'lone \ud800 high\\')!.line, null);
  assert.equal(excludes.find((e) => e.relative === 'emoji 😀\\')!.line, '/emoji 😀');
  assert.throws(() => reparseExcludeLine('x\uf02a\\'), /rsync would see another name/);
  const { options } = goldenPairs();
  assert.deepEqual(options.filter((o) => o.ok).map((o) => o.option), ['-rtDx', '--delete', '--chmod=ugo=rwX', '--out-format=%i %n', '--exclude=*.tmp', '--bwlimit=2000', '-c', '--max-size=1G', '--checksum-choice=xxh128', '--exclude=!x']);
});

test('review 15b: the runtime pairs hold what the findings are about', () => {
  const { runtime } = goldenPairs();
  assert.equal(runtime.fstab.find((f) => f.flavor === 'cygwin')!.text, 'none /cygdrive cygdrive binary,posix=0,noacl,user 0 0\n');
  assert.equal(runtime.fstab.find((f) => f.flavor === 'msys2')!.text, 'none / cygdrive binary,posix=0,noacl,user 0 0\n');
  assert.equal(runtime.names.find((n) => n.name.startsWith('del'))!.shown, 'del\\u007F c1\\u0080\\u009B[31m');
  assert.equal(runtime.names.find((n) => n.name.startsWith('bidi'))!.shown, 'bidi\\u202A\\u202B\\u202C\\u202D\\u202E');
  assert.equal(runtime.names.find((n) => n.name.startsWith('nbsp'))!.shown, 'nbsp\u00a0 ok', 'a visible space is kept');
  // eslint-disable-next-line no-control-regex
  for (const n of runtime.names) assert.doesNotMatch(n.shown, /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\uf8ff]/, n.name);
});
