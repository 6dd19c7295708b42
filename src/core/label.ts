/**
 * A slot's label: the user's own name for it ("before the refactoring"), kept in its manifest.
 * It is shown in the Slots view (plain and in a Markdown tooltip), in a terminal table and in
 * messages, so anything that could disguise or break those is refused rather than escaped
 * everywhere: control characters (a newline would split a table row or a log line, an ESC would
 * drive the terminal), and the invisible formatting characters that reorder or hide text
 * (bidirectional overrides and isolates, zero-width characters: "Trojan source").
 */
export const MAX_LABEL_LENGTH = 100;

const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/u;

/** Why `label` cannot be a label (a sentence for the user), or null when it can. */
export function labelProblem(label: string): string | null {
  if (label.trim() !== label) return 'it starts or ends with spaces';
  if (label === '') return 'it is empty (to remove a label, clear it)';
  if ([...label].length > MAX_LABEL_LENGTH) return `it is longer than ${MAX_LABEL_LENGTH} characters`;
  if (/\p{Cc}/u.test(label)) return 'it contains a line break, tab or other control character';
  if (INVISIBLE.test(label)) return 'it contains an invisible formatting character (a text-direction override or a zero-width character) that could disguise what it says';
  if (/\p{Cs}|\p{Co}|\p{Cn}/u.test(label)) return 'it contains a character that is not valid text';
  return null;
}

/** Escapes a label for a Markdown tooltip: it is shown as the text it is, never as markup. */
export function markdownText(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, (c) => `\\${c}`);
}
