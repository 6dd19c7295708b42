/** How `history` and `find` write slots and times (as `list` does: UTC, minutes). */

/** `0`, `3–5`, `0, 3–5, 9`: slot numbers (ascending) as runs. */
export function slotRuns(numbers: readonly number[]): string {
  const runs: Array<[number, number]> = [];
  for (const n of numbers) {
    const last = runs.at(-1);
    if (last && last[1] === n - 1) last[1] = n; else runs.push([n, n]);
  }
  return runs.map(([a, b]) => (a === b ? String(a) : `${a}\u2013${b}`)).join(', ');
}

/** `2026-11-25 23:30` from an ISO time; `?` when unknown. */
export function utcMinutes(iso: string | null): string {
  return iso ? iso.replace('T', ' ').slice(0, 16) : '?';
}
