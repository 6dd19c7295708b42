import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MessageConnection, ResponseError } from 'vscode-jsonrpc/node';
import { SlotEntryRequest, SlotFileRequest, SlotFolderRequest, type EngineErrorData } from '../../src/rpc/protocol';

/** A name with every shell-special character the slot reads must pass through literally. */
export const SLOT_READ_HOSTILE = 'a $(x) `y`; & "q" \\ ü.txt';

/** The source tree the slot-read checks expect: a hostile name in a folder, bytes, a symlink out. */
export async function slotReadSource(source: string): Promise<void> {
  await mkdir(join(source, 'sub dir'), { recursive: true });
  await writeFile(join(source, 'sub dir', SLOT_READ_HOSTILE), 'hostile name');
  await writeFile(join(source, 'top.bin'), Buffer.from([0, 1, 2, 255]));
  await symlink('/etc', join(source, 'escape'));
}

async function rejection(p: Promise<unknown>): Promise<EngineErrorData & { message: string }> {
  try { await p; } catch (error) { return { ...(error as ResponseError<EngineErrorData>).data!, message: (error as Error).message }; }
  assert.fail('expected the request to fail');
}

/**
 * Slot folders, entries and files of slot 0 of `target` (made from slotReadSource) read through
 * the engine process: names literal, bytes exact, links and '..' never followed.
 */
export async function assertSlotReads(c: MessageConnection, target: string): Promise<void> {
  const root = await c.sendRequest(SlotFolderRequest.type, { target, slot: 0, path: '' });
  assert.deepEqual(root.map((e) => [e.name, e.kind]), [['sub dir', 'folder'], ['escape', 'symlink'], ['top.bin', 'file']]);
  const sub = await c.sendRequest(SlotFolderRequest.type, { target, slot: 0, path: 'sub dir' });
  assert.deepEqual(sub.map((e) => e.name), [SLOT_READ_HOSTILE]);
  const file = await c.sendRequest(SlotFileRequest.type, { target, slot: 0, path: `sub dir/${SLOT_READ_HOSTILE}` });
  assert.equal(Buffer.from(file.base64, 'base64').toString(), 'hostile name');
  const bytes = await c.sendRequest(SlotFileRequest.type, { target, slot: 0, path: 'top.bin' });
  assert.deepEqual([...Buffer.from(bytes.base64, 'base64')], [0, 1, 2, 255]);
  const id = await c.sendRequest(SlotEntryRequest.type, { target, slot: 0, path: 'top.bin' });
  assert.equal(id?.size, 4);
  assert.equal(id?.isFile, true);
  assert.equal(await c.sendRequest(SlotEntryRequest.type, { target, slot: 0, path: 'gone.txt' }), null);

  const through = await rejection(c.sendRequest(SlotFolderRequest.type, { target, slot: 0, path: 'escape/ssh' }));
  assert.equal(through.code, 'invalid-input');
  assert.match(through.message, /symbolic link inside slot 0/);
  const linkFile = await rejection(c.sendRequest(SlotFileRequest.type, { target, slot: 0, path: 'escape' }));
  assert.match(linkFile.message, /not a file/);
  const up = await rejection(c.sendRequest(SlotFileRequest.type, { target, slot: 0, path: '../../../etc/passwd' }));
  assert.equal(up.code, 'invalid-input');
  const noSlot = await rejection(c.sendRequest(SlotFolderRequest.type, { target, slot: 7, path: '' }));
  assert.equal(noSlot.code, 'not-found');
}
