// Issue 15: the elevated helper's plan for a ring on a server over SSH. Nothing of it runs here
// (Windows, the copied MSYS2/Cygwin ssh); what it generates is checked against golden files, the
// real OpenSSH client's reading of the ssh_config (ssh -G) and the real rsync's split of `-e`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShadowSlotsError } from '../../../src/core/errors';
import { parseRemoteTarget } from '../../../src/core/remoteTarget';
import { HELPER_SERVER_RSYNC_TIMEOUT_S, helperRsyncArgv, validateHelperProfile } from '../../../src/core/windows/helperProfile';
import { SESSION_LOST_DURING_COPY } from '../../helpers/helperServerRun';
import { HELPER_SSH_MIN_RSYNC } from '../../../src/core/rsyncVersion';
import { HELPER_SSH_FIXED, helperSshConfig, sshConfigWord } from '../../../src/core/windows/sshConfig';
import { acceptHostKey, helperKeygenArguments } from '../../../src/platform/windows/helperSsh';
import { rsyncShellWord } from '../../../src/core/rsyncArgs';
import { collectRsyncRuntime } from '../../../src/platform/windows/rsyncRuntime';
import { buildPe, fakeMsys2Runtime, fakeMsys2SshRuntime } from './peBuilder';
import { golden, HOSTILE_WINDOWS_NAMES, planFor } from './planFixtures';

/** A real ed25519 public key (its fingerprint as `ssh-keygen -lf` printed it). */
const RSYNC_341 = 'rsync  version 3.4.1  protocol version 32';
const KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAINQhgIQgO+YeXwREMkVS6VL8CVwJlTeEyLmGUGELzeDn';
const FINGERPRINT = 'SHA256:DPeSXOKKgHNcuI7ta+sqyqF06tsg+8BcWOF00dprx9c';
const GENERATED = ['profile.json', 'task.xml', 'install.json', 'acl.json', 'rsync/etc/fstab', 'ssh/ssh_config', 'ssh/known_hosts'];
const assets = join(__dirname, '../../../src/platform/windows/assets');

function planRemote(target: string, hostKey: string | undefined, more: Parameters<typeof planFor>[1] = {}, profile: Record<string, unknown> = {}) {
  return planFor({ source: 'C:\\Users\\alice\\src', target, slots: 8, ...profile }, { rsync: { path: 'C:\\msys64\\usr\\bin\\rsync.exe', flavor: 'msys2', files: fakeMsys2SshRuntime(), version: RSYNC_341 }, hostKey, ...more });
}
const staged = (plan: ReturnType<typeof planFor>, name: string) => plan.staging.find((f) => f.name === name)!.bytes;

/** rsync's split of `-e`, as its manual says: spaces separate, '…' and "…" keep spaces, a doubled quote inside the same quotes is one, no backslashes. */
function splitRsyncShell(command: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < command.length) {
    if (command[i] === ' ') { i++; continue; }
    let word = '';
    let quote = '';
    while (i < command.length && (command[i] !== ' ' || quote !== '')) {
      const c = command[i]!;
      if (c === "'" || c === '"') {
        if (quote === '') { quote = c; i++; continue; }
        if (c === quote) {
          if (command[i + 1] === quote) { word += c; i += 2; continue; }
          quote = ''; i++; continue;
        }
      }
      word += c; i++;
    }
    args.push(word);
  }
  return args;
}

