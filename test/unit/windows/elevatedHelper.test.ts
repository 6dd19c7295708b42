import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateProfile } from '../../../src/core/profile';
import { ShadowSlotsError } from '../../../src/core/errors';
import { setUpElevatedHelper } from '../../../src/platform/windows/elevatedHelper';

test('Set Up Elevated Helper refuses off Windows before touching anything', { skip: process.platform === 'win32' ? 'runs in the Windows workflow' : false }, async () => {
  const { profile } = validateProfile({ source: 'C:\\src', target: 'D:\\B', snapshot: 'vss' }, 'win32');
  await assert.rejects(setUpElevatedHelper({ profile, account: 'user' }), (e: unknown) => e instanceof ShadowSlotsError && e.code === 'preflight' && /only on Windows/.test(e.message));
});
