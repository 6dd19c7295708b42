import type { PreviewResult } from '../../rpc/protocol';

const ACTIONS = { copy: 'New in the next slot', change: 'Changed since the newest slot', delete: 'No longer in the next slot' } as const;

/** Preview Backup as a Markdown document: totals, then the items grouped by action. Pure. */
export function formatPreview(r: PreviewResult): string {
  const lines = [
    '# Preview of the next backup',
    '',
    r.newestSlot ? `Compared with the newest slot \`${r.newestSlot}\`.` : 'There is no slot yet: everything is new.',
    '',
    `- **${r.copied}** new, **${r.changed}** changed, **${r.deleted}** no longer backed up`,
    '',
  ];
  for (const action of ['copy', 'change', 'delete'] as const) {
    const items = r.items.filter((i) => i.action === action);
    if (items.length === 0) continue;
    lines.push(`## ${ACTIONS[action]} (${items.length}${r.truncated ? '+' : ''})`, '');
    for (const i of items) lines.push(`- \`${i.path.replace(/`/g, '\u02cb')}\``);
    lines.push('');
  }
  if (r.truncated) lines.push('_The list is cut short; the totals above are complete._', '');
  lines.push('## rsync dry runs', '', ...r.commands.map((c) => `    ${c.join(' ')}`), '');
  return lines.join('\n');
}
