/**
 * Human formatting shared by the CLI, the engine's messages and the extension: one unit system
 * everywhere (docs/extension.md, "Numbers and units").
 *
 * Sizes use decimal SI units (1 kB = 1,000 bytes, 1 MB = 1,000,000 bytes), as rsync's own `-h`
 * output, disk labels ("2 TB"), macOS Finder and GNOME Files do: a user comparing a slot's size
 * with the free space of a backup disk reads the same numbers. Below 1,000 the unit is spelled out.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '?';
  if (Math.abs(bytes) < 1000) return `${Math.round(bytes)} byte${Math.round(bytes) === 1 ? '' : 's'}`;
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 999.95 && u < SIZE_UNITS.length - 1) { v /= 1000; u++; }
  return `${Math.abs(v) >= 100 ? Math.round(v) : v.toFixed(1)} ${SIZE_UNITS[u]}`;
}

const SIZE_UNITS = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** A transfer rate in the same units: "12.3 MB/s". */
export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/**
 * "12,345" (grouped, en-US, as the editor and the CLI print counts). Grouped by hand:
 * toLocaleString loads ICU's locale data, about 8 MB of the engine's resident memory.
 */
export function formatCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** "1 file", "12,345 files": a count with its noun, pluralised. */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${formatCount(n)} ${Math.round(n) === 1 ? singular : pluralForm}`;
}

/** An elapsed time: "850 ms", "4.2 s", "3 min 5 s", "2 h 10 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/**
 * A time still to go, rounded as coarsely as an estimate deserves: "about 40 s", "about 3 min",
 * "about 1 h 20 min". Seconds go in steps of 5 (10 above half a minute), minutes whole.
 */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 30) return `about ${Math.max(5, Math.round(seconds / 5) * 5)} s`;
  if (seconds < 90) return `about ${Math.round(seconds / 10) * 10} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `about ${h} h` : `about ${h} h ${m} min`;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "5 min ago", "3 h ago", "2 days ago": the age shown on slot rows and in the status bar. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown time';
  if (ms < 0) return 'in the future';
  if (ms < MINUTE) return 'just now';
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)} min ago`;
  if (ms < 48 * HOUR) return `${Math.floor(ms / HOUR)} h ago`;
  return `${Math.floor(ms / DAY)} days ago`;
}

/**
 * Milliseconds until `formatAge(ms)` reads differently: the displayed precision decides how
 * often an age needs redrawing (every minute for "5 min ago", every hour for "3 h ago", …).
 */
export function nextAgeChange(ms: number): number {
  if (!Number.isFinite(ms)) return Number.POSITIVE_INFINITY;
  if (ms < 0) return -ms;
  const step = ms < HOUR ? MINUTE : ms < 48 * HOUR ? HOUR : DAY;
  return step - (ms % step);
}

/** Splits text at spaces into lines of at most `width` characters (a longer word gets a line of its own). */
export function wrapWords(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) { out.push(line); line = word; } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') out.push(line);
  return out;
}
