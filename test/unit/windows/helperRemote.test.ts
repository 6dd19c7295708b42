// Issue 15: what the elevated helper runs on a ring's server. helper.ps1 holds the same script
// bodies as src/core/serverScripts.ts and the same functions around them; these checks
// compare the bodies byte for byte and the functions' shape, and run the quoting and framing with
// a real POSIX sh here (the golden pairs of helperGolden.test.ts are run against the PowerShell
// functions in .github/workflows/windows-vss.yml; the scripts run against a real sshd in
// test/ssh/helperRemote.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HELPER_REMOTE_SCRIPTS, helperRemoteBody, helperRemoteFrame, helperRemoteScript, parseHelperReply, parseLockReply, type HelperRemoteScript } from '../../../src/core/serverScripts';
import { installedServerHelper } from '../../../src/core/windows/helperInstall';
import { RSYNC_LIST, SERVER_NOW } from '../../../src/platform/target/sshListing';
import { HOSTILE_NAMES } from '../../helpers/hostileNames';
import { lexPowerShell } from './psLexer';
import { acceptHostKey } from '../../../src/platform/windows/helperSsh';
import { hostKeyPrompt } from '../../../src/ui/windows/hostKeyPrompt';
import { installReview } from '../../../src/ui/windows/installReview';
import { fakeMsys2SshRuntime } from './peBuilder';
import { planFor } from './planFixtures';

const helper = readFileSync(join(__dirname, '../../../src/platform/windows/assets/helper.ps1'), 'utf8');
const SHELLS = ['/bin/dash', '/usr/bin/busybox'].filter((s) => existsSync(s));

/** `$RemoteScripts = @{ name = @'…'@ … }` of helper.ps1, read as PowerShell reads single-quoted here-strings. */
function psScripts(): Map<string, string> {
  const start = helper.indexOf('$RemoteScripts = @{\n');
  const end = helper.indexOf('\n}\n', start);
  assert.ok(start > 0 && end > start, 'helper.ps1 has a $RemoteScripts table');
  const table = helper.slice(start, end + 2);
  const found = new Map<string, string>();
  for (const m of table.matchAll(/^ {2}(\w+) = @'\n([\s\S]*?)\n'@$/gm)) found.set(m[1]!, m[2]!);
  // Nothing else in the table: every line is inside one of the here-strings.
  const rest = table.replace(/^ {2}\w+ = @'\n[\s\S]*?\n'@$/gm, '').split('\n').filter((l) => l.trim() !== '');
  assert.deepEqual(rest, ['$RemoteScripts = @{', '}']);
  return found;
}

