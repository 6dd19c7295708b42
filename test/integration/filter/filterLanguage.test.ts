// The filter language features over a real LSP connection: the server half is the engine's
// vscode-languageserver connection with registerFilterLanguage, the client half a vscode-jsonrpc
// connection, joined by two in-memory streams. The source is a real folder on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createConnection, TextDocuments } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { FILTER_LANGUAGE_CAPABILITIES, registerFilterLanguage } from '../../../src/engine/filterLanguage';

interface PublishedDiagnostics { uri: string; version?: number; diagnostics: Array<{ range: { start: { line: number; character: number } }; severity: number; code: string; message: string; data?: unknown }> }

async function makeSource(root: string): Promise<void> {
  await mkdir(join(root, 'node_modules', 'pkg'), { recursive: true });
  await mkdir(join(root, 'src', 'build'), { recursive: true });
  await mkdir(join(root, 'build'), { recursive: true });
  await mkdir(join(root, 'docs'), { recursive: true });
  for (let i = 0; i < 20; i++) await writeFile(join(root, 'node_modules', 'pkg', `f${i}.js`), 'x'.repeat(100));
  await writeFile(join(root, 'src', 'main.ts'), 'code');
  await writeFile(join(root, 'src', 'build', 'out.js'), 'built');
  await writeFile(join(root, 'build', 'app.bin'), 'b'.repeat(1000));
  await writeFile(join(root, 'debug.log'), 'log');
}

async function start(source: string) {
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const server = createConnection(new StreamMessageReader(toServer), new StreamMessageWriter(toClient));
  const documents = new TextDocuments(TextDocument);
  const feature = registerFilterLanguage(server, documents, { sourceFor: () => source, debounceMs: 50 });
  server.onInitialize(() => ({ capabilities: { textDocumentSync: 1, ...FILTER_LANGUAGE_CAPABILITIES } }));
  documents.listen(server);
  server.listen();
  const client: MessageConnection = createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  const published: PublishedDiagnostics[] = [];
  const waiters: Array<(p: PublishedDiagnostics) => void> = [];
  client.onNotification('textDocument/publishDiagnostics', (p: PublishedDiagnostics) => { published.push(p); waiters.splice(0).forEach((w) => w(p)); });
  client.listen();
  const init = await client.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} }) as { capabilities: Record<string, unknown> };
  await client.sendNotification('initialized', {});
  const nextDiagnostics = () => new Promise<PublishedDiagnostics>((resolve) => waiters.push(resolve));
  const stop = () => { feature.dispose(); client.dispose(); server.dispose(); toServer.end(); toClient.end(); };
  return { client, published, nextDiagnostics, init, stop };
}

const FILTER = [
  '# workspace excludes',
  '- node_modules/',
  '+ node_modules/pkg/f1.js',
  '- build',
  '- *.tmp',
  '-foo',
  '- debug.log',
].join('\n');

