import { fileURLToPath } from 'node:url';
import { basename } from 'node:path';
import {
  CodeActionKind, CompletionItemKind, DiagnosticSeverity, MarkupKind,
  type CancellationToken, type CodeAction, type CodeLens, type CompletionItem, type Connection, type Diagnostic, type Disposable, type ServerCapabilities, type TextDocuments,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { anchorFix, diagnoseFilter, folderOnlyFix, syntaxFixes, type DiagnosticCode, type FilterDiagnostic, type QuickFix, type Severity } from '../core/filter/diagnostics';
import { parseFilterText, type FilterRule } from '../core/filter/parse';
import { hoverMarkdown } from '../core/filter/report';
import { analyzeFilter, type FilterAnalysis } from '../platform/filter/analyze';
import { listFolders, ruleListFor } from '../platform/filter/load';

/** The language id the extension gives `.shadowslots-filter` files (see the report for the client options). */
export const FILTER_LANGUAGE_ID = 'shadowslots-filter';
export const FILTER_FILE_NAME = '.shadowslots-filter';

/** Capabilities to merge into the engine's InitializeResult so the client asks for these features. */
export const FILTER_LANGUAGE_CAPABILITIES: ServerCapabilities = {
  hoverProvider: true,
  codeLensProvider: { resolveProvider: false },
  completionProvider: { triggerCharacters: ['/', ' '] },
  codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, CodeActionKind.RefactorRewrite] },
};

export interface FilterLanguageOptions {
  /** The folder a filter document's rules are evaluated against (the profile's source); undefined: syntax checks only. */
  sourceFor(uri: string): string | undefined | Promise<string | undefined>;
  /** The settings' exclude list, which the engine passes to rsync before the filter file. */
  excludesFor?(uri: string): readonly string[] | Promise<readonly string[]>;
  /** Which open documents are filter files; default: language id `shadowslots-filter` or the file name `.shadowslots-filter`. */
  isFilterDocument?(doc: TextDocument): boolean;
  /** Quiet time after the last keystroke before the source is walked again (default 300 ms). */
  debounceMs?: number;
}

interface DocState {
  version: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  controller: AbortController | undefined;
  /** The analysis of `version` once it is done; the previous one stays until then. */
  latest: { version: number; analysis: FilterAnalysis; lines: string[] } | undefined;
  pending: Promise<FilterAnalysis | undefined> | undefined;
  settle: ((a: FilterAnalysis | undefined) => void) | undefined;
}

/** Diagnostics that need a walk of the source; the others come from the text alone. */
const COUNTED: ReadonlySet<DiagnosticCode> = new Set(['no-match', 'shadowed', 'matches-files-too', 'unanchored']);

const splitLines = (text: string) => text.split(/\r\n|\n|\r/);

const SEVERITY: Record<Severity, DiagnosticSeverity> = { error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, info: DiagnosticSeverity.Information, hint: DiagnosticSeverity.Hint };

function fsPathOf(uri: string): string | undefined {
  try { return uri.startsWith('file:') ? fileURLToPath(uri) : undefined; } catch { return undefined; }
}

function toLspDiagnostic(d: FilterDiagnostic): Diagnostic {
  return {
    range: { start: { line: d.line, character: d.start }, end: { line: d.line, character: Math.max(d.end, d.start) } },
    severity: SEVERITY[d.severity], code: d.code, source: 'shadow-slots', message: d.message,
    data: { fixes: d.fixes },
  };
}

function toCodeAction(uri: string, fix: QuickFix, kind: string, diagnostics?: Diagnostic[]): CodeAction {
  return {
    title: fix.title, kind, isPreferred: fix.preferred === true, ...(diagnostics ? { diagnostics } : {}),
    edit: { changes: { [uri]: fix.edits.map((e) => ({ range: { start: { line: e.line, character: e.start }, end: { line: e.endLine ?? e.line, character: e.end } }, newText: e.newText })) } },
  };
}

/**
 * The filter-file language features of the engine's language server: diagnostics (pushed),
 * hover with counts and example paths, a code lens with the summary, completion of folder names
 * and quick fixes. Counting walks the source in the engine process, after a quiet time, and every
 * keystroke cancels the walk in progress, so typing never waits for it.
 * Owns the connection's hover, completion, code lens and code action handlers.
 */
