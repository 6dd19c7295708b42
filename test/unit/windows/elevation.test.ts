// Finding 6 of issue 12: the elevated command line carries the bootstrap itself and, as data, the
// paths and hashes of install.ps1 and install.json, so nothing in the (user-writable) staging
// folder can be swapped for something that then runs elevated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import { splitWindowsArgs } from '../../../src/core/windows/cmdline';
import { encodeClixmlString } from '../../../src/core/windows/psArgs';
import { ELEVATION_BOOTSTRAP, ELEVATION_LAUNCHER, elevationCommand } from '../../../src/platform/windows/elevation';
import { HOSTILE_NAMES } from './hostile';
import { HOSTILE_WINDOWS_NAMES } from './planFixtures';

/** What PowerShell's Base64ToArgsConverter does: base64 → UTF-16LE CLIXML → the ArrayList's strings. */
function decodeEncodedArguments(base64: string): string[] {
  const xml = Buffer.from(base64, 'base64').toString('utf16le');
  const doc = new XMLParser({ ignoreAttributes: false, parseTagValue: false, trimValues: false, isArray: (name) => name === 'S' }).parse(xml);
  const obj = doc.Objs.Obj;
  assert.equal(doc.Objs['@_xmlns'], 'http://schemas.microsoft.com/powershell/2004/04');
  assert.deepEqual(obj.TN.T, ['System.Collections.ArrayList', 'System.Object']);
  // XmlConvert.DecodeName: _xHHHH_ is one UTF-16 unit.
  return (obj.LST.S as unknown[]).map((s) => String(s === '' ? '' : s).replace(/_x([0-9A-Fa-f]{4})_/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))));
}

const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf16le');
const hashes = { installer: 'a'.repeat(64), manifest: 'b'.repeat(64) };

test('the elevated PowerShell gets the bootstrap as -EncodedCommand and its inputs as -EncodedArguments, for hostile staging paths', () => {
  for (const name of HOSTILE_WINDOWS_NAMES) {
    const staging = `C:\\Users\\alice_x0041_\\AppData\\Local\\Temp\\${name}\\stage`;
    const cmd = elevationCommand('C:\\Windows', staging, hashes, 'install');
    assert.equal(cmd.command, 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    assert.equal(decode(cmd.argv[5]!), ELEVATION_LAUNCHER);
    const elevated = splitWindowsArgs(cmd.env['SHADOW_SLOTS_ELEVATE_ARGS']!);
    assert.deepEqual(elevated.slice(0, 5), ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand']);
    assert.equal(decode(elevated[5]!), ELEVATION_BOOTSTRAP);
    assert.equal(elevated[6], '-EncodedArguments');
    assert.equal(elevated.length, 8, 'no file path on the elevated command line outside the encoded data');
    assert.deepEqual(decodeEncodedArguments(elevated[7]!), [`${staging}\\install.ps1`, hashes.installer, `${staging}\\install.json`, hashes.manifest, 'install']);
    // Windows' limit for a command line is 32767 characters; this stays far below it.
    assert.ok(cmd.env['SHADOW_SLOTS_ELEVATE_ARGS']!.length < 8000, `${cmd.env['SHADOW_SLOTS_ELEVATE_ARGS']!.length} characters`);
  }
  assert.throws(() => elevationCommand('C:\\Windows', 'C:\\x', { installer: 'not-a-hash', manifest: hashes.manifest }, 'install'), /SHA-256/);
});

test('CLIXML strings survive any character, including ones the deserializer would decode', () => {
  for (const value of [...HOSTILE_NAMES, '_x0041_', 'a_b', '\u0001\u001f\u007f', '<&>', 'tab\tend', '😀']) {
    const encoded = encodeClixmlString(value);
    assert.doesNotMatch(encoded, /[<>]|&(?!amp;|lt;|gt;)/);
    const back = new XMLParser({ parseTagValue: false, trimValues: false }).parse(`<S>${encoded}</S>`).S;
    assert.equal(String(back ?? '').replace(/_x([0-9A-Fa-f]{4})_/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), value, JSON.stringify(value));
  }
});

test('the bootstrap checks install.ps1 by hash before it runs anything, and runs exactly the bytes it checked', () => {
  const lines = ELEVATION_BOOTSTRAP.split('\r\n');
  const read = lines.findIndex((l) => l.includes('[IO.File]::ReadAllBytes($Installer)'));
  const check = lines.findIndex((l) => l.includes('$hash -cne $InstallerSha256'));
  const create = lines.findIndex((l) => l.includes('[ScriptBlock]::Create('));
  assert.ok(read >= 0 && read < check && check < create, 'read once, check, then create from the same bytes');
  assert.match(lines[create]!, /GetString\(\$bytes\)/);
  assert.equal(ELEVATION_BOOTSTRAP.match(/ReadAllBytes/g)!.length, 1, 'install.ps1 is read once');
  assert.match(lines[1]!, /^\$env:PSModulePath = \[IO\.Path\]::Combine\(\$PSHOME, 'Modules'\)$/);
  // No value is spliced into it: the same text whatever is installed.
  assert.doesNotMatch(ELEVATION_BOOTSTRAP, /[A-Z]:\\|[0-9a-f]{64}/);
  assert.ok([...ELEVATION_BOOTSTRAP].every((c) => c.charCodeAt(0) < 0x7f));
});

test('review M3: the launcher elevates the PowerShell GetSystemDirectory names, not one named by the environment', () => {
  const cmd = elevationCommand('C:\\Evil', 'C:\\x', hashes, 'install');
  assert.deepEqual(Object.keys(cmd.env), ['SHADOW_SLOTS_ELEVATE_ARGS']);
  assert.match(ELEVATION_LAUNCHER, /\$exe = \[IO\.Path\]::Combine\(\[Environment\]::SystemDirectory, 'WindowsPowerShell\\v1\.0\\powershell\.exe'\)/);
  assert.match(ELEVATION_LAUNCHER, /Start-Process -FilePath \$exe -ArgumentList \$env:SHADOW_SLOTS_ELEVATE_ARGS -Verb RunAs/);
  assert.doesNotMatch(ELEVATION_LAUNCHER + cmd.env['SHADOW_SLOTS_ELEVATE_ARGS']!, /Evil/);
});

