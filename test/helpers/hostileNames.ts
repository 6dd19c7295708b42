/** The hostile names of the issue, one per case, each also in combination. */
export const HOSTILE_NAMES = [
  'plain', 'with space', '  two  leading and trailing  ', "it's", "''", '"double"', '$(touch /tmp/pwned)', '`id`', '$HOME', '${PATH}',
  'a;b', 'a && b', 'a & b', '100%', '%PATH%', 'back\\slash', '\\', 'new\nline', '\n', 'tab\there', 'ünïcødé ✓ 日本語', '-rf', '--', '*', '?', '[a]',
  '~', '#comment', '!bang', 'a|b', 'a>b', '<in', '\'"$`\\\n;&%', 'emoji 🙂', '',
];