test('diagnostics, hover, code lens, completion and quick fixes over a real LSP connection', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'ss-filter-lsp-'));
  const source = join(work, 'src dir');
  await mkdir(source);
  await makeSource(source);
  const lsp = await start(source);
  t.after(async () => { lsp.stop(); await rm(work, { recursive: true, force: true }); });
  assert.equal(lsp.init.capabilities['hoverProvider'], true);

  const uri = pathToFileURL(join(work, '.shadowslots-filter')).href;
  const first = lsp.nextDiagnostics();
  await lsp.client.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'shadowslots-filter', version: 1, text: FILTER } });
  const diags = await first;
  const byLine = (line: number) => diags.diagnostics.filter((d) => d.range.start.line === line).map((d) => d.code);
  assert.deepEqual(byLine(5), ['syntax'], 'an invalid modifier is an error');
  assert.deepEqual(byLine(2), ['shadowed'], 'an include inside an excluded folder never applies');
  assert.deepEqual(byLine(4), ['no-match'], '*.tmp matches nothing');
  assert.ok(byLine(3).includes('unanchored'), 'build matches at two depths');
  assert.equal(diags.diagnostics.find((d) => d.code === 'syntax')!.severity, 1);

  const hover = await lsp.client.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 1, character: 3 } }) as { contents: { value: string } };
  assert.match(hover.contents.value, /excludes 20 files \(2\.0 kB\) and 2 folders/);
  assert.match(hover.contents.value, /node\\_modules\//);

  const lenses = await lsp.client.sendRequest('textDocument/codeLens', { textDocument: { uri } }) as Array<{ command: { title: string } }>;
  assert.equal(lenses.length, 1);
  // 20 in node_modules, src/build/out.js and build/app.bin, debug.log; of 24 files.
  assert.equal(lenses[0]!.command.title, 'excludes 23 files (3.0 kB) of 24');

  const completion = await lsp.client.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line: 4, character: 2 } }) as Array<{ label: string }>;
  assert.deepEqual(completion.map((c) => c.label), ['build/', 'docs/', 'node_modules/', 'src/']);
  const nested = await lsp.client.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line: 1, character: 2 } }) as Array<{ label: string }>;
  assert.ok(nested.some((c) => c.label === 'src/'));

  const buildDiag = diags.diagnostics.find((d) => d.code === 'unanchored')!;
  const actions = await lsp.client.sendRequest('textDocument/codeAction', {
    textDocument: { uri }, range: { start: { line: 3, character: 0 }, end: { line: 3, character: 7 } }, context: { diagnostics: [buildDiag] },
  }) as Array<{ title: string; edit: { changes: Record<string, Array<{ range: { start: { character: number } }; newText: string }>> } }>;
  const anchor = actions.find((a) => a.title.startsWith('Anchor'))!;
  assert.deepEqual(anchor.edit.changes[uri], [{ range: { start: { line: 3, character: 2 }, end: { line: 3, character: 2 } }, newText: '/' }]);
  assert.ok(actions.some((a) => a.title.startsWith('Make this rule match folders only')));

  // Typing: several quick edits; only the last version is analysed. Its text-only diagnostics go
  // out at once, then the walk's.
  const before = lsp.published.length;
  const quick = lsp.nextDiagnostics();
  for (let v = 2; v <= 6; v++) {
    const text = v < 6 ? `${FILTER}\n- x${v}` : FILTER.replace('-foo', '- /build/');
    await lsp.client.sendNotification('textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [{ text }] });
  }
  const first6 = await quick;
  assert.equal(first6.version, 6);
  assert.ok(!first6.diagnostics.some((d) => d.code === 'syntax'), 'the syntax error is gone at once');
  assert.ok(first6.diagnostics.some((d) => d.range.start.line === 2 && d.code === 'shadowed'), 'findings on unchanged lines are kept meanwhile');
  let full = first6;
  while (!full.diagnostics.some((d) => d.range.start.line === 5)) full = await lsp.nextDiagnostics();
  assert.equal(full.version, 6);
  assert.deepEqual(full.diagnostics.filter((d) => d.range.start.line === 5).map((d) => d.code), ['shadowed'], '"- /build/" after "- build" never applies');
  assert.deepEqual([...new Set(lsp.published.slice(before).map((p) => p.version))], [6], 'earlier versions were never published');
});

test('requests are answered while a walk of a large source is still running', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'ss-filter-lsp-'));
  const source = join(work, 'big');
  for (let d = 0; d < 400; d++) {
    await mkdir(join(source, `dir${d}`), { recursive: true });
    await Promise.all(Array.from({ length: 50 }, (_, i) => writeFile(join(source, `dir${d}`, `f${i}.txt`), '')));
  }
  const lsp = await start(source);
  t.after(async () => { lsp.stop(); await rm(work, { recursive: true, force: true }); });
  const uri = pathToFileURL(join(work, '.shadowslots-filter')).href;
  const events: string[] = [];
  const walked = lsp.nextDiagnostics().then(() => events.push('diagnostics'));
  await lsp.client.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'shadowslots-filter', version: 1, text: '- dir1/\n- ' } });
  // Just past the 50 ms debounce: the walk of 20,000 files has started and cannot have finished.
  await new Promise((resolve) => setTimeout(resolve, 60));
  const items = await lsp.client.sendRequest('textDocument/completion', { textDocument: { uri }, position: { line: 1, character: 2 } }) as Array<{ label: string }>;
  events.push('completion');
  await walked;
  assert.equal(items.length, 400);
  assert.deepEqual(events, ['completion', 'diagnostics'], 'completion did not wait for the 20,000-file walk');
});
