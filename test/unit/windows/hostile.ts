/** Names that would change a command's meaning if a value were ever spliced into one. */
export const HOSTILE_NAMES: string[] = [
  'My Project',
  'it\'s "quoted"',
  'R&D & more',
  '100% %PATH% done',
  'caret ^ and ^^',
  'semi;colon',
  '$(whoami) `id` $env:TEMP',
  'Ünïcødé 日本語 😀',
  '<tag attr="x">&amp;</tag>',
  'pipe | redirect > out < in',
  'trailing backslash\\',
  'line\nbreak',
];
