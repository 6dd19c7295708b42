// The editor reads slots only through the engine (issue 13: the UI never assumes a local path):
// folder listings, entry identities and file contents over the engine's own protocol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { tempDir } from '../../helpers/tmp';
import { repoRoot, runCli } from '../../helpers/cli';
import { SlotEntryRequest, SlotFileRequest, SlotFolderRequest, SlotSpaceRequest, type EngineErrorData } from '../../../src/rpc/protocol';

async function engine(t: import('node:test').TestContext) {
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'engine.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  child.stdin.on('error', () => undefined);
  connection.onError(() => undefined);
  connection.listen();
  t.after(() => { connection.dispose(); child.kill('SIGKILL'); });
  await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
  return connection;
}

async function rejection(p: Promise<unknown>): Promise<EngineErrorData & { message: string }> {
  try { await p; } catch (error) { return { ...(error as ResponseError<EngineErrorData>).data!, message: (error as Error).message }; }
  assert.fail('expected the request to fail');
}

test('slot folders, entries and files are read through the engine; links and ".." are never followed', async (t) => {
  const dir = await tempDir(t);
  const source = join(dir, 'src');
  const target = join(dir, 'ring');
  await mkdir(join(source, 'sub dir'), { recursive: true });
  await mkdir(target);
  const hostile = 'a $(x) `y`; & "q" \\ ü.txt';
  await writeFile(join(source, 'sub dir', hostile), 'hostile name');
  await writeFile(join(source, 'top.bin'), Buffer.from([0, 1, 2, 255]));
  await symlink('/etc', join(source, 'escape'));
  assert.equal((await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none'])).code, 0);

  const c = await engine(t);
  const root = await c.sendRequest(SlotFolderRequest.type, { target, slot: 0, path: '' });
  assert.deepEqual(root.map((e) => [e.name, e.kind]), [['sub dir', 'folder'], ['escape', 'symlink'], ['top.bin', 'file']]);
  const sub = await c.sendRequest(SlotFolderRequest.type, { target, slot: 0, path: 'sub dir' });
  assert.deepEqual(sub.map((e) => e.name), [hostile]);
  const file = await c.sendRequest(SlotFileRequest.type, { target, slot: 0, path: `sub dir/${hostile}` });
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

  const space = await c.sendRequest(SlotSpaceRequest.type, { target });
  assert.equal(space.length, 1);
  assert.equal(space[0]!.method, 'hard-link counts');
  assert.equal(space[0]!.exclusiveBytes, 4 + Buffer.byteLength('hostile name'), 'a single slot holds all its files alone');
});
