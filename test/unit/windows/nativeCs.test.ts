// The native code of the elevated scripts (src/platform/windows/assets/native.cs) compiled as
// C# 5 with Mono's mcs, and its pure checks run under Mono on the inputs that matter for issue 12:
// raw DACLs with callback and object entries (review L1), folders above rsync (H1), the planned
// read-back (H2), and names Cygwin sees differently (H3), against the TypeScript mirror.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminsOnly, expectedRules, RIGHTS, SID_ADMINISTRATORS, SID_SYSTEM, WRITE_RIGHTS_MASK } from '../../../src/core/windows/acl';
import { cygwinNameProblem } from '../../../src/core/windows/reparseExcludes';
import { securityDescriptor, type RawAce } from './securityDescriptor';
import { USER_SID } from './planFixtures';

const native = join(__dirname, '../../../src/platform/windows/assets/native.cs');
const driver = join(__dirname, 'nativeDriver.cs');
const OTHER = 'S-1-5-21-1004336348-1177238915-682003330-1002';
const AUTHENTICATED_USERS = 'S-1-5-11';
const EVERYONE = 'S-1-1-0';
const TRUSTED = [SID_ADMINISTRATORS, SID_SYSTEM, 'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464'].join(',');
const REPLACE_RIGHTS = 0x10000 | 0x40000 | 0x80000 | 0x40 | 0x40000000 | 0x10000000;
const full = (sid: string, flags = 3): RawAce => ({ type: 0, flags, mask: RIGHTS.full, sid });
const admins = [full(SID_SYSTEM), full(SID_ADMINISTRATORS)];

/** mcs is a Debian package (mono-mcs) that .ci/run installs; without it only a developer machine may skip. */
function mcsOrSkip(t: { skip: (why: string) => void }): boolean {
  if (spawnSync('mcs', ['--version']).status === 0 && spawnSync('mono', ['--version']).status === 0) return true;
  // .ci/run installs mono-mcs; the Windows workflow (also CI) compiles native.cs with Add-Type instead.
  assert.ok(!process.env['CI'] || process.platform === 'win32', 'CI must have mcs and mono (apt-get install mono-mcs): the native code of the elevated scripts is checked only here and on Windows');
  t.skip('mcs/mono (Debian package mono-mcs) is not installed');
  return false;
}

function compile(work: string, sources: string[], target: 'exe' | 'library'): string {
  const out = join(work, target === 'exe' ? 'driver.exe' : 'native.dll');
  const r = spawnSync('mcs', ['-langversion:5', `-target:${target}`, `-out:${out}`, ...sources], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /warning/i);
  return out;
}