/** What the real OpenSSH client makes of a config (`ssh -G`: evaluated, never connects). */
function sshReads(config: string, host: string): Map<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'shadow-slots-sshcfg-'));
  try {
    writeFileSync(join(dir, 'config'), config);
    const r = spawnSync('ssh', ['-G', '-F', join(dir, 'config'), '--', host], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return new Map(r.stdout.split('\n').filter((l) => l !== '').map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('golden: a ring on a server over SSH (MSYS2, ssh:// with a port): the copied ssh, its ssh_config, known_hosts and the key step', () => {
  const plan = planRemote('ssh://backup@nas.example:2222/srv/backups/alice', `[nas.example]:2222 ssh-ed25519 ${KEY}`);
  for (const name of GENERATED) golden('plan-msys2-ssh', name, staged(plan, name));
  const p = validateHelperProfile(JSON.parse(staged(plan, 'profile.json').toString()));
  assert.equal(p.target, 'ssh://backup@nas.example:2222/srv/backups/alice');
  const install = 'C:\\ProgramData\\Shadow Slots\\src';
  assert.deepEqual(p.ssh, {
    exe: `${install}\\rsync\\usr\\bin\\ssh.exe`, config: `${install}\\ssh\\ssh_config`, user: 'backup', host: 'nas.example', port: 2222, path: '/srv/backups/alice',
    session: ['-F', '/c/ProgramData/Shadow Slots/src/ssh/ssh_config', '-T', '--', 'nas.example', 'exec sh'],
    rsyncTransport: ['-e', "'/c/ProgramData/Shadow Slots/src/rsync/usr/bin/ssh.exe' -F '/c/ProgramData/Shadow Slots/src/ssh/ssh_config' -T", '-s'],
    fingerprint: FINGERPRINT,
    files: ['ssh/ssh_config', 'ssh/known_hosts'].map((name) => ({ name, sha256: plan.staging.find((f) => f.name === name)!.sha256 })),
  });
  // rsync writes into the server's folders; the link-dest is the server's own path.
  assert.equal(p.rsync.incomingPrefix, 'nas.example:/srv/backups/alice/.shadow-slots/incoming/');
  assert.equal(p.rsync.linkDest, '--link-dest=/srv/backups/alice/0');
  const argv = helperRsyncArgv(p, 'ID', true);
  assert.deepEqual(argv.slice(1, 4), p.ssh!.rsyncTransport);
  assert.deepEqual(argv.slice(-2), ['/c/ProgramData/Shadow Slots/src/links/ID/Users/alice/src/', 'nas.example:/srv/backups/alice/.shadow-slots/incoming/ID/']);
  // ssh and ssh-keygen come from rsync's folder with the DLLs they load, by hash, like rsync.
  assert.deepEqual(plan.manifest.rsync.map((f) => f.from), ['rsync.exe', 'msys-2.0.dll', 'msys-iconv-2.dll', 'ssh.exe', 'ssh-keygen.exe', 'msys-crypto-3.dll', 'msys-z.dll'].map((n) => `C:\\msys64\\usr\\bin\\${n}`));
  assert.ok(p.rsync.files.some((f) => f.name === 'rsync/usr/bin/ssh.exe'));
  // The ssh folder (private key, known_hosts, ssh_config) is administrators and SYSTEM only.
  const sshFolder = plan.manifest.folders.at(-1)!;
  assert.equal(sshFolder.path, `${install}\\ssh`);
  assert.equal(sshFolder.sddl, plan.manifest.folders.find((f) => f.path.endsWith('\\links'))!.sddl);
  assert.deepEqual(plan.manifest.files.map((f) => f.name).filter((n) => n.startsWith('ssh/')), ['ssh/ssh_config', 'ssh/known_hosts']);
  assert.deepEqual(plan.manifest.keygen, { exe: `${install}\\rsync\\usr\\bin\\ssh-keygen.exe`, arguments: ['-q', '-t', 'ed25519', '-N', '', '-C', 'shadow-slots-helper src', '-f', 'id_ed25519'], workingDirectory: `${install}\\ssh` });
  assert.equal(staged(plan, 'ssh/known_hosts').toString(), `[nas.example]:2222 ssh-ed25519 ${KEY}\n`);
  assert.match(plan.notes.join('\n'), new RegExp(`host key accepted for backup@nas\\.example:2222: ${FINGERPRINT.replace(/[+/]/g, '\\$&')}`));
  assert.match(plan.notes.join('\n'), /authorized_keys of backup on nas\.example/);
  assert.doesNotMatch(plan.notes.join('\n'), /network share as target/);
});

test('golden: Cygwin rsync and rsync\'s user@host:/path form (port 22): /cygdrive paths in the ssh_config', () => {
  const plan = planRemote('backup@nas:/srv/backups/ring', `nas ssh-ed25519 ${KEY}`, { rsync: { path: 'C:\\cygwin64\\bin\\rsync.exe', flavor: 'cygwin', files: fakeMsys2SshRuntime(), version: RSYNC_341 } }, { name: 'Ring' });
  for (const name of GENERATED) golden('plan-cygwin-ssh', name, staged(plan, name));
  const config = staged(plan, 'ssh/ssh_config').toString();
  assert.match(config, /^UserKnownHostsFile "\/cygdrive\/c\/ProgramData\/Shadow Slots\/Ring\/ssh\/known_hosts"$/m);
  assert.match(config, /^Port 22$/m);
  assert.equal(plan.storedProfile.target, 'backup@nas:/srv/backups/ring');
});

test('the helper\'s ssh_config is exactly the planned options, no Host block, and the real OpenSSH client reads it back so', () => {
  const plan = planRemote('ssh://backup@nas:2222/srv/b', `[nas]:2222 ssh-ed25519 ${KEY}`);
  const config = staged(plan, 'ssh/ssh_config').toString();
  const keys = config.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.slice(0, l.indexOf(' ')));
  assert.deepEqual(keys, ['UserKnownHostsFile', 'GlobalKnownHostsFile', 'IdentityFile', ...HELPER_SSH_FIXED.slice(1).map(([k]) => k), 'HostName', 'Port', 'User']);
  assert.doesNotMatch(config, /^\s*(Host|Match|Include)\b/im);
  const read = sshReads(config, 'nas');
  assert.equal(read.get('userknownhostsfile'), '/c/ProgramData/Shadow Slots/src/ssh/known_hosts');
  assert.equal(read.get('globalknownhostsfile'), '/dev/null');
  assert.equal(read.get('identityfile'), '/c/ProgramData/Shadow Slots/src/ssh/id_ed25519');
  for (const [k, v] of [['hostname', 'nas'], ['port', '2222'], ['user', 'backup'], ['identitiesonly', 'yes'], ['identityagent', 'none'], ['batchmode', 'yes'],
    ['stricthostkeychecking', 'true'], ['updatehostkeys', 'false'], ['controlmaster', 'false'], ['permitlocalcommand', 'no'], ['forwardagent', 'no'], ['clearallforwardings', 'yes']]) {
    assert.equal(read.get(k!), v, k);
  }
  // "none" is no proxy at all: ssh -G prints no proxycommand/proxyjump line.
  assert.equal(read.get('proxycommand'), undefined);
  assert.equal(read.get('proxyjump'), undefined);
});

test('hostile install paths round-trip through the ssh_config quoting, as the real ssh reads them; what ssh_config cannot carry is refused', () => {
  const target = parseRemoteTarget('backup@nas:/srv/b')!;
  const names = [...HOSTILE_WINDOWS_NAMES, 'x=y', 'hash #1', 'tab-less 50%', '%h %u %%'];
  for (const name of names) {
    if (name.includes('${')) {
      assert.throws(() => helperSshConfig({ knownHosts: `/c/${name}/k`, identity: '/c/i', target }), /environment variable/);
      continue;
    }
    const knownHosts = `/c/ProgramData/${name}/ssh/known_hosts`;
    const identity = `/c/ProgramData/${name}/ssh/id_ed25519`;
    const read = sshReads(helperSshConfig({ knownHosts, identity, target }), 'nas');
    assert.equal(read.get('userknownhostsfile'), knownHosts, name);
    // ssh -G prints IdentityFile before it expands tokens, so still with the doubled %.
    assert.equal(read.get('identityfile'), identity.replace(/%/g, '%%'), name);
    assert.equal(read.get('hostname'), 'nas', name);
  }
  for (const [value, why] of [['a"b', /double quote/], ['a\nb', /line break/], ['a\rb', /line break/], ['a\u0001b', /control character/], ['C:\\x', /backslash/],
    ['/c/${HOME}/x', /environment variable/], ['-oProxyCommand=x', /starts with "-"/], ['', /empty/]] as const) {
    assert.throws(() => sshConfigWord(value, 'known_hosts path', true), (e: ShadowSlotsError) => e.code === 'invalid-input' && why.test(e.message) && /refuses it/.test(e.message), JSON.stringify(value));
  }
  // An IPv6 zone's % is a literal in HostName (%% per ssh_config(5) TOKENS).
  assert.equal(sshConfigWord('fe80::1%eth0', 'host', true), 'fe80::1%%eth0');
  assert.throws(() => helperSshConfig({ knownHosts: '/c/k', identity: '/c/i', target: parseRemoteTarget('nas:/srv/b')! }), /needs the server account/);
});

test('rsync -e: the plan\'s string splits back into the copied ssh and its arguments, by rsync\'s documented rule and by the real rsync', (t) => {
  const plan = planRemote('ssh://backup@nas:2222/srv/b', `[nas]:2222 ssh-ed25519 ${KEY}`, { programData: "C:\\Data\\it's R&D 50% $(x); Ü" }, { name: 'My Ring' });
  const ssh = plan.storedProfile.ssh!;
  const words = [`/c/Data/it's R&D 50% $(x); Ü/Shadow Slots/My Ring/rsync/usr/bin/ssh.exe`, '-F', `/c/Data/it's R&D 50% $(x); Ü/Shadow Slots/My Ring/ssh/ssh_config`, '-T'];
  assert.deepEqual(splitRsyncShell(ssh.rsyncTransport[1]!), words);
  assert.deepEqual(ssh.session.slice(0, 3), words.slice(1));
  assert.deepEqual(splitRsyncShell(`'a''b' "c""d" e`), ["a'b", 'c"d', 'e'], 'the manual\'s doubled quotes');
  assert.deepEqual(splitRsyncShell(['', `both ' and "`, "''", 'plain'].map(rsyncShellWord).join(' ')), ['', `both ' and "`, "''", 'plain']);
  assert.throws(() => rsyncShellWord('a\tb'), /control character/);
  assert.doesNotMatch(ssh.rsyncTransport[1]!, /"/, 'no double quote reaches the helper\'s Windows command line');

  // The real rsync, given such a string, starts exactly that program with exactly those arguments.
  const dir = mkdtempSync(join(tmpdir(), "shadow-slots-e it's R&D 50% $(x); "));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fake = join(dir, 'fake ssh');
  writeFileSync(fake, '#!/bin/sh\nprintf \'%s\\0\' "$@" > "$SHADOW_SLOTS_ARGV"\nexit 1\n');
  chmodSync(fake, 0o755);
  const config = join(dir, 'ssh', 'ssh_config');
  mkdirSync(join(dir, 'ssh'));
  const shell = [fake, '-F', config, '-T'].map(rsyncShellWord).join(' ');
  const out = join(dir, 'argv');
  const r = spawnSync('rsync', ['-e', shell, '-s', '--', __filename, 'nas:/srv/b/'], { encoding: 'utf8', env: { ...process.env, SHADOW_SLOTS_ARGV: out } });
  assert.notEqual(r.status, 0);
  const argv = readFileSync(out, 'utf8').split('\0');
  assert.deepEqual(argv.slice(0, 3), ['-F', config, '-T']);
  assert.equal(argv[3], 'nas');
  assert.deepEqual(splitRsyncShell(shell), [fake, '-F', config, '-T']);
});

test('the host key: one ssh-keyscan line for this server, a valid key of its type; anything else is refused with what to run', () => {
  const target = parseRemoteTarget('ssh://backup@nas:2222/srv/b')!;
  assert.deepEqual(acceptHostKey(`[nas]:2222 ssh-ed25519 ${KEY}\n`, target), { line: `[nas]:2222 ssh-ed25519 ${KEY}\n`, fingerprint: FINGERPRINT });
  assert.equal(acceptHostKey(`nas ssh-ed25519 ${KEY}`, parseRemoteTarget('backup@nas:/srv/b')!).fingerprint, FINGERPRINT);
  const refused: Array<[string, RegExp]> = [
    [`[nas]:2222 ssh-ed25519 ${KEY}\n[nas]:2222 ssh-rsa ${KEY}`, /more than one line/],
    [`nas ssh-ed25519 ${KEY}`, /for "nas", not for \[nas\]:2222/],
    [`[evil]:2222 ssh-ed25519 ${KEY}`, /not for \[nas\]:2222/],
    [`|1|abc=|def= ssh-ed25519 ${KEY}`, /not for/],
    [`[nas]:2222 ssh-ed25519 ${KEY} comment`, /not "host keytype key"/],
    [`[nas]:2222 ssh-dss ${KEY}`, /not one the helper accepts/],
    [`[nas]:2222 ssh-rsa ${KEY}`, /not a valid ssh-rsa key/],
    ['[nas]:2222 ssh-ed25519 AAAA$(x)', /not a valid ssh-ed25519 key/],
    ['[nas]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5', /not a valid ssh-ed25519 key/],
    ['', /not "host keytype key"/],
  ];
  for (const [line, why] of refused) {
    assert.throws(() => acceptHostKey(line, target), (e: ShadowSlotsError) => e.code === 'invalid-input' && why.test(e.message) && /ssh-keyscan -p 2222 nas/.test(e.hint ?? ''), line);
  }
});

test('refusals for a ring on a server: no accepted host key, no ssh beside rsync (names the package), no account, a double quote; cow stays refused', () => {
  const key = `[nas]:2222 ssh-ed25519 ${KEY}`;
  assert.throws(() => planRemote('ssh://backup@nas:2222/srv/b', undefined), (e: ShadowSlotsError) => /needs it accepted first/.test(e.message) && /--host-key/.test(e.hint ?? ''));
  const noSsh = { rsync: { path: 'C:\\msys64\\usr\\bin\\rsync.exe', flavor: 'msys2' as const, files: fakeMsys2Runtime() } };
  assert.throws(() => planRemote('ssh://backup@nas:2222/srv/b', key, noSsh), (e: ShadowSlotsError) => /ssh\.exe and ssh-keygen\.exe are not beside rsync\.exe/.test(e.message) && /pacman -S openssh/.test(e.hint ?? '') && /never uses Windows' own OpenSSH or one found on PATH/.test(e.hint ?? ''));
  assert.throws(() => planRemote('nas:/srv/b', `nas ssh-ed25519 ${KEY}`), /needs the server account/);
  assert.throws(() => planRemote('ssh://backup@nas:2222/srv/a"b', key), /double quote/);
  assert.throws(() => planRemote('ssh://backup@nas:2222/srv/b', key, {}, { targetMode: 'cow' }), /copy-on-write slots need a btrfs or ZFS target/);
  // Hostile folder names on the server are data: they reach rsync as one argument (-s keeps them from the server's shell).
  const hostile = "/srv/My Project/it's R&D 100% $(whoami) `id`;x\\y Ünïcødé 😀";
  const p = planRemote(`ssh://backup@nas:2222${hostile}`, key).storedProfile;
  assert.equal(p.rsync.incomingPrefix, `nas:${hostile}/.shadow-slots/incoming/`);
  assert.equal(p.ssh!.path, hostile);
  assert.doesNotMatch(staged(planRemote(`ssh://backup@nas:2222${hostile}`, key), 'ssh/ssh_config').toString(), /whoami/);
  // IPv6: rsync names it in brackets; known_hosts as ssh-keyscan prints it.
  const v6 = planRemote('ssh://backup@[2001:db8::7]:2222/srv/b', `[2001:db8::7]:2222 ssh-ed25519 ${KEY}`).storedProfile;
  assert.equal(v6.rsync.incomingPrefix, '[2001:db8::7]:/srv/b/.shadow-slots/incoming/');
  assert.deepEqual(v6.ssh!.session.slice(-2), ['2001:db8::7', 'exec sh']);
  validateHelperProfile(JSON.parse(JSON.stringify(v6)));
});

test('the stored profile\'s ssh settings are checked like the rest: another ssh.exe, config or server is refused', () => {
  const p = planRemote('ssh://backup@nas:2222/srv/b', `[nas]:2222 ssh-ed25519 ${KEY}`).storedProfile;
  const changed = (f: (q: { target: string; ssh: Record<string, unknown>; rsync: Record<string, unknown> }) => void): unknown => { const q = JSON.parse(JSON.stringify(p)) as Parameters<typeof f>[0]; f(q); return q; };
  assert.throws(() => validateHelperProfile(changed((q) => { q.ssh.exe = 'C:\\msys64\\usr\\bin\\ssh.exe'; })), /ssh\.exe is not the installed copy/);
  assert.throws(() => validateHelperProfile(changed((q) => { q.ssh.config = 'C:\\Users\\alice\\.ssh\\config'; })), /ssh\.config/);
  assert.throws(() => validateHelperProfile(changed((q) => { q.ssh.host = 'evil'; })), /session|target/);
  assert.throws(() => validateHelperProfile(changed((q) => { q.target = 'backup@evil:/srv/b'; })), /target is not the server/);
  assert.throws(() => validateHelperProfile(changed((q) => { q.ssh.rsyncTransport = ['-e', 'sh -c x', '-s', '-x']; })), /rsyncTransport/);
  assert.throws(() => validateHelperProfile(changed((q) => { q.rsync.incomingPrefix = '/srv/b/.shadow-slots/incoming/'; })), /incomingPrefix/);
  assert.throws(() => validateHelperProfile(changed((q) => { q.ssh.files = [{ name: 'ssh/ssh_config', sha256: '0'.repeat(64) }]; })), /ssh\.files/);
});

test('review H1/M5: one tampering per ssh field is refused, as Assert-ServerProfile refuses it: -F and -e are the install folder\'s exactly', () => {
  const p = planRemote('ssh://backup@nas:2222/srv/b', `[nas]:2222 ssh-ed25519 ${KEY}`).storedProfile;
  validateHelperProfile(JSON.parse(JSON.stringify(p)));
  const changed = (f: (q: { installDir: string; ssh: Record<string, unknown> & { session: string[]; rsyncTransport: string[] }; rsync: Record<string, unknown> }) => void): unknown => { const q = JSON.parse(JSON.stringify(p)) as Parameters<typeof f>[0]; f(q); return q; };
  const cases: Array<[string, Parameters<typeof changed>[0], RegExp]> = [
    // A config the user wrote, whose name ends like the helper's (the old check accepted it).
    ['-F elsewhere', (q) => { q.ssh.session[1] = '/c/Users/alice/ssh/ssh_config'; }, /ssh\.session/],
    ['-F in another install folder', (q) => { q.ssh.session[1] = '/c/ProgramData/Shadow Slots/other/ssh/ssh_config'; }, /ssh\.session/],
    ['-e with that config', (q) => { q.ssh.rsyncTransport[1] = "'/c/ProgramData/Shadow Slots/src/rsync/usr/bin/ssh.exe' -F /c/Users/alice/ssh/ssh_config -T"; }, /rsyncTransport/],
    ['-e another ssh.exe', (q) => { q.ssh.rsyncTransport[1] = "/c/Users/alice/rsync/usr/bin/ssh.exe -F '/c/ProgramData/Shadow Slots/src/ssh/ssh_config' -T"; }, /rsyncTransport/],
    ['-e with an option more', (q) => { q.ssh.rsyncTransport[1] = `${q.ssh.rsyncTransport[1]!} -oProxyCommand=x`; }, /rsyncTransport/],
    ['a session option more', (q) => { q.ssh.session.splice(2, 0, '-oProxyCommand=x'); }, /ssh\.session/],
    ['another remote command', (q) => { q.ssh.session[5] = 'exec sh -i'; }, /ssh\.session/],
    ['the Cygwin spelling under MSYS2', (q) => { q.rsync['flavor'] = 'cygwin'; }, /ssh\.session|rsyncTransport/],
    ['a user ssh would read as more', (q) => { q.ssh['user'] = 'a b'; }, /ssh\.user/],
    ['a host that is an option', (q) => { q.ssh['host'] = '-oProxyCommand=x'; q.ssh.session[4] = '-oProxyCommand=x'; }, /ssh\.host/],
    ['port 0', (q) => { q.ssh['port'] = 0; }, /ssh\.port/],
    ['a path with ..', (q) => { q.ssh['path'] = '/srv/../etc'; }, /ssh\.path/],
    ['incoming on another ring', (q) => { q.rsync['incomingPrefix'] = 'nas:/srv/other/.shadow-slots/incoming/'; }, /incomingPrefix/],
    ['--link-dest elsewhere', (q) => { q.rsync['linkDest'] = '--link-dest=/etc'; }, /linkDest/],
    ['the fingerprint', (q) => { q.ssh['fingerprint'] = 'MD5:x'; }, /fingerprint/],
  ];
  for (const [what, f, refused] of cases) assert.throws(() => validateHelperProfile(changed(f)), refused, what);
});

test('review H1: helper.ps1 and install.ps1 derive ssh_config, the session and -e from the install folder and compare the installed bytes', () => {
  const helper = readFileSync(join(assets, 'helper.ps1'), 'utf8');
  const installer = readFileSync(join(assets, 'install.ps1'), 'utf8');
  const fn = (text: string, name: string) => new RegExp(`^function ${name}\\b[^\\n]*\\{( .* \\}|\\r?\\n[\\s\\S]*?^\\})$`, 'm').exec(text)?.[0];
  // install.ps1 checks with the very same functions (it may not build code from strings, so they are copies).
  for (const name of ['Test-RsyncArg', 'ConvertTo-RsyncPath', 'Format-SshConfigWord', 'Format-RsyncShellWord', 'Get-HelperSshPlan', 'Get-KnownHostsProblem', 'Assert-ServerProfile']) {
    assert.ok(fn(helper, name) !== undefined, name);
    assert.equal(fn(installer, name), fn(helper, name), `install.ps1's ${name} is helper.ps1's`);
  }
  // The fixed options and the first line are helperSshConfig's (golden pairs check the whole text).
  const plan = fn(helper, 'Get-HelperSshPlan')!;
  const fixed = [.../\$fixed = @\((.*)\)\r?\n/.exec(plan)![1]!.matchAll(/'([^']*)'/g)].map((m) => m[1]);
  assert.deepEqual(fixed, HELPER_SSH_FIXED.map(([k, v]) => `${k} ${v}`));
  assert.ok(plan.includes(`'${helperSshConfig({ knownHosts: '/k', identity: '/i', target: parseRemoteTarget('ssh://u@h/x')! }).split('\n')[0]!}'`));
  // helper.ps1: the stored argv equals what Get-HelperSshPlan makes of $Here, element by element.
  const check = fn(helper, 'Assert-ServerProfile')!;
  assert.match(check, /\$want = Get-HelperSshPlan \$Here \$r\.flavor \$s/);
  assert.match(check, /\$session\[\$i\] -ceq \$want\.session\[\$i\]/);
  assert.match(check, /\$transport\[\$i\] -ceq \$want\.rsyncTransport\[\$i\]/);
  assert.doesNotMatch(check, /EndsWith\('\/ssh\/ssh_config'\)/, 'no suffix test: the exact path');
  // Before connecting: the installed ssh_config's bytes are the generated text; known_hosts one accepted line.
  const init = fn(helper, 'Initialize-ServerRing')!;
  const connect = init.indexOf('Open-ServerSession');
  for (const step of ['$want = Get-HelperSshPlan $Here $P.rsync.flavor $P.ssh', '[Convert]::ToBase64String($Utf8.GetBytes($want.config))', 'Get-KnownHostsProblem']) {
    const at = init.indexOf(step);
    assert.ok(at > 0 && at < connect, step);
  }
  // install.ps1: the same checks on the staged files, before the previous install is removed.
  const remoteCheck = installer.indexOf("Assert-ServerProfile $planned { param($what) Fail 10");
  const firstChange = installer.indexOf('\nRemove-Installed\n');
  assert.ok(remoteCheck > 0 && remoteCheck < firstChange, 'checked before anything is changed');
  for (const step of ["[Convert]::ToBase64String((& $readStaged 'ssh/ssh_config')) -cne [Convert]::ToBase64String($Utf8.GetBytes($wantSsh.config))", 'Get-KnownHostsProblem ($Utf8.GetString((& $readStaged \'ssh/known_hosts\'))) $planned.ssh', '$Here = $M.installDir']) {
    const at = installer.indexOf(step);
    assert.ok(at > 0 && at < firstChange, step);
  }
});

test('the runtime: ssh.exe and ssh-keygen.exe are collected from rsync\'s folder with their DLLs; missing, the message names the package', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shadow-slots-runtime-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const f of fakeMsys2SshRuntime()) writeFileSync(join(dir, f.name === 'ssh.exe' ? 'Ssh.exe' : f.name), f.bytes);
  writeFileSync(join(dir, 'unrelated.dll'), buildPe({ imports: [] }));
  const plain = await collectRsyncRuntime(join(dir, 'rsync.exe'));
  assert.deepEqual(plain.map((f) => f.name), ['rsync.exe', 'msys-2.0.dll', 'msys-iconv-2.dll']);
  const withSsh = await collectRsyncRuntime(join(dir, 'rsync.exe'), { ssh: true });
  assert.deepEqual(withSsh.map((f) => f.name), ['rsync.exe', 'ssh.exe', 'ssh-keygen.exe', 'msys-2.0.dll', 'msys-iconv-2.dll', 'msys-crypto-3.dll', 'msys-z.dll']);
  rmSync(join(dir, 'ssh-keygen.exe'));
  await assert.rejects(collectRsyncRuntime(join(dir, 'rsync.exe'), { ssh: true }), (e: ShadowSlotsError) => e.code === 'preflight' && /ssh-keygen\.exe is not beside rsync\.exe/.test(e.message) && /pacman -S openssh/.test(e.hint ?? ''));
});

test('install.ps1 makes the key with the arguments the planner lists, in the admin-only ssh folder, before registering; helper.ps1 checks the ssh section and its files before connecting', () => {
  const installer = readFileSync(join(assets, 'install.ps1'), 'utf8');
  const literal = /function Get-KeygenArguments\(\[string\]\$Name\) \{ @\((.*)\) \}/.exec(installer)![1]!;
  const ps = [...literal.matchAll(/'([^']*)'|"([^"]*)"/g)].map((m) => (m[1] ?? m[2]!).replace('$Name', 'My Ring'));
  assert.deepEqual(ps, helperKeygenArguments('My Ring'));
  assert.match(installer, /\$leaves = @\('', 'links', 'state', 'cancel', 'tmp', 'rsync'\) \+ @\(if \(\$Remote\) \{ 'ssh' \}\)/);
  assert.match(installer, /\$fileNames = if \(\$Remote\) \{ '[^']*\|ssh\/ssh_config\|ssh\/known_hosts\)\$' \}/);
  assert.ok(installer.indexOf('if ($Remote) { New-TaskKey }') < installer.indexOf('Invoke-Schtasks $Register 13'), 'the key exists before the task is registered');
  assert.match(installer, /install\.json names another ssh-keygen command than the installer runs/);
  assert.match(installer, /'public-key\.txt'/);
  const helper = readFileSync(join(assets, 'helper.ps1'), 'utf8');
  assert.match(helper, /if \(\$remote\) \{ Assert-ServerProfile \$p \$bad \}/);
  // The ssh files are hash-checked and the ssh folder checked before the session starts.
  const init = /^function Initialize-ServerRing[\s\S]*?^\}$/m.exec(helper)![0];
  const connect = init.indexOf('Open-ServerSession');
  for (const check of ["(Get-Sha256 ([IO.Path]::Combine($Here, $f.name.Replace('/', '\\')))) -ne $f.sha256", 'Test-AdminOnly $sshDir']) {
    const at = init.indexOf(check);
    assert.ok(at > 0 && at < connect, check);
  }
  assert.match(init, /foreach \(\$f in @\(\$P\.ssh\.files\)\)/);
  // The session is the copied ssh with the planned argv, in rsync's clean environment.
  const open = /^function Open-ServerSession[\s\S]*?^\}$/m.exec(helper)![0];
  assert.match(open, /\$psi = New-RsyncStart @\(\$P\.ssh\.session\)\r?\n {2}\$psi\.FileName = \$P\.ssh\.exe/);
  const check = /^function Assert-ServerProfile[\s\S]*?^\}$/m.exec(helper)![0];
  assert.match(check, /\$s\.exe -ne \[IO\.Path\]::Combine\(\$Here, 'rsync\\usr\\bin\\ssh\.exe'\)/);
  assert.match(check, /\$s\.config -ne \[IO\.Path\]::Combine\(\$Here, 'ssh\\ssh_config'\)/);
});

