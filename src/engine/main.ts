// The engine process: a vscode-languageserver peer over stdio, started by the extension through
// vscode-languageclient. The backup runs here, never on the extension host's thread.
import { keepHeapSmall } from '../platform/heap';
import { startServer } from './server';

keepHeapSmall();
startServer();
