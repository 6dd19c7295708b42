import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CancellationTokenSource, createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { slowCopyFixture, tempDir } from '../../helpers/tmp';
import { repoRoot } from '../../helpers/cli';
import { PreviewBackupRequest, BackupProgressNotification, BackupRequest, ListRequest, LogNotification, RestoreRequest, RingChangedNotification, VerifyRequest, type EngineErrorData } from '../../../src/rpc/protocol';

/** The engine exactly as the extension starts it: `node dist/engine.js --stdio`, LSP framing. */
async function startEngine(t: import('node:test').TestContext, initializationOptions: unknown = undefined) {
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'engine.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  child.stdin.on('error', () => undefined); // the engine may already have exited at teardown
  connection.onError(() => undefined);
  connection.listen();
  t.after(async () => {
    const exited = new Promise<void>((resolve) => { if (child.exitCode !== null) resolve(); else child.once('exit', () => resolve()); });
    try {
      await connection.sendRequest('shutdown');
      await connection.sendNotification('exit');
    } catch { /* already gone */ }
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    connection.dispose();
  });
  const init = await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions }) as { capabilities: Record<string, unknown> };
  assert.ok(init.capabilities['hoverProvider'] && init.capabilities['codeLensProvider'], 'the filter-file language features are announced');
  connection.sendNotification('initialized', {});
  return connection;
}

test('the engine process: backup with work-done progress, list, verify, restore, ring-changed, logs', async (t) => {
  const dir = await tempDir(t);
  const source = join(dir, 'src');
  const target = join(dir, 'ring');
  await mkdir(source);
  await mkdir(target);
  await writeFile(join(source, 'file.txt'), 'original');
  const engine = await startEngine(t);
  const progress: Array<{ kind: string; message?: string; percentage?: number }> = [];
  const phases: string[] = [];
  const logs: string[] = [];
  const changed: string[] = [];
  engine.onProgress({ method: '$/progress' } as never, 'token-1', (value: never) => progress.push(value));
  engine.onNotification('$/progress', (p: { token: string; value: { kind: string } }) => { if (p.token === 'token-1') progress.push(p.value); });
  engine.onNotification(BackupProgressNotification.type, (e) => phases.push(e.phase));
  engine.onNotification(LogNotification.type, (l) => logs.push(l.message));
  engine.onNotification(RingChangedNotification.type, (c) => changed.push(c.target));
  engine.onRequest('window/workDoneProgress/create', () => null);

  const result = await engine.sendRequest(BackupRequest.type, { profile: { source, target, snapshot: 'none' }, workDoneToken: 'token-1' });
  assert.equal(result.outcome, 'complete');
  assert.equal(result.slot.number, 0);
  assert.ok(progress.some((p) => p.kind === 'begin') && progress.some((p) => p.kind === 'end'), JSON.stringify(progress));
  assert.ok(phases.includes('copy') && phases.includes('rotate') && phases.at(-1) === 'done', phases.join(','));
  assert.ok(logs.some((l) => /^> \S*rsync .* \[\d+ms\] exit 0$/.test(l)), 'every command line is logged with duration and exit code');
  assert.ok(changed.includes(target));

  const listing = await engine.sendRequest(ListRequest.type, { target });
  assert.deepEqual(listing.slots.map((s) => [s.number, s.state]), [[0, 'complete']]);
  const verified = await engine.sendRequest(VerifyRequest.type, { target, slot: 0 });
  assert.equal(verified.ok, true);
  await writeFile(join(source, 'file.txt'), 'edited');
  const restored = await engine.sendRequest(RestoreRequest.type, { target, slot: 0, path: 'file.txt', to: source, overwrite: true, keepAsideDir: join(dir, 'aside') });
  assert.equal(await readFile(join(source, 'file.txt'), 'utf8'), 'original');
  assert.equal(await readFile(restored.keptAside!, 'utf8'), 'edited');

  await assert.rejects(engine.sendRequest(BackupRequest.type, { profile: { source, target: 'relative/path' } }), (error: ResponseError<EngineErrorData>) => {
    assert.equal(error.data?.code, 'invalid-input');
    assert.match(error.message, /not absolute/);
    return true;
  });
});

test('cancelling the backup request stops the copy and leaves the ring unchanged', async (t) => {
  const { source, target } = await slowCopyFixture(t);
  const engine = await startEngine(t);
  const cancel = new CancellationTokenSource();
  engine.onNotification(BackupProgressNotification.type, (e) => { if (e.phase === 'copy' && e.percent !== null) cancel.cancel(); });
  await assert.rejects(
    engine.sendRequest(BackupRequest.type, { profile: { source, target, snapshot: 'none', rsyncArgs: ['--bwlimit=3000'] } }, cancel.token),
    (error: ResponseError<EngineErrorData>) => { assert.equal(error.data?.code, 'cancelled', error.message); return true; },
  );
  const listing = await engine.sendRequest(ListRequest.type, { target });
  assert.equal(listing.slots.filter((s) => s.state === 'complete').length, 0);
  assert.equal(listing.busy, false);
});

test('the same engine serves the filter file: diagnostics against the profile source, and Preview Backup', async (t) => {
  const dir = await tempDir(t);
  const source = join(dir, 'src');
  const target = join(dir, 'ring');
  await mkdir(join(source, 'node_modules', 'x'), { recursive: true });
  await mkdir(target);
  await writeFile(join(source, 'node_modules', 'x', 'i.js'), 'x');
  await writeFile(join(source, 'app.ts'), 'a');
  const filterFile = join(dir, '.shadowslots-filter');
  const text = '- /node_modules/\n- /does-not-exist/\n';
  await writeFile(filterFile, text);
  const profile = { source, target, snapshot: 'none', filterFile };
  const engine = await startEngine(t, { profile });
  const diagnostics = new Promise<Array<{ message: string; range: { start: { line: number } } }>>((resolve) => {
    engine.onNotification('textDocument/publishDiagnostics', (p: { diagnostics: Array<{ message: string; range: { start: { line: number } } }> }) => {
      if (p.diagnostics.some((d) => /match/i.test(d.message))) resolve(p.diagnostics);
    });
  });
  engine.sendNotification('textDocument/didOpen', { textDocument: { uri: `file://${filterFile}`, languageId: 'shadowslots-filter', version: 1, text } });
  const found = await diagnostics;
  assert.ok(found.some((d) => d.range.start.line === 1 && /match/i.test(d.message)), JSON.stringify(found));
  assert.ok(!found.some((d) => d.range.start.line === 0), 'the rule that matches node_modules is fine');
  const preview = await engine.sendRequest(PreviewBackupRequest.type, { profile });
  assert.deepEqual(preview.items.map((i) => `${i.action}:${i.path}`).filter((x) => !x.endsWith('/')), ['copy:app.ts']);
});
