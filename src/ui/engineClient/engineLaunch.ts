import type { NodeModule, TransportKind } from 'vscode-languageclient/node';
import { ENGINE_NODE_FLAGS } from '../../core/engineNodeFlags';

/**
 * How vscode-languageclient starts dist/engine.js: forked with VS Code's own runtime (Electron
 * with ELECTRON_RUN_AS_NODE, which hands V8's flags to V8 as node does) and the engine's node
 * flags, talking over stdio. Kept apart from the client so it can be checked without an editor.
 */
export function engineModule(enginePath: string): NodeModule {
  // TransportKind is a runtime enum of a module that loads vscode; its stdio member is 0.
  const stdio = 0 as TransportKind.stdio;
  return { module: enginePath, transport: stdio, args: ['--stdio'], options: { execArgv: [...ENGINE_NODE_FLAGS] } };
}