function ask(exe: string, requests: string[]): string[] {
  const r = spawnSync('mono', [exe], { input: requests.join('\n') + '\n', encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trimEnd().split('\n');
}

test('native.cs compiles as C# 5 (what Add-Type on .NET Framework accepts), without warnings', (t) => {
  if (!mcsOrSkip(t)) return;
  const work = mkdtempSync(join(tmpdir(), 'ss-native-'));
  try { compile(work, [native], 'library'); } finally { rmSync(work, { recursive: true, force: true }); }
});

test('raw DACL checks: callback, object and inherited entries are refused or ignored as they should, whatever .NET would list', (t) => {
  if (!mcsOrSkip(t)) return;
  const work = mkdtempSync(join(tmpdir(), 'ss-native-'));
  try {
    const exe = compile(work, [native, driver], 'exe');
    const acl = (sd: Buffer, mask: number, appliesOnly: boolean) => `acl ${sd.toString('hex')} ${mask.toString(16)} ${appliesOnly ? 1 : 0} ${TRUSTED}`;
    const cases: Array<[string, string, RegExp]> = [
      ['admins only', acl(securityDescriptor({ owner: SID_ADMINISTRATORS, protect: true, dacl: admins }), WRITE_RIGHTS_MASK, false), /^ok$/],
      ['a user may modify', acl(securityDescriptor({ owner: SID_ADMINISTRATORS, dacl: [...admins, { type: 0, flags: 3, mask: 0x1301bf, sid: USER_SID }] }), WRITE_RIGHTS_MASK, false), new RegExp(`${USER_SID} may change it`)],
      // The review's L1: an allow entry with a condition, invisible to GetAccessRules, honoured by NTFS.
      ['conditional allow for Everyone', acl(securityDescriptor({ owner: SID_ADMINISTRATORS, dacl: [...admins, { type: 9, flags: 3, mask: RIGHTS.full, sid: EVERYONE }] }), WRITE_RIGHTS_MASK, false), /kind the helper does not check \(AccessAllowedCallback \(conditional\)\)/],
      ['object entry', acl(securityDescriptor({ owner: SID_ADMINISTRATORS, dacl: [...admins, { type: 5, flags: 0, mask: 0x2, sid: EVERYONE }] }), WRITE_RIGHTS_MASK, false), /kind the helper does not check/],
      ['a deny entry is fine', acl(securityDescriptor({ owner: SID_ADMINISTRATORS, dacl: [{ type: 1, flags: 3, mask: RIGHTS.full, sid: USER_SID }, ...admins] }), WRITE_RIGHTS_MASK, false), /^ok$/],
      ['owned by a user', acl(securityDescriptor({ owner: USER_SID, dacl: admins }), WRITE_RIGHTS_MASK, false), new RegExp(`owned by ${USER_SID}`)],
      ['no DACL at all', acl(securityDescriptor({ owner: SID_ADMINISTRATORS, dacl: null }), WRITE_RIGHTS_MASK, false), /no access list/],
      ['inherit-only write, counted for an install folder', acl(securityDescriptor({ owner: SID_ADMINISTRATORS, dacl: [...admins, { type: 0, flags: 0xb, mask: 0x1301bf, sid: AUTHENTICATED_USERS }] }), WRITE_RIGHTS_MASK, false), /S-1-5-11 may change it/],
      ['inherit-only write, ignored where only the object matters', acl(securityDescriptor({ owner: SID_ADMINISTRATORS, dacl: [...admins, { type: 0, flags: 0xb, mask: 0x1301bf, sid: AUTHENTICATED_USERS }] }), WRITE_RIGHTS_MASK, true), /^ok$/],
      // C:\ itself: Authenticated Users may add folders (AD, this folder only): harmless above rsync's folder, not in it.
      ['volume root above rsync', acl(securityDescriptor({ owner: 'S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464', dacl: [...admins, { type: 0, flags: 0, mask: 0x4, sid: AUTHENTICATED_USERS }, { type: 0, flags: 0xb, mask: 0x1301bf, sid: AUTHENTICATED_USERS }] }), REPLACE_RIGHTS, true), /^ok$/],
      ['rsync\'s folder that users may add files to', acl(securityDescriptor({ owner: SID_ADMINISTRATORS, dacl: [...admins, { type: 0, flags: 0, mask: 0x4, sid: AUTHENTICATED_USERS }] }), WRITE_RIGHTS_MASK, true), /S-1-5-11 may change it/],
      // C:\msys64 by default (CVE-2022-37172): inherited Modify for Authenticated Users.
      ['MSYS2 folder with inherited Modify', acl(securityDescriptor({ owner: SID_ADMINISTRATORS, dacl: [...admins.map((a) => ({ ...a, flags: 0x13 })), { type: 0, flags: 0x13, mask: 0x1301bf, sid: AUTHENTICATED_USERS }] }), REPLACE_RIGHTS, true), /S-1-5-11 may change it/],
    ];
    const answers = ask(exe, cases.map((c) => c[1]));
    cases.forEach(([name, , want], i) => assert.match(answers[i]!, want, `${name}: ${answers[i]}`));
  } finally { rmSync(work, { recursive: true, force: true }); }
});

test('the installer\'s read-back compares owner, protection and every entry with the plan', (t) => {
  if (!mcsOrSkip(t)) return;
  const work = mkdtempSync(join(tmpdir(), 'ss-native-'));
  try {
    const exe = compile(work, [native, driver], 'exe');
    const spec = { owner: SID_ADMINISTRATORS as typeof SID_ADMINISTRATORS, aces: [...adminsOnly(), { sid: USER_SID, rights: RIGHTS.cancelAppend, scope: 'files-below' as const }] };
    const planned = expectedRules(spec).join(';');
    const asPlanned: RawAce[] = [full(SID_SYSTEM), full(SID_ADMINISTRATORS), { type: 0, flags: 9, mask: RIGHTS.cancelAppend, sid: USER_SID }];
    const req = (sd: Buffer) => `planned ${sd.toString('hex')} ${SID_ADMINISTRATORS} ${planned}`;
    const answers = ask(exe, [
      `rules ${securityDescriptor({ owner: SID_ADMINISTRATORS, protect: true, dacl: asPlanned }).toString('hex')}`,
      req(securityDescriptor({ owner: SID_ADMINISTRATORS, protect: true, dacl: asPlanned })),
      req(securityDescriptor({ owner: SID_ADMINISTRATORS, protect: false, dacl: asPlanned })),
      req(securityDescriptor({ owner: USER_SID, protect: true, dacl: asPlanned })),
      req(securityDescriptor({ owner: SID_ADMINISTRATORS, protect: true, dacl: [...asPlanned, { type: 9, flags: 3, mask: RIGHTS.full, sid: OTHER }] })),
      req(securityDescriptor({ owner: SID_ADMINISTRATORS, protect: true, dacl: [...asPlanned, { type: 0, flags: 0x13, mask: RIGHTS.read, sid: OTHER }] })),
    ]);
    assert.equal(answers[0], planned, 'the C# rules are the TypeScript expectedRules');
    assert.equal(answers[1], 'ok');
    assert.match(answers[2]!, /inherits from the folder above/);
    assert.match(answers[3]!, /owner is/);
    assert.match(answers[4]!, /unexpected: AccessAllowedCallback \(conditional\)/);
    assert.match(answers[5]!, /unexpected: AccessAllowed inherited/);
  } finally { rmSync(work, { recursive: true, force: true }); }
});

/** Names for the round-trip check: plain, hostile and the ones Cygwin converts. */
export const CYGWIN_NAME_CASES = [
  'plain', 'Application Data', 'a\\b\\c', 'odd [name]', 'Ünïcødé 日本語 😀', "it's", 'R&D & 100%',
  'x\uf02a', 'x\uf000', 'x\uf0ff', 'x\uefff', 'x\uf100', 'dir\\x\uf03a\\y', 'lone \ud800 high', 'lone \udc00 low', 'end\ud83d',
  'trailing.', 'trailing ', 'dir.\\x', 'tab\there', 'a:b', 'q?', 'star*',
];

test('CygwinNames.Problem (C#) and cygwinNameProblem (TypeScript) refuse exactly the same names', (t) => {
  if (!mcsOrSkip(t)) return;
  const work = mkdtempSync(join(tmpdir(), 'ss-native-'));
  try {
    const exe = compile(work, [native, driver], 'exe');
    const hex = (s: string) => Buffer.from([...Array(s.length).keys()].flatMap((i) => [s.charCodeAt(i) & 0xff, s.charCodeAt(i) >> 8])).toString('hex');
    const answers = ask(exe, CYGWIN_NAME_CASES.map((n) => `name ${hex(n)}`));
    CYGWIN_NAME_CASES.forEach((name, i) => assert.equal(answers[i], cygwinNameProblem(name) ?? 'ok', JSON.stringify(name)));
    // And the cases that matter are refused, the ordinary ones are not.
    for (const bad of ['x\uf02a', 'x\uf000', 'x\uf0ff', 'lone \ud800 high', 'lone \udc00 low', 'trailing.']) assert.notEqual(cygwinNameProblem(bad), undefined, bad);
    for (const good of ['plain', 'Application Data', 'Ünïcødé 日本語 😀', 'x\uefff', 'x\uf100']) assert.equal(cygwinNameProblem(good), undefined, good);
  } finally { rmSync(work, { recursive: true, force: true }); }
});

test('review H3: the kill-on-close job\'s limits have the x64 layout SetInformationJobObject reads (144 bytes) and only JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE', (t) => {
  if (!mcsOrSkip(t)) return;
  const work = mkdtempSync(join(tmpdir(), 'ss-native-'));
  try {
    const exe = compile(work, [native, driver], 'exe');
    // JOBOBJECT_BASIC_LIMIT_INFORMATION 64 + IO_COUNTERS 48 + four SIZE_T 32 (x64, winnt.h).
    assert.deepEqual(ask(exe, ['job']), ['144 2000']);
  } finally { rmSync(work, { recursive: true, force: true }); }
});

test('review H3: helper.ps1 joins its kill-on-close job right after compiling native.cs, before it starts any process', () => {
  const helper = readFileSync(join(__dirname, '../../../src/platform/windows/assets/helper.ps1'), 'utf8');
  const body = helper.slice(helper.indexOf('\n$exit = 0\n'));
  const join_ = body.indexOf('[ShadowSlots.ProcessJob]::KillChildrenWithThisProcess()');
  assert.ok(join_ > body.indexOf('Add-Type -TypeDefinition'), 'after native.cs is compiled');
  for (const start of ['Initialize-ServerRing', 'Invoke-Rsync', 'New-SlotManifest', 'Copy-ToServer', 'CimCmdlets\\Invoke-CimMethod']) {
    const at = body.indexOf(start);
    assert.ok(at > join_, `${start} after the job is joined`);
  }
  // Processes are started in the helper's own functions only, all called after that point.
  const starts = [...helper.matchAll(/\[Diagnostics\.Process\]::Start/g)].map((m) => m.index!);
  assert.ok(starts.length >= 3 && starts.every((i) => i < helper.indexOf('\n$exit = 0\n')), 'only inside functions');
  const native_ = readFileSync(native, 'utf8');
  assert.doesNotMatch(native_, /BREAKAWAY/, 'no process may leave the job');
});
