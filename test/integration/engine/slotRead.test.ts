// The editor reads slots only through the engine (issue 13: the UI never assumes a local path):
// folder listings, entry identities and file contents over the engine's own protocol.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { tempDir } from '../../helpers/tmp';
import { repoRoot, runCli } from '../../helpers/cli';
import { assertSlotReads, slotReadSource } from '../../helpers/slotReads';
import { SlotSpaceRequest } from '../../../src/rpc/protocol';

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

test('slot folders, entries and files are read through the engine; links and ".." are never followed', async (t) => {
  const dir = await tempDir(t);
  const source = join(dir, 'src');
  const target = join(dir, 'ring');
  await slotReadSource(source);
  await mkdir(target);
  assert.equal((await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none'])).code, 0);

  const c = await engine(t);
  await assertSlotReads(c, target);

  const space = await c.sendRequest(SlotSpaceRequest.type, { target });
  assert.equal(space.length, 1);
  assert.equal(space[0]!.method, 'hard-link counts');
  assert.equal(space[0]!.exclusiveBytes, 4 + Buffer.byteLength('hostile name'), 'a single slot holds all its files alone');
});