test('review H2: a ring on a server needs rsync 3.4.0 or later, refused at plan time and again by helper.ps1 before it connects', () => {
  const line = `[nas]:2222 ssh-ed25519 ${KEY}`;
  const withVersion = (version: string | undefined) => () => planRemote('ssh://backup@nas:2222/srv/b', line, { rsync: { path: 'C:\\msys64\\usr\\bin\\rsync.exe', flavor: 'msys2', files: fakeMsys2SshRuntime(), version } });
  assert.throws(withVersion('rsync  version 3.3.0  protocol version 31'), (e: ShadowSlotsError) => /rsync 3\.3\.0/.test(e.message) && /CVE-2024-12084/.test(e.message) && /3\.4\.0 or later/.test(e.hint ?? ''));
  assert.throws(withVersion('rsync  version 3.2.7  protocol version 31'), /CVE-2024-12085/);
  assert.throws(withVersion(undefined), /version of .* is unknown/);
  assert.throws(withVersion('openrsync: protocol version 29'), /version of .* is unknown/);
  withVersion('rsync  version 3.4.0  protocol version 32')();
  withVersion('rsync  version 3.4.1  protocol version 32')();
  // A local ring is not concerned (no peer but this computer's own disk).
  planFor({ source: 'C:\\Users\\alice\\src', target: 'D:\\B' });
  const helper = readFileSync(join(assets, 'helper.ps1'), 'utf8');
  const init = /^function Initialize-ServerRing[\s\S]*?^\}$/m.exec(helper)![0];
  const check = init.indexOf('Test-VersionBelow $localRsync @(3, 4, 0)');
  assert.ok(check > 0 && check < init.indexOf('Open-ServerSession'), 'checked before connecting');
  assert.match(init, /New-RsyncStart @\('--version'\)/);
  assert.equal(HELPER_SSH_MIN_RSYNC.join('.'), '3.4.0');
});

