import { formatBytes, formatCount, plural } from '../../core/format';
import type { PreviewRule } from '../../core/filter/preview';
import { ruleLabel, type PreviewModel, type TreeFolder } from './previewModel';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&#39;' })[c]!);

/** A link the page turns into "open the file at this rule" (the extension handles the message). */
function ruleLink(r: PreviewRule, text: string): string {
  if (r.origin === 'settings' || !r.file) return esc(text);
  return `<a href="#" class="rule" data-file="${esc(r.file)}" data-line="${r.line}">${esc(text)}</a>`;
}

function decides(r: PreviewRule): string {
  const folders = r.dirs > 0 ? ` and ${plural(r.dirs, 'folder')}` : '';
  return `${r.include ? 'keeps' : 'excludes'} ${plural(r.files, 'file')} (${formatBytes(r.bytes)})${folders}`;
}

function tree(f: TreeFolder, depth = 0): string {
  const folders = f.folders.map((sub) => {
    const label = `${esc(sub.name)}/ <span class="count">${sub.count === 0 ? 'empty folder' : plural(sub.count, 'file')}</span>`;
    if (sub.folders.length === 0 && sub.files.length === 0) return `<li class="folder">${label}</li>`;
    // Folders start collapsed: a preview of thousands of files stays readable.
    return `<li><details><summary class="folder">${label}</summary>${tree(sub, depth + 1)}</details></li>`;
  });
  const files = f.files.map((name) => `<li class="file">${esc(name)}</li>`);
  return `<ul class="${depth === 0 ? 'tree' : 'sub'}">${[...folders, ...files].join('')}</ul>`;
}

/**
 * The Preview Backup page: totals, what each rule decides (with links to the rule), then each
 * group of items as a collapsed folder tree in natural order. `nonce` allows only the page's own
 * script (the webview's Content-Security-Policy); `cspSource` is the webview's resource origin.
 */
export function previewHtml(m: PreviewModel, nonce: string, cspSource: string): string {
  const t = m.totals;
  const intro = m.newestSlot ? `Compared with the newest slot (<code>${esc(m.newestSlot)}</code>).` : 'There is no slot yet: the first backup copies everything below.';
  const kept = m.included && m.excluded
    ? `<p>The rules keep <b>${plural(m.included.files, 'file')}</b> (${formatBytes(m.included.bytes)}) and exclude <b>${plural(m.excluded.files, 'file')}</b> (${formatBytes(m.excluded.bytes)}).</p>`
    : '';
  const ruleRows = m.rules.map((r) => `<tr><td>${ruleLink(r, ruleLabel(r))}</td><td>${decides(r)}</td></tr>`).join('');
  const idle = m.idleRules.length > 0
    ? `<p class="idle">Deciding nothing now: ${m.idleRules.map((r) => ruleLink(r, ruleLabel(r))).join(', ')}.</p>`
    : '';
  const rules = m.rules.length + m.idleRules.length > 0
    ? `<h2>What the rules decide</h2>${ruleRows ? `<table>${ruleRows}</table>` : ''}${idle}`
    : '<p>No exclude rules: everything in the folder is backed up.</p>';
  const groups = m.groups.map((g) => `<section id="${esc(g.id)}"><h2>${g.rule ? ruleLink(g.rule, g.title) : esc(g.title)} <span class="count">(${formatCount(g.count)}${m.truncated ? '+' : ''})</span></h2>${tree(g.tree)}</section>`).join('');
  const nothing = m.groups.length === 0 ? '<p><b>Nothing would change</b>: the next backup would be the same as the newest slot.</p>' : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<title>Preview Backup</title>
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 1.5em 2em; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
.totals b { font-size: 1.2em; } .count, .idle { color: var(--vscode-descriptionForeground); font-weight: normal; }
table { border-collapse: collapse; } td { padding: 2px 1.5em 2px 0; vertical-align: top; }
ul.tree, ul.sub { list-style: none; padding-left: 1.2em; margin: 0; } ul.tree { padding-left: 0; }
li.file::before { content: "\\2022  "; color: var(--vscode-descriptionForeground); }
summary.folder { cursor: pointer; } a { color: var(--vscode-textLink-foreground); }
pre { white-space: pre-wrap; word-break: break-all; color: var(--vscode-descriptionForeground); }
</style></head>
<body>
<h1>Preview of the next backup of ${esc(m.folderName)}</h1>
<p>${intro}</p>
<p class="totals"><b>${formatCount(t.copied)}</b> new &middot; <b>${formatCount(t.changed)}</b> changed &middot; <b>${formatCount(t.deleted)}</b> no longer backed up</p>
${kept}${rules}${nothing}${groups}
${m.truncated ? '<p><i>The lists are cut short; the totals above are complete.</i></p>' : ''}
<details><summary>rsync dry runs</summary><pre>${m.commands.map((c) => esc(c.join(' '))).join('\n')}</pre></details>
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
for (const a of document.querySelectorAll('a.rule')) {
  a.addEventListener('click', (e) => { e.preventDefault(); vscode.postMessage({ type: 'goToRule', file: a.dataset.file, line: Number(a.dataset.line) }); });
}
</script>
</body></html>`;
}