test('helper.ps1 holds every remote script body, byte for byte as the TypeScript module', () => {
  const ps = psScripts();
  const names = Object.keys(HELPER_REMOTE_SCRIPTS) as HelperRemoteScript[];
  assert.deepEqual([...ps.keys()].sort(), [...names].sort());
  for (const name of names) assert.equal(ps.get(name), helperRemoteBody(name), name);
  // ASCII and no line that could end a here-string early.
  for (const name of names) assert.doesNotMatch(helperRemoteBody(name), /[^\x20-\x7e\n]|^'@/m, name);
});

test('the lock scripts are the engine\'s: its listing and clock commands, its draft and aside names', () => {
  const read = helperRemoteBody('lockRead');
  assert.ok(read.includes(SERVER_NOW) && read.includes(`${RSYNC_LIST} -- "$1"`));
  assert.match(helperRemoteBody('lockPublish'), /^d=\$1\.new-\$\$-\$3$/m);
  const engine = readFileSync(join(__dirname, '../../../src/platform/target/remoteLock.ts'), 'utf8');
  for (const line of ['if [ -e ${lock} ]; then exit 17; fi', 'sync -- "$d" 2>/dev/null', 'ln -- "$d" ${lock} 2>/dev/null; s=$?; rm -f -- "$d"', 'if [ $s -ne 0 ] && [ -e ${lock} ]; then exit 17; fi']) {
    assert.ok(engine.includes(line), line);
    assert.ok(helperRemoteBody('lockPublish').includes(line.replace(/\$\{lock\}/g, '"$1"')), line);
  }
  assert.match(helperRemoteBody('write'), /^t=\$1\.tmp-\$\$-\$3$/m, 'the torn-write name the engine\'s repair removes');
});

test('the PowerShell functions around the scripts have the TypeScript shape', () => {
  const fn = (name: string) => new RegExp(`^function ${name}\\(.*[\\s\\S]*?^\\}$`, 'm').exec(helper)![0];
  assert.match(fn('Quote-Sh'), /"'" \+ \$Value\.Replace\("'", "'\\''"\) \+ "'"/);
  assert.match(fn('Format-RemoteScript'), /'set --' \+ \(-join @\(@\(\$Values\)\.ForEach\(\{ ' ' \+ \(Quote-Sh \$_\) \}\)\)\) \+ "`n" \+ \$RemoteScripts\[\$Name\]\.Replace\("`r`n", "`n"\)/);
  assert.match(fn('Format-RemoteFrame'), /"\(`nexport LC_ALL=C`n\$Script`n\) <\/dev\/null 2>&1`nprintf '\\n%s %s\\n' \$Marker `\$\?`n"/);
  // Every script the helper sends is built by Format-RemoteScript from the table: no other sh text.
  const sent = [...helper.matchAll(/Invoke-Server '(\w+)'/g)].map((m) => m[1]!);
  assert.ok(sent.length > 10);
  for (const name of sent) assert.ok(name in HELPER_REMOTE_SCRIPTS, name);
  assert.equal([...lexPowerShell(helper).code.matchAll(/Format-RemoteScript /g)].length, 1, 'one call site: Invoke-Server');
  assert.doesNotMatch(helper, /Stop-Helper 2 "This helper's ring is on a server over SSH/);
});

test('a script\'s values arrive as $1… literally, whatever they hold (dash and busybox ash)', { skip: SHELLS.length === 0 ? 'no dash or busybox here' : false }, () => {
  const values = [...HOSTILE_NAMES, "'\\''", 'ends with \\', '\n\n', '-e', '--'];
  for (const sh of SHELLS) {
    const first = helperRemoteScript('remove', values).split('\n')[0]!;
    // The set -- line spans lines when a value holds a newline: take everything before the body.
    const setLine = helperRemoteScript('remove', values).slice(0, -helperRemoteBody('remove').length - 1);
    assert.ok(first.startsWith('set -- '));
    const r = spawnSync(sh, sh.endsWith('busybox') ? ['sh'] : [], { input: `${setLine}\nprintf '%s\\0' "$@"\n`, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\0').slice(0, -1), values, sh);
  }
  assert.throws(() => helperRemoteScript('read', ['a\0b']), /NUL/);
});

test('a frame runs in a subshell of the session: the session survives exit, reads nothing, and the reply parses', { skip: SHELLS.length === 0 ? 'no dash or busybox here' : false }, () => {
  const marker = 'f'.repeat(32);
  for (const sh of SHELLS) {
    const frames = [
      helperRemoteScript('hello', [marker]),
      'echo to-stderr >&2; exit 3',
      'read x; echo "read:$x"',
      helperRemoteScript('read', ['/nonexistent file']),
    ].map((s) => helperRemoteFrame(s, marker)).join('');
    const r = spawnSync(sh, sh.endsWith('busybox') ? ['sh'] : [], { input: `${frames}next line of the session\n`, encoding: 'utf8' });
    let buffer = r.stdout;
    const replies = [];
    for (let reply = parseHelperReply(buffer, marker); reply; reply = parseHelperReply(buffer, marker)) { replies.push(reply); buffer = reply.rest; }
    assert.equal(replies.length, 4, sh);
    assert.match(replies[0]!.output, new RegExp(`^hello-${marker}\\n[1-9][0-9]*\\n`));
    assert.deepEqual([replies[1]!.status, replies[1]!.output], [3, 'to-stderr\n'], 'stderr joins the output; exit leaves only the subshell');
    assert.deepEqual([replies[2]!.status, replies[2]!.output], [0, 'read:\n'], 'stdin is /dev/null: the next frame is not read');
    assert.equal(replies[3]!.status, 3);
  }
});

test('lock answers: the age on the server\'s clock, or unknown', () => {
  const listing = '-rw-r--r--             96 2026/12/03 21:08:00 lock';
  assert.deepEqual(parseLockReply(`now 2026 12 03 21 10 00\n${listing}\n@@lock\n{"pid":1}`), { age: 120, text: '{"pid":1}' });
  assert.deepEqual(parseLockReply(`now 2026 02 30 21 10 00\n${listing}\n@@lock\nx`), { age: null, text: 'x' }, 'no such date');
  assert.deepEqual(parseLockReply(`${listing}\n@@lock\n`), { age: null, text: '' });
  assert.equal(parseHelperReply('x\nM 1', 'M'), null, 'not until the status line ends');
  assert.deepEqual(parseHelperReply('a\nM 7\nrest', 'M'), { status: 7, output: 'a', rest: 'rest' });
});

test('Back Up Now runs an installed server-ring helper only when it backs up exactly these settings', () => {
  const fixture = (plan: string) => JSON.parse(readFileSync(join(__dirname, `../../fixtures/windows/${plan}/profile.json`), 'utf8'));
  const want = { name: 'src', source: 'C:\\Users\\alice\\src', target: 'ssh://backup@nas.example:2222/srv/backups/alice', slots: 8, excludes: [], rsyncArgs: [] };
  assert.equal(installedServerHelper(fixture('plan-msys2-ssh'), want)?.profile.ssh?.host, 'nas.example');
  assert.equal(installedServerHelper(fixture('plan-msys2-ssh'), want)?.state, 'installed');
  assert.ok(installedServerHelper(fixture('plan-msys2-ssh'), { ...want, source: 'c:\\users\\alice\\SRC\\' }), 'Windows folder names are compared as Windows compares them');
  for (const other of [{ target: 'ssh://backup@nas.example:2222/srv/backups/bob' }, { target: 'ssh://root@nas.example:2222/srv/backups/alice' }, { target: 'backup@nas.example:/srv/backups/alice' }, { slots: 7 }, { name: 'other' }, { source: 'C:\\Users\\alice\\other' }, { target: 'D:\\B' }]) {
    assert.equal(installedServerHelper(fixture('plan-msys2-ssh'), { ...want, ...other }), undefined, JSON.stringify(other));
  }
  assert.equal(installedServerHelper(fixture('plan-msys2'), { ...want, target: fixture('plan-msys2').target }), undefined, 'a local ring\'s helper is routed as before');
  const tampered = fixture('plan-msys2-ssh');
  tampered.ssh.session = ['-F', '/c/evil', '-T', '--', 'nas.example', 'exec sh -i'];
  assert.equal(installedServerHelper(tampered, want), undefined, 'an invalid profile.json is never run');
  assert.equal(installedServerHelper('not json', want), undefined);
});

test('review 15b finding 7: an installed server-ring helper whose excludes or rsync options differ from what the settings plan now is outdated, never run as current', () => {
  const line = `[nas.example]:2222 ssh-ed25519 ${'AAAAC3NzaC1lZDI1NTE5AAAAINQhgIQgO+YeXwREMkVS6VL8CVwJlTeEyLmGUGELzeDn'}`;
  const settings = { name: 'src', source: 'C:\\Users\\alice\\src', target: 'ssh://backup@nas.example:2222/srv/backups/alice', slots: 8 };
  const installedWith = (excludes: string[], rsyncArgs: string[] = []) => JSON.parse(JSON.stringify(planFor({ ...settings, excludes, rsyncArgs }, {
    rsync: { path: 'C:\\msys64\\usr\\bin\\rsync.exe', flavor: 'msys2', files: fakeMsys2SshRuntime(), version: 'rsync  version 3.4.1  protocol version 32' }, hostKey: line,
  }).storedProfile)) as unknown;
  const hostile = ['My Project/*.tmp', "it's", '100% %PATH%', '$(whoami) `id`', 'semi;colon & R&D', 'back\\slash', 'Ünïcødé ✓'];
  const installed = installedWith(['node_modules/', ...hostile], ['--checksum']);
  const now = (excludes: string[], rsyncArgs: string[] = ['--checksum']) => installedServerHelper(installed, { ...settings, excludes, rsyncArgs });
  assert.deepEqual(now(['node_modules/', ...hostile]), { profile: installed, state: 'installed', settings: [] }, 'the planner\'s options and the comparison agree, hostile patterns included');
  const added = now(['node_modules/', ...hostile, 'secrets/']);
  assert.equal(added?.state, 'outdated', 'a newly excluded folder');
  assert.deepEqual(added?.settings, ['excludes or rsync options (now --exclude=secrets/)']);
  assert.deepEqual(now(hostile)?.settings, ['excludes or rsync options (no longer --exclude=node_modules/)'], 'an exclude dropped');
  assert.deepEqual(now(['node_modules/', 'node_modules/', ...hostile])?.settings, ['excludes or rsync options (their order or repetition)']);
  assert.deepEqual(now(['node_modules/', ...hostile], [])?.settings, ['excludes or rsync options (no longer --checksum)']);
  assert.deepEqual(now(['node_modules/', ...hostile], ['--checksum', '--bwlimit=100'])?.settings, ['excludes or rsync options (now --bwlimit=100)']);
  assert.deepEqual(now([...hostile, 'node_modules/'])?.settings, ['excludes or rsync options (their order or repetition)'], 'rsync applies the first matching rule: the order counts');
  // What the helper would run is the installed profile; the route decides on the state (helperRoute.test.ts).
  assert.equal(now(['node_modules/', ...hostile, 'secrets/'])?.profile, installed);
  assert.equal(installedServerHelper(installed, { ...settings, slots: 7, excludes: [], rsyncArgs: [] }), undefined, 'other settings: not this profile\'s helper at all');
});

test('Set Up asks for the server\'s host key line, refuses what the helper would refuse, and the review names the one key it will trust', () => {
  const target = { user: 'backup', host: 'nas.example', port: 2222, path: '/srv/backups/alice' };
  const line = '[nas.example]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINQhgIQgO+YeXwREMkVS6VL8CVwJlTeEyLmGUGELzeDn';
  const problem = (l: string) => { try { acceptHostKey(l, target); return undefined; } catch (e) { return (e as Error).message; } };
  const prompt = hostKeyPrompt(target, problem);
  assert.match(prompt.prompt, /ssh-keyscan -p 2222 -t ed25519 nas\.example/);
  assert.match(prompt.placeHolder, /^\[nas\.example\]:2222 ssh-ed25519 /);
  assert.equal(prompt.validateInput(`  ${line}  `), undefined);
  assert.match(prompt.validateInput('nas.example ssh-ed25519 AAAA')!, /not for \[nas\.example\]:2222|not a valid/);
  assert.match(prompt.validateInput('')!, /Paste one line/);
  assert.match(hostKeyPrompt({ ...target, port: null }, problem).prompt, /"ssh-keyscan -t ed25519 nas\.example"/);
  const plan = planFor({ source: 'C:\\Users\\alice\\src', target: 'ssh://backup@nas.example:2222/srv/backups/alice', slots: 8 }, { rsync: { path: 'C:\\msys64\\usr\\bin\\rsync.exe', flavor: 'msys2', files: fakeMsys2SshRuntime(), version: 'rsync  version 3.4.1  protocol version 32' }, hostKey: line });
  const review = installReview(plan, 'user', false).detail;
  assert.match(review, /Connects to backup@nas\.example port 2222 with the ssh copied beside rsync, trusting only the host key SHA256:DPeSXOKKgHNcuI7ta\+sqyqF06tsg\+8BcWOF00dprx9c\./);
  assert.doesNotMatch(installReview(planFor({ source: 'C:\\Users\\alice\\src', target: 'D:\\B' }), 'user', false).detail, /host key/);
});

test('review M6: the ssh suite\'s model runs helper.ps1\'s server steps in its order (and helper.ps1 sorts incoming ordinally, as the model)', () => {
  const helper = readFileSync(join(__dirname, '../../../src/platform/windows/assets/helper.ps1'), 'utf8');
  const model = readFileSync(join(__dirname, '../../helpers/helperServerRun.ts'), 'utf8');
  const fn = (name: string) => new RegExp(`^function ${name}\\b[\\s\\S]*?^\\}$`, 'm').exec(helper)![0];
  const psNames: Record<string, string> = { 'Read-ServerJson': 'read', 'Write-ServerJson': 'write', 'Complete-SlotManifest': 'write', 'Lock-ServerRing': 'lock', 'Invoke-ServerRotation': 'rotation', 'Invoke-Rsync': 'rsync' };
  const ps = [...(fn('Initialize-ServerRing') + fn('Copy-ToServer') + fn('Close-ServerSession')).matchAll(/Invoke-Server '(\w+)'|Read-ServerJson|Write-ServerJson|Lock-ServerRing|Invoke-ServerRotation|Invoke-Rsync|Complete-SlotManifest/g)]
    .map((m) => m[1] ?? psNames[m[0]]!);
  const body = /^export async function helperServerBackup[\s\S]*?^\}$/m.exec(model)![0];
  const tsNames: Record<string, string> = { 'readJson<': 'read', 'writeJson(': 'write', 'lockServerRing(': 'lock', 'serverRotation(': 'rotation', "run('rsync'": 'rsync' };
  const ts = [...body.matchAll(/s\.exec\('(\w+)'|readJson<|writeJson\(|lockServerRing\(|serverRotation\(|run\('rsync'/g)].map((m) => m[1] ?? tsNames[m[0]]!);
  assert.deepEqual(ts, ps);
  assert.ok(ps.length >= 15);
  assert.match(fn('Initialize-ServerRing'), /\[Array\]::Sort\(\$left, \[StringComparer\]::Ordinal\); \[Array\]::Reverse\(\$left\)/);
  assert.match(body, /\.sort\(\)\.reverse\(\)/);
});

test('review L8-L11 in helper.ps1: both rings refuse a slot listed twice, slot ids end at \\z, server text is escaped, a pid that is no number is no owner, the server\'s rsync is checked', () => {
  const helper = readFileSync(join(__dirname, '../../../src/platform/windows/assets/helper.ps1'), 'utf8');
  assert.equal([...helper.matchAll(/^\s+Assert-RingUnique \$entries$/gm)].length, 2, 'local and server ring.json');
  assert.match(helper, /function Assert-SlotId\(\$Id\) \{ if \(\$Id -isnot \[string\] -or \$Id -cnotmatch '\^\[0-9A-Za-z\]\[0-9A-Za-z_-\]\{0,80\}\\z'\)/);
  assert.match(helper, /Stop-Helper 1 "On \$Script:ServerName, \$Name failed \(exit \$\(\$reply\.status\)\): \$\(Format-Name \(/);
  assert.match(helper, /Log "Connected to \$Script:ServerName \(\$\(Format-Name \$Script:ServerInfo\.host\)\)/);
  assert.match(helper, /rsync failed with exit code \$\(\$Result\.exitCode\): \$\(Format-Name \(/);
  assert.match(helper, /\$why = Format-Name \(/);
  const owner = /^function Get-ServerOwner[\s\S]*?^\}$/m.exec(helper)![0];
  assert.match(owner, /\$o\.pid -isnot \[int\] -and \$o\.pid -isnot \[int64\] -and \$o\.pid -isnot \[double\] -and \$o\.pid -isnot \[decimal\]\) \{ return \$null \}/);
  assert.doesNotMatch(owner, /\[ValueType\]/, 'true is no pid');
  const init = /^function Initialize-ServerRing[\s\S]*?^\}$/m.exec(helper)![0];
  assert.match(init, /Test-VersionBelow \$serverRsync @\(3, 1, 0\)/);
  assert.match(init, /Invoke-Server 'prepare' @\(\$Srv\.target\) @\(3, 4, 5, 6, 7\)/);
});