test('review M7: while it waits for the server, helper.ps1 honours a cancel, keeps a deadline and caps the reply at 16 MB', () => {
  const helper = readFileSync(join(assets, 'helper.ps1'), 'utf8');
  const invoke = /^function Invoke-Server\([\s\S]*?^\}$/m.exec(helper)![0];
  const check = /^function Assert-ServerWait\([\s\S]*?^\}$/m.exec(helper)![0];
  assert.match(check, /\$Script:Cancel\.Length -gt 0\) \{ Stop-ServerSession; Stop-Helper 7/);
  assert.match(check, /\[DateTime\]::UtcNow -gt \$Deadline\) \{ Stop-ServerSession; Stop-Helper 1/);
  // Review 15b, finding 4: checked before every read, not only while the server is silent (a
  // server sending a byte a second never leaves the outer loop).
  const loop = /while \(\$null -eq \(\$reply = Read-RemoteReply[^\n]*\n([\s\S]*?)\n {2}\}/.exec(invoke)?.[1] ?? '';
  const lines = loop.split('\n').map((l) => l.trim());
  const read = lines.findIndex((l) => l.startsWith('$t = $Script:Session.StandardOutput.ReadAsync('));
  assert.ok(read > 0 && lines.slice(0, read).includes('Assert-ServerWait $Name $deadline'), 'checked before each ReadAsync');
  assert.equal(lines[read + 1], 'while (-not $t.Wait(1000)) { Assert-ServerWait $Name $deadline }', 'and on each second of silence');
  assert.match(invoke, /\$Script:SessionOut\.Length \+ \$t\.Result -gt \$ServerReplyMaxChars\) \{ Stop-ServerSession; Stop-Helper 1/);
  assert.ok(invoke.indexOf('-gt $ServerReplyMaxChars') < invoke.indexOf('$Script:SessionOut += '), 'checked before appending');
  assert.match(helper, /^\$ServerReplyMaxChars = 16MB$/m);
  assert.match(helper, /^\$ServerReplySeconds = \d+$/m);
  // The session is ended without an unlock script (it is mid-script); the next run finds the lock stale.
  const stop = /^function Stop-ServerSession[\s\S]*?^\}$/m.exec(helper)![0];
  assert.match(stop, /\$Script:ServerLock = \$null/);
  assert.match(stop, /\$Script:Session\.Kill\(\)/);
});

