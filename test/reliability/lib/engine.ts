import { spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { BackupProgressNotification } from '../../../src/rpc/protocol';
import { enginePath } from './cli';

/** Starts the extension's engine process exactly as the extension does (node dist/engine.js --stdio). */
export function startEngine(t: TestContext): { connection: MessageConnection; pid: number; phases: string[] } {
  const child = spawn(process.execPath, [enginePath, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const phases: string[] = [];
  connection.onNotification(BackupProgressNotification.type, (e) => { if (phases[phases.length - 1] !== e.phase) phases.push(e.phase); });
  connection.onNotification(() => undefined);
  connection.onRequest(() => null); // window/workDoneProgress/create and the like
  connection.listen();
  t.after(() => {
    connection.dispose();
    child.kill('SIGKILL');
  });
  return { connection, pid: child.pid!, phases };
}