export function registerFilterLanguage(connection: Connection, documents: TextDocuments<TextDocument>, options: FilterLanguageOptions): Disposable {
  const debounceMs = options.debounceMs ?? 300;
  const states = new Map<string, DocState>();
  const isFilter = options.isFilterDocument ?? ((doc: TextDocument) => doc.languageId === FILTER_LANGUAGE_ID || basename(fsPathOf(doc.uri) ?? doc.uri) === FILTER_FILE_NAME);

  const stateOf = (uri: string): DocState => {
    let s = states.get(uri);
    if (!s) { s = { version: -1, timer: undefined, controller: undefined, latest: undefined, pending: undefined, settle: undefined }; states.set(uri, s); }
    return s;
  };

  const analyze = async (doc: TextDocument, controller: AbortController): Promise<FilterAnalysis | undefined> => {
    const source = await options.sourceFor(doc.uri);
    const excludes = options.excludesFor ? await options.excludesFor(doc.uri) : [];
    try {
      return await analyzeFilter(doc.getText(), fsPathOf(doc.uri), source, { signal: controller.signal, excludes });
    } catch (error) {
      if (controller.signal.aborted) return undefined;
      // The source may be missing or unreadable: still give the syntax diagnostics.
      connection.console.warn(`shadow-slots filter: counting failed: ${error instanceof Error ? error.message : String(error)}`);
      return analyzeFilter(doc.getText(), fsPathOf(doc.uri), undefined, { excludes });
    }
  };

  const schedule = (doc: TextDocument, delay: number) => {
    if (!isFilter(doc)) return;
    const s = stateOf(doc.uri);
    s.version = doc.version;
    s.controller?.abort();
    if (s.timer) clearTimeout(s.timer);
    // One promise per edit burst: hover and code lens requests made meanwhile wait for it.
    if (!s.pending) s.pending = new Promise((resolve) => { s.settle = resolve; });
    const controller = new AbortController();
    s.controller = controller;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      const current = documents.get(doc.uri);
      if (!current || current.version !== s.version) return;
      void publishQuick(current, s);
      void analyze(current, controller).then((analysis) => {
        if (controller.signal.aborted || !analysis || s.version !== current.version) return;
        s.latest = { version: current.version, analysis, lines: splitLines(current.getText()) };
        void connection.sendDiagnostics({ uri: current.uri, version: current.version, diagnostics: analysis.diagnostics.map(toLspDiagnostic) });
        s.settle?.(analysis);
        s.pending = undefined; s.settle = undefined;
      }, (error: unknown) => {
        // Never leave hover and code lens requests waiting on an analysis that failed.
        connection.console.error(`shadow-slots filter: ${error instanceof Error ? error.message : String(error)}`);
        if (s.version === current.version) { s.settle?.(undefined); s.pending = undefined; s.settle = undefined; }
      });
    }, delay);
  };

  /**
   * Syntax errors must not wait for a walk of a large source: the text-only diagnostics go out at
   * once, together with the previous walk's findings on lines whose text is unchanged.
   */
  const publishQuick = async (doc: TextDocument, s: DocState) => {
    if (!s.latest) return;
    const excludes = options.excludesFor ? await options.excludesFor(doc.uri) : [];
    if (s.version !== doc.version) return;
    const text = doc.getText();
    const lines = splitLines(text);
    const quick = diagnoseFilter(ruleListFor(text, fsPathOf(doc.uri), excludes)).filter((d) => !COUNTED.has(d.code));
    const kept = s.latest.analysis.diagnostics.filter((d) => COUNTED.has(d.code) && lines[d.line] !== undefined && lines[d.line] === s.latest!.lines[d.line]);
    void connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: [...quick, ...kept].map(toLspDiagnostic) });
  };

  /** The analysis of the current text, waiting for one in progress (the token ends the wait). */
  const analysisFor = async (uri: string, token?: CancellationToken): Promise<FilterAnalysis | undefined> => {
    const s = states.get(uri);
    if (!s) return undefined;
    if (s.latest && s.latest.version === s.version) return s.latest.analysis;
    if (!s.pending) return s.latest?.analysis;
    return new Promise((resolve) => {
      token?.onCancellationRequested(() => resolve(undefined));
      void s.pending!.then(resolve);
    });
  };

  const subs: Disposable[] = [
    // TextDocuments fires onDidChangeContent for an open too: version 1 counts at once.
    documents.onDidChangeContent((e) => schedule(e.document, states.has(e.document.uri) ? debounceMs : 0)),
    documents.onDidSave((e) => schedule(e.document, 0)),
    documents.onDidClose((e) => {
      const s = states.get(e.document.uri);
      s?.controller?.abort();
      if (s?.timer) clearTimeout(s.timer);
      s?.settle?.(undefined);
      states.delete(e.document.uri);
      if (isFilter(e.document)) void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    }),

    connection.onHover(async (params, token) => {
      const analysis = await analysisFor(params.textDocument.uri, token);
      const report = analysis?.rules.find((r) => r.line === params.position.line);
      if (!analysis || !report) return null;
      return { contents: { kind: MarkupKind.Markdown, value: hoverMarkdown(report, analysis.counts?.complete ?? false) } };
    }),

    connection.onCodeLens(async (params, token): Promise<CodeLens[]> => {
      const doc = documents.get(params.textDocument.uri);
      if (!doc || !isFilter(doc)) return [];
      const analysis = await analysisFor(params.textDocument.uri, token);
      const title = analysis?.summary ?? (analysis ? 'no source folder: set the profile\'s source to see what these rules exclude' : 'counting…');
      // An empty command id makes the lens a label, not a button.
      return [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, command: { title, command: '' } }];
    }),

    connection.onCompletion(async (params): Promise<CompletionItem[]> => {
      const doc = documents.get(params.textDocument.uri);
      if (!doc || !isFilter(doc)) return [];
      const lineText = doc.getText({ start: { line: params.position.line, character: 0 }, end: { line: params.position.line + 1, character: 0 } }).replace(/\r?\n$/, '');
      const col = params.position.character;
      // A rule being typed ("- ") has no pattern yet and does not parse: give it one to find where the pattern starts.
      const rule: FilterRule | undefined = parseFilterText(lineText).rules[0] ?? parseFilterText(`${lineText.slice(0, col)}x`).rules[0];
      if (!rule || col < rule.patternStart) {
        if (lineText.slice(0, col).trim() !== '') return [];
        return RULE_STARTERS.map(([label, detail], i) => ({ label, detail, kind: CompletionItemKind.Keyword, sortText: String(i).padStart(2, '0'), insertText: label }));
      }
      const typed = lineText.slice(rule.patternStart, col);
      const slash = typed.lastIndexOf('/');
      const dirPart = typed.slice(0, slash + 1).replace(/^\/+/, '').replace(/\/+$/, '');
      if (/[*?[\\]/.test(dirPart)) return [];
      const source = await options.sourceFor(doc.uri);
      if (!source) return [];
      const start = rule.patternStart + slash + 1;
      return listFolders(source, dirPart).map((name) => ({
        label: `${name}/`, kind: CompletionItemKind.Folder, detail: dirPart === '' ? 'folder at the top of the source' : `folder in ${dirPart}/`,
        textEdit: { range: { start: { line: params.position.line, character: start }, end: params.position }, newText: `${escapeName(name)}/` },
      }));
    }),

    connection.onCodeAction((params): CodeAction[] => {
      const uri = params.textDocument.uri;
      const doc = documents.get(uri);
      if (!doc || !isFilter(doc)) return [];
      const actions: CodeAction[] = [];
      const lineOf = (line: number) => doc.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } }).replace(/\r?\n$/, '');
      for (const d of params.context.diagnostics) {
        const fixes = (d.data as { fixes?: QuickFix[] } | undefined)?.fixes ?? [];
        // A rule rsync rejects: the fixes depend on the line as it is now, so they are worked out here.
        if (d.code === 'syntax' && d.source === 'shadow-slots') fixes.push(...syntaxFixes(lineOf(d.range.start.line), d.range.start.line));
        for (const f of fixes) actions.push(toCodeAction(uri, f, CodeActionKind.QuickFix, [d]));
      }
      // The two rewrites are offered on any rule, with or without a diagnostic.
      for (let line = params.range.start.line; line <= params.range.end.line; line++) {
        const rule = parseFilterText(lineOf(line)).rules[0];
        if (!rule || !['exclude', 'include', 'hide', 'show', 'protect', 'risk'].includes(rule.kind)) continue;
        const placed = { ...rule, line };
        for (const fix of [anchorFix(placed), folderOnlyFix(placed)]) {
          if (fix && !actions.some((a) => a.title === fix.title)) actions.push(toCodeAction(uri, fix, CodeActionKind.RefactorRewrite));
        }
      }
      return actions;
    }),
  ];

  return {
    dispose() {
      for (const s of states.values()) { s.controller?.abort(); if (s.timer) clearTimeout(s.timer); s.settle?.(undefined); }
      states.clear();
      for (const d of subs) d.dispose();
    },
  };
}

/** A folder name as a literal pattern: rsync only treats `\` as an escape when a wildcard is present. */
function escapeName(name: string): string {
  return /[*?[]/.test(name) ? name.replace(/[*?[\]\\]/g, (c) => `\\${c}`) : name;
}

const RULE_STARTERS: Array<[string, string]> = [
  ['- ', 'exclude: files and folders matching the pattern are not backed up'],
  ['+ ', 'include: matching paths are backed up even if a later rule excludes them'],
  ['H ', 'hide: exclude on the sending side only'],
  ['S ', 'show: include on the sending side only'],
  ['P ', 'protect: never delete matching paths in the backup'],
  ['R ', 'risk: allow deleting matching paths again'],
  ['. ', 'merge: read more rules from a file'],
  [': ', 'dir-merge: read rules from this file name in every folder'],
  ['!', 'clear: forget every rule above'],
  ['# ', 'comment'],
];
