/** Numbers as the editor shows them: "12,345" and "1.2 GB" (decimal units, like file managers). */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

const UNITS = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) { v /= 1000; u++; }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${UNITS[u]}`;
}
