import * as vscode from 'vscode';
import { EngineClient } from './engineClient/engineClient';
import { RingModel } from './ringModel';
import { BackupController } from './backup/backupController';
import { workspaceProfile } from './settings';
import { AgeClock } from './ageClock';
import { VerifyMarks } from './slots/verifyMarks';

/** What feature modules share. Built once by the composition root (src/extension.ts). */
export interface Services {
  readonly context: vscode.ExtensionContext;
  /** Every command line, its duration and exit code; never revealed by itself. */
  readonly log: vscode.LogOutputChannel;
  readonly engine: EngineClient;
  readonly ring: RingModel;
  readonly backup: BackupController;
  /** The one clock relative ages on screen are drawn from. */
  readonly clock: AgeClock;
  /** Slots Verify found damaged in this session. */
  readonly verifyMarks: VerifyMarks;
}

/**
 * A feature of the extension (slots view, backup, status bar; schedules and Windows helper from
 * their own folders). Each registers its commands/views and returns what must be disposed; the
 * composition root just runs the list, so adding a feature never touches another one.
 */
export interface FeatureModule {
  readonly id: string;
  activate(services: Services): vscode.Disposable[];
}

export function createServices(context: vscode.ExtensionContext): Services {
  const log = vscode.window.createOutputChannel('Shadow Slots', { log: true });
  const engine = new EngineClient(context.asAbsolutePath('dist/engine.js'), log, workspaceProfile);
  const ring = new RingModel(engine, log);
  const backup = new BackupController(engine, context.workspaceState);
  const clock = new AgeClock(ring);
  const verifyMarks = new VerifyMarks();
  context.subscriptions.push(log, engine, ring, backup, clock, verifyMarks);
  return { context, log, engine, ring, backup, clock, verifyMarks };
}
