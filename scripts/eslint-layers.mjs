// The layer rule of DESIGN.md as an ESLint rule. Import strings are resolved against the importing
// file, so the rule holds for every file at any depth (src/core/filter/x.ts importing
// '../../platform/y' is caught; src/platform/schedule/x.ts importing '../windows/y' is platform
// importing platform), which patterns on the import text cannot tell apart.
import { dirname, relative, resolve, sep } from 'node:path';

const srcDir = resolve(import.meta.dirname, '..', 'src');

/** Which layers (folders of src/, or the composition root) each layer may import. */
export const LAYERS = {
  core: ['core'],
  platform: ['core', 'platform'],
  rpc: ['core', 'rpc'],
  engine: ['core', 'platform', 'rpc', 'engine'],
  cli: ['core', 'platform', 'rpc', 'engine', 'cli'],
  // The extension reaches the engine only through rpc and its client in src/ui/engineClient.
  ui: ['core', 'platform', 'rpc', 'ui'],
  extension: ['core', 'platform', 'rpc', 'ui'],
};

/** Modules that do I/O: core is pure. */
const IO_MODULES = ['fs', 'fs/promises', 'child_process', 'net', 'http', 'https', 'http2', 'dgram', 'dns', 'os', 'readline', 'tty', 'worker_threads', 'cluster'];

/** Packages only some layers or files may use, and why. */
const PACKAGES = [
  { match: (m) => m === 'vscode', layers: ['ui', 'extension'], why: 'the editor API exists only in the extension host' },
  { match: (m) => m.startsWith('vscode-languageclient'), layers: ['ui'], why: 'the engine client lives in src/ui/engineClient' },
  { match: (m) => m.startsWith('vscode-languageserver'), layers: ['engine'], why: 'the language server is the engine process' },
  { match: (m) => m === 'execa' || m === 'child_process', files: ['platform/runner.ts'], why: 'every process is spawned through src/platform/runner.ts' },
  { match: (m) => IO_MODULES.includes(m), layers: Object.keys(LAYERS).filter((l) => l !== 'core'), why: 'core is pure: I/O belongs in platform' },
];

/** The layer of an absolute path: a folder of src/, 'extension', another name, or null outside src/. */
function layerOf(file) {
  const parts = relative(srcDir, file).split(sep);
  if (parts[0] === '..' || parts[0] === '') return null;
  if (parts.length === 1) return parts[0] === 'extension.ts' ? 'extension' : parts[0];
  return parts[0];
}

/** `node:fs/promises` → `fs/promises`; `vscode-languageserver/node` stays whole for prefix checks. */
function moduleName(specifier) {
  return specifier.startsWith('node:') ? specifier.slice(5) : specifier;
}

const boundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'Enforces the layers of DESIGN.md for every file under src/, at any depth.' },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const from = layerOf(file);
    if (from === null) return {};
    const fromRel = relative(srcDir, file).split(sep).join('/');
    const check = (node, specifier) => {
      if (typeof specifier !== 'string') return;
      if (!(from in LAYERS)) {
        context.report({ node, message: `src/${from} is not a layer of DESIGN.md; put the file in one (or add the layer to scripts/eslint-layers.mjs).` });
        return;
      }
      if (specifier.startsWith('.')) {
        const to = layerOf(resolve(dirname(file), specifier));
        if (to === null) context.report({ node, message: `"${specifier}" leaves src/: shipped code imports only src/ and packages.` });
        else if (!LAYERS[from].includes(to)) context.report({ node, message: `${from === 'extension' ? 'src/extension.ts' : `src/${from}`} may import only ${LAYERS[from].map((l) => `src/${l}`).join(', ')}; "${specifier}" is src/${to === 'extension' ? 'extension.ts' : to}.` });
        return;
      }
      const name = moduleName(specifier);
      for (const p of PACKAGES) {
        if (!p.match(name)) continue;
        const allowed = p.files ? p.files.includes(fromRel) : p.layers.includes(from);
        if (!allowed) context.report({ node, message: `"${specifier}" is not allowed in ${fromRel}: ${p.why}.` });
      }
    };
    const literal = (n) => (n && n.type === 'Literal' ? n.value : n && n.type === 'TemplateLiteral' && n.expressions.length === 0 ? n.quasis[0].value.cooked : undefined);
    return {
      ImportDeclaration: (n) => check(n.source, n.source.value),
      ExportNamedDeclaration: (n) => { if (n.source) check(n.source, n.source.value); },
      ExportAllDeclaration: (n) => check(n.source, n.source.value),
      ImportExpression: (n) => check(n, literal(n.source)),
      TSImportType: (n) => check(n, literal(n.argument?.literal ?? n.argument)),
      TSExternalModuleReference: (n) => check(n, literal(n.expression)),
      CallExpression: (n) => { if (n.callee.type === 'Identifier' && n.callee.name === 'require' && n.arguments.length === 1) check(n, literal(n.arguments[0])); },
    };
  },
};

export const layersPlugin = { rules: { boundaries } };
