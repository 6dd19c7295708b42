import type { TestContext } from 'node:test';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { repoRoot } from './cli';

/** The engine as the extension starts it (`node dist/engine.js --stdio`, LSP framing), killed after the test. */
export async function engineProcess(t: TestContext, env: Record<string, string> = {}): Promise<MessageConnection> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'engine.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  child.stdin.on('error', () => undefined);
  connection.onError(() => undefined);
  connection.listen();
  t.after(() => { connection.dispose(); child.kill('SIGKILL'); });
  await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
  return connection;
}
