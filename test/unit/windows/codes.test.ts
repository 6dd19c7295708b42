import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeTaskResult, describeVssCreate, HELPER_EXIT_MESSAGES, INSTALL_EXIT_MESSAGES, TASK_RESULT_MESSAGES, VSS_CREATE_MESSAGES } from '../../../src/core/windows/codes';

const script = readFileSync(join(__dirname, '../../../src/platform/windows/assets/helper.ps1'), 'utf8');

/** Reads a `$Name = @{ key = 'text' … }` table from the helper script (PowerShell '' escapes '). */
function psTable(name: string): Map<string, string> {
  const m = new RegExp(`^\\$${name} = @\\{\\r?\\n([\\s\\S]*?)^\\}`, 'm').exec(script);
  assert.ok(m, `table $${name} not found in helper.ps1`);
  const table = new Map<string, string>();
  for (const line of m[1]!.split(/\r?\n/).filter((l) => l.trim() !== '')) {
    const e = /^\s+'?([0-9A-Fa-fx]+)'? = '((?:[^']|'')*)'$/.exec(line);
    assert.ok(e, `unparsable line in $${name}: ${line}`);
    table.set(String(Number(e[1]!)), e[2]!.replace(/''/g, "'"));
  }
  return table;
}

function tsTable(t: Readonly<Record<number, string>>): Map<string, string> {
  return new Map(Object.entries(t).map(([k, v]) => [String(Number(k)), v]));
}

test('every Win32_ShadowCopy.Create code 0–13 has a message, identical in TypeScript and helper.ps1', () => {
  for (let code = 0; code <= 13; code++) assert.ok(VSS_CREATE_MESSAGES[code]!.length > 20, `code ${code}`);
  assert.deepEqual(psTable('VssCreateMessages'), tsTable(VSS_CREATE_MESSAGES));
  assert.match(describeVssCreate(6), /vssadmin resize shadowstorage/);
  assert.match(describeVssCreate(42), /unexpected code 42/);
});

test('every LastTaskResult code of the reference has a message, identical in TypeScript and helper.ps1', () => {
  const reference = [0x41300, 0x41301, 0x41303, 0x41306, 0x41325, 0x8004131f, 0x80041324, 0x4131c];
  for (const code of reference) assert.ok(TASK_RESULT_MESSAGES[code], `0x${code.toString(16)}`);
  assert.deepEqual(psTable('TaskResultMessages'), tsTable(TASK_RESULT_MESSAGES));
  assert.deepEqual(psTable('HelperExitMessages'), tsTable(HELPER_EXIT_MESSAGES));
  // LastTaskResult arrives signed from some APIs (Int32) and unsigned from others.
  assert.equal(describeTaskResult(0x8004131f | 0), TASK_RESULT_MESSAGES[0x8004131f]);
  assert.equal(describeTaskResult(2), HELPER_EXIT_MESSAGES[2]);
  assert.match(describeTaskResult(0x800700c1), /0x800700C1/);
});

test('the helper exits only with codes it can explain', () => {
  const used = new Set([...script.matchAll(/Stop-Helper (\d+)/g)].map((m) => Number(m[1])));
  for (const m of script.matchAll(/\{ (\d) \} else \{ (\d) \}/g)) { used.add(Number(m[1])); used.add(Number(m[2])); }
  for (const code of used) assert.ok(HELPER_EXIT_MESSAGES[code], `exit ${code} has no message`);
  assert.ok(used.size >= 6);
});

test('every exit code of install.ps1 has a message, and the launcher\'s "declined" code too', () => {
  const installer = readFileSync(join(__dirname, '../../../src/platform/windows/assets/install.ps1'), 'utf8');
  const used = new Set([...installer.matchAll(/(?:Fail|Invoke-Schtasks \$\w+) (\d+)/g)].map((m) => Number(m[1])));
  assert.deepEqual([...used].sort((a, b) => a - b), [10, 11, 12, 13, 14, 15]);
  for (const code of [...used, 0, 1223]) assert.ok(INSTALL_EXIT_MESSAGES[code], `installer exit ${code}`);
  assert.match(INSTALL_EXIT_MESSAGES[1223]!, /declined; nothing was installed/);
});