test('review 15b finding 3: a cancel is honoured by Invoke-Server only until the rotation is journaled; the deadline and the reply cap stay', () => {
  const helper = readFileSync(join(assets, 'helper.ps1'), 'utf8');
  const check = /^function Assert-ServerWait\([\s\S]*?^\}$/m.exec(helper)![0];
  assert.match(check, /if \(\$Script:Cancellable -and \$null -ne \$Script:Cancel -and \$Script:Cancel\.Length -gt 0\) \{ Stop-ServerSession; Stop-Helper 7/);
  assert.doesNotMatch(check.split('\n').find((l) => l.includes('$Deadline)')) ?? '', /Cancellable/, 'the deadline holds after the journal');
  // Cleared just before the journal write that carries this run's rotation, and set at the start.
  const copy = /^function Copy-ToServer[\s\S]*?^\}$/m.exec(helper)![0];
  const lines = copy.split('\n').map((l) => l.trim()).filter((l) => !l.startsWith('#'));
  const journal = lines.indexOf('Write-ServerJson $Srv.journal $Script:ServerJournal');
  assert.ok(journal > 0, 'the rotation is journaled in Copy-ToServer');
  assert.equal(lines[journal - 1], '$Script:Cancellable = $false');
  assert.equal(lines[journal - 2], '$Script:ServerJournal.rotation = $rotation');
  assert.equal(lines.filter((l) => l.includes('Cancellable')).length, 1);
  assert.match(helper, /^\$P = \$null;.*\$Script:Cancellable = \$true;/m);
});

