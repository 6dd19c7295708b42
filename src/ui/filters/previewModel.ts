import type { PreviewItem, PreviewResult, PreviewRule } from '../../core/filter/preview';

/**
 * Preview Backup as data to render: items grouped by what decides them (new, changed, excluded by
 * a named rule, deleted from the folder), each group a tree of folders in natural order. Pure (no
 * vscode), so the grouping and ordering are unit-tested; previewHtml.ts renders it.
 */

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Natural order: "file2" before "file10", case-insensitive first, then by code units for a stable result. */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

export interface TreeFolder { name: string; folders: TreeFolder[]; files: string[]; /** Files anywhere below. */ count: number }

/** Builds a folder tree from slot-relative paths (folders end in `/`); folders first, each level in natural order. */
export function buildTree(paths: readonly string[]): TreeFolder {
  const root: TreeFolder = { name: '', folders: [], files: [], count: 0 };
  const folderAt = (parent: TreeFolder, name: string): TreeFolder => {
    let f = parent.folders.find((x) => x.name === name);
    if (!f) { f = { name, folders: [], files: [], count: 0 }; parent.folders.push(f); }
    return f;
  };
  for (const p of paths) {
    const isDir = p.endsWith('/');
    const parts = p.replace(/\/+$/, '').split('/').filter((x) => x !== '');
    if (parts.length === 0) continue;
    let node = root;
    const chain = [root];
    for (const part of parts.slice(0, -1)) { node = folderAt(node, part); chain.push(node); }
    const last = parts[parts.length - 1]!;
    if (isDir) { folderAt(node, last); continue; }
    node.files.push(last);
    for (const f of chain) f.count++;
  }
  const sort = (f: TreeFolder) => {
    f.folders.sort((a, b) => naturalCompare(a.name, b.name));
    f.files.sort(naturalCompare);
    f.folders.forEach(sort);
  };
  sort(root);
  return root;
}

export interface PreviewGroup {
  id: string;
  title: string;
  /** Items in the group (files; a new empty folder counts as one). */
  count: number;
  tree: TreeFolder;
  /** The rule that decides the group, for a jump to it. */
  rule?: PreviewRule;
}

export interface PreviewModel {
  folderName: string;
  newestSlot: string | undefined;
  totals: { copied: number; changed: number; deleted: number };
  truncated: boolean;
  /** Rules that decide something now, in rsync's order; then those that decide nothing. */
  rules: PreviewRule[];
  idleRules: PreviewRule[];
  included: PreviewResult['included'];
  excluded: PreviewResult['excluded'];
  groups: PreviewGroup[];
  commands: string[][];
}

/** Items of one group: a folder item is left out when items below it show the folder anyway. */
function pathsOf(items: readonly PreviewItem[]): string[] {
  const paths = items.map((i) => (i.kind === 'dir' && !i.path.endsWith('/') ? `${i.path}/` : i.path));
  const ancestors = new Set<string>();
  for (const p of paths) {
    const parts = p.replace(/\/+$/, '').split('/');
    for (let n = 1; n < parts.length; n++) ancestors.add(`${parts.slice(0, n).join('/')}/`);
  }
  return paths.filter((p) => !p.endsWith('/') || !ancestors.has(p));
}

/** Rule text as a label: where it is written and the rule itself. */
export function ruleLabel(r: PreviewRule): string {
  if (r.origin === 'settings') return `the settings' exclude "${r.text.replace(/^- /, '')}"`;
  return `line ${r.line + 1}${r.origin === 'merged' && r.file ? ` of ${r.file.split(/[\\/]/).pop()}` : ''}: ${r.text}`;
}

export function previewModel(result: PreviewResult, folderName: string): PreviewModel {
  const groups: PreviewGroup[] = [];
  const add = (id: string, title: string, items: PreviewItem[], rule?: PreviewRule) => {
    if (items.length === 0) return;
    const paths = pathsOf(items);
    groups.push({ id, title, count: paths.length, tree: buildTree(paths), ...(rule ? { rule } : {}) });
  };
  add('copy', result.newestSlot ? 'New in the next slot' : 'Copied by the first backup', result.items.filter((i) => i.action === 'copy'));
  add('change', 'Changed since the newest slot', result.items.filter((i) => i.action === 'change'));
  const deletes = result.items.filter((i) => i.action === 'delete');
  const rules = result.rules ?? [];
  const byRule = new Map<number | null, PreviewItem[]>();
  for (const i of deletes) {
    if (i.reason?.kind !== 'excluded') continue;
    const k = i.reason.rule;
    byRule.set(k, [...(byRule.get(k) ?? []), i]);
  }
  for (const [k, items] of [...byRule.entries()].sort((a, b) => (a[0] ?? Infinity) - (b[0] ?? Infinity))) {
    const rule = k === null ? undefined : rules[k];
    add(`excluded-${k ?? 'other'}`, rule ? `No longer backed up: excluded by ${ruleLabel(rule)}` : 'No longer backed up: excluded by the rules', items, rule);
  }
  add('gone', 'Deleted from the folder since the newest slot', deletes.filter((i) => i.reason?.kind === 'gone'));
  add('delete', 'No longer in the next slot', deletes.filter((i) => i.reason === undefined));
  // Counted as the groups count (files, and folders only when empty), unless the lists were cut short.
  const sum = (pred: (g: PreviewGroup) => boolean) => groups.filter(pred).reduce((n, g) => n + g.count, 0);
  const totals = result.truncated
    ? { copied: result.copied, changed: result.changed, deleted: result.deleted }
    : { copied: sum((g) => g.id === 'copy'), changed: sum((g) => g.id === 'change'), deleted: sum((g) => g.id !== 'copy' && g.id !== 'change') };
  return {
    folderName,
    newestSlot: result.newestSlot,
    totals,
    truncated: result.truncated,
    rules: rules.filter((r) => r.files + r.dirs > 0),
    idleRules: rules.filter((r) => r.files + r.dirs === 0),
    included: result.included,
    excluded: result.excluded,
    groups,
    commands: result.commands,
  };
}
