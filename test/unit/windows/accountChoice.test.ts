// Finding 3 of issue 12: SYSTEM by default; a user account only after its warning was confirmed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACCOUNT_ITEMS, rememberedChoice, userAccountQuestion } from '../../../src/ui/windows/accountChoice';
import { SYSTEM_ACCOUNT_LIMITS, USER_ACCOUNT_WARNING } from '../../../src/platform/windows/helperPlan';

test('SYSTEM is offered first and says what it cannot reach; the user accounts say they ask to confirm', () => {
  assert.deepEqual(ACCOUNT_ITEMS.map((i) => i.id), ['system', 'user', 'user-s4u']);
  assert.match(ACCOUNT_ITEMS[0]!.label, /recommended/);
  assert.equal(ACCOUNT_ITEMS[0]!.detail, SYSTEM_ACCOUNT_LIMITS);
  assert.match(SYSTEM_ACCOUNT_LIMITS, /mapped drive letters.*network credentials/);
  for (const item of ACCOUNT_ITEMS.slice(1)) assert.match(item.detail, /administrator rights/);
  const q = userAccountQuestion('user-s4u');
  assert.ok(q.detail.startsWith(USER_ACCOUNT_WARNING));
  assert.match(q.message, /whether logged on or not/);
});

test('what was remembered: nothing or an unknown value means SYSTEM; a user account counts only with its confirmation', () => {
  assert.deepEqual(rememberedChoice(undefined, undefined), { account: 'system', userAccountAccepted: false });
  assert.deepEqual(rememberedChoice('root', true), { account: 'system', userAccountAccepted: false });
  // Set up before the warning existed: planned as SYSTEM, so the next backup offers the update.
  assert.deepEqual(rememberedChoice('user', undefined), { account: 'system', userAccountAccepted: false });
  assert.deepEqual(rememberedChoice('user-s4u', 'yes'), { account: 'system', userAccountAccepted: false });
  assert.deepEqual(rememberedChoice('user', true), { account: 'user', userAccountAccepted: true });
  assert.deepEqual(rememberedChoice('system', true), { account: 'system', userAccountAccepted: false });
});