test('review 15b finding 2: Invoke-Rsync stops rsync (its tree) when the session holding the server lock has ended, checked before each read and on each silent second; server rings pass --timeout', () => {
  const helper = readFileSync(join(assets, 'helper.ps1'), 'utf8');
  const may = /^function Assert-RsyncMayGo\([\s\S]*?^\}$/m.exec(helper)![0];
  assert.match(may, /\$lost = \$Remote -and \(\$null -eq \$Script:Session -or \$Script:Session\.HasExited\)/);
  assert.match(may, /if \(\$Script:Cancel\.Length -gt 0 -or \$lost\) \{ & \(\[IO\.Path\]::Combine\(\$System32, 'taskkill\.exe'\)\) \/T \/F \/PID \$Proc\.Id/);
  assert.match(may, /if \(\$lost\) \{ \$Script:ServerLock = \$null; Stop-Helper 1 "The connection holding the ring's lock was lost; rsync was stopped and nothing was rotated\./);
  const rsync = /^function Invoke-Rsync\([\s\S]*?^\}$/m.exec(helper)![0];
  const lines = rsync.split('\n').map((l) => l.trim());
  const read = lines.findIndex((l) => l.startsWith('$t = $proc.StandardOutput.ReadAsync('));
  assert.equal(lines[read - 1], 'Assert-RsyncMayGo $proc', 'before each read');
  assert.equal(lines[read + 1], 'while (-not $t.Wait(1000)) { Assert-RsyncMayGo $proc }', 'and on each second of silence');
  // The model the ssh suite runs gives the same message.
  assert.ok(SESSION_LOST_DURING_COPY.startsWith('The connection holding the ring\'s lock was lost; rsync was stopped and nothing was rotated.'));
  assert.ok(may.includes(SESSION_LOST_DURING_COPY));
  // --timeout: last before the paths, only for a server ring, the same value in both.
  const p = validateHelperProfile(JSON.parse(staged(planRemote('ssh://backup@nas:2222/srv/b', `[nas]:2222 ssh-ed25519 ${KEY}`), 'profile.json').toString()));
  const argv = helperRsyncArgv(p, 'ID', true);
  assert.equal(argv[argv.indexOf('--') - 1], `--timeout=${HELPER_SERVER_RSYNC_TIMEOUT_S}`);
  assert.ok(!helperRsyncArgv({ ...p, ssh: undefined } as typeof p, 'ID', true).some((a) => a.startsWith('--timeout=')));
  assert.match(/^function Get-RsyncArgv[\s\S]*?^\}$/m.exec(helper)![0], new RegExp(`if \\(\\$transport\\.Count -gt 0\\) \\{ \\$argv\\.Add\\('--timeout=${HELPER_SERVER_RSYNC_TIMEOUT_S}'\\) \\}`));
});
