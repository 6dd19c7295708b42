/** Turns the measurements into the printed summary, the targets' verdicts and the markdown tables. */
import type { Measure } from './contenders';
import type { ListingResult } from './listing';
import type { SshResult } from './sshScenario';
import { formatMs, formatNumber, median, ratio, verdict, type TargetCheck } from './stats';

export const ALL = ['raw', 'rsnapshot', 'shadow-slots', 'shadow-slots-btrfs'] as const;
export type Name = (typeof ALL)[number];

export interface ReportContext { wanted: readonly Name[]; quick: boolean; rounds: number; seed: number }

/** Results of one contender in one scenario at one size. */
export interface Series { valid: Measure[]; invalid: string[] }
export type ScenarioKey = 's1' | 's2' | 's3';
export type SizeResults = Record<ScenarioKey, Partial<Record<Name, Series>>> & {
  seedMs: Partial<Record<Name, number>>; files: number; bytes: number; notRun: Partial<Record<Name, string>>;
  /** 1-minute load average at the start and the end: other work on the machine skews wall times. */
  load: [number, number];
  sourceFs: string; targetFs: string;
};

const med = (s: Series | undefined, f: (m: Measure) => number | undefined = (m) => m.toCompleteMs): number =>
  s && s.valid.length > 0 ? median(s.valid.map((m) => f(m) ?? Number.NaN)) : Number.NaN;

function cell(s: Series | undefined, notRun: string | undefined): string {
  if (notRun) return 'not run';
  if (!s) return 'n/a';
  const inv = s.invalid.length ? ` (${s.invalid.length} invalid)` : '';
  return `${formatMs(med(s))}${inv}`;
}

export function sizeLabel(n: number): string { return n >= 1000 ? `${Math.round(n / 1000)}k` : String(n); }

export interface Report { lines: string[]; targets: TargetCheck[]; primary: TargetCheck[] }

/** The one-line-per-scenario summary and every target's verdict, from the measurements. */
/** S6 as asked for: its result, why it did not run, or undefined when it was not asked for (`--ssh`). */
export type SshOutcome = SshResult | string | undefined;

export function report(all: SizeResults[], listing: ListingResult | string, ctx: ReportContext, ssh?: SshOutcome): Report {
  const { wanted } = ctx;
  const lines: string[] = [];
  const targets: TargetCheck[] = [];
  const primary: TargetCheck[] = [];
  const cells = (r: SizeResults, key: ScenarioKey): string => wanted.map((n) => `${n} ${cell(r[key][n], r.notRun[n])}`).join(' | ');
  for (const r of all) {
    const L = sizeLabel(r.files);
    const s1 = (n: Name): number => med(r.s1[n]);
    const s2 = (n: Name): number => med(r.s2[n]);
    const s3 = (n: Name): number => med(r.s3[n]);
    for (const ss of ['shadow-slots', 'shadow-slots-btrfs'] as const) {
      if (!wanted.includes(ss)) continue;
      const main = ss === 'shadow-slots';
      const a: TargetCheck = { name: `S1 ${L} ${ss}/raw`, measured: ratio(s1(ss), s1('raw')), limit: 1.05, op: 'le', unit: '' };
      const b: TargetCheck = { name: `S1 ${L} ${ss}/rsnapshot`, measured: ratio(s1(ss), s1('rsnapshot')), limit: 0.75, op: 'le', unit: '' };
      const c: TargetCheck = { name: `S2 ${L} ${ss} S2/S1`, measured: ratio(s2(ss), s1(ss)), limit: 1.05, op: 'le', unit: '' };
      const d: TargetCheck = { name: `S2 ${L} ${ss}/raw S2`, measured: ratio(s2(ss), s2('raw')), limit: 1, op: 'lt', unit: '' };
      targets.push(a, b, c, d);
      if (main) primary.push(a, b, c, d);
    }
    const p = primary.filter((t) => t.name.includes(` ${L} `));
    const tail = (key: string): string => p.filter((t) => t.name.startsWith(key)).map((t) => `${t.name.replace(`${key} ${L} `, '')} ${formatNumber(t.measured)} ${verdict(t)}`).join(', ');
    lines.push(`S1 incremental 1% ${L} files, ring not full: ${cells(r, 's1')} → ${tail('S1') || 'no shadow-slots ratio'}`);
    lines.push(`S2 incremental 1% ${L} files, full ring (time to slot 0): ${cells(r, 's2')} → ${tail('S2') || 'no shadow-slots ratio'}`);
    lines.push(`S3 no change ${L} files: ${cells(r, 's3')} → shadow-slots/raw ${formatNumber(ratio(s3('shadow-slots'), s3('raw')))}`);
  }
  // Scenario 4 at the largest size measured (200k in a full run).
  const big = all[all.length - 1];
  if (big) {
    const rssMb = med(big.s1['shadow-slots'], (m) => m.peakRssKb) / 1024;
    const worst = big.s1['shadow-slots']?.valid.reduce((mx, m) => Math.max(mx, m.peakRssKb ?? 0), 0) ?? Number.NaN;
    const t: TargetCheck = { name: `S4 ${sizeLabel(big.files)} peak RSS`, measured: worst / 1024, limit: 100, op: 'le', unit: ' MB' };
    targets.push(t); primary.push(t);
    lines.push(`S4 engine peak RSS during S1, ${sizeLabel(big.files)} files: median ${formatNumber(rssMb)} MB, max ${formatNumber(worst / 1024)} MB → max/100 MB ${formatNumber(ratio(worst / 1024, 100))} ${verdict(t)}`);
  }
  const lm = typeof listing === 'string' ? Number.NaN : listing.medianMs;
  const t5: TargetCheck = { name: 'S5 listing 10,000 entries', measured: lm, limit: 150, op: 'le', unit: ' ms' };
  targets.push(t5); primary.push(t5);
  lines.push(typeof listing === 'string'
    ? `S5 listing a slot folder of 10,000 entries: not run (${listing}) → NOT RUN`
    : `S5 listing a slot folder of ${listing.entries} entries (listSlotDirectory): median ${formatNumber(listing.medianMs)} ms, first call ${formatNumber(listing.firstMs)} ms → /150 ms ${formatNumber(ratio(listing.medianMs, 150))} ${verdict(t5)}`);
  if (ssh !== undefined) {
    // Not primary: loopback SSH on a shared machine is noisier than the local scenarios.
    const t6: TargetCheck = { name: `S6 ${typeof ssh === 'string' ? '' : `${sizeLabel(ssh.files)} `}over SSH shadow-slots/raw`, measured: typeof ssh === 'string' ? Number.NaN : ssh.medianRatio, limit: 1.10, op: 'le', unit: '' };
    targets.push(t6);
    lines.push(typeof ssh === 'string'
      ? `S6 over loopback SSH: not run (${ssh}) → NOT RUN`
      : `S6 incremental 1% ${sizeLabel(ssh.files)} files over loopback SSH, ring not full: shadow-slots ${formatMs(median(ssh.pairs.map((p) => p.ours.toCompleteMs)))} | raw over ssh ${formatMs(median(ssh.pairs.map((p) => p.raw.toCompleteMs)))}${ssh.invalid.length ? ` (${ssh.invalid.length} invalid)` : ''} → per-pair ratios ${ssh.pairs.map((p) => formatNumber(p.ratio)).join(', ')}; median ${formatNumber(ssh.medianRatio)} ${verdict(t6)} (whole process ${formatNumber(ssh.medianTotalRatio)})`);
  }
  return { lines, targets, primary };
}

/** The tables of `bench/.work/results/*-latest.md`, as pasted into BENCHMARKS.md. */
export function markdown(all: SizeResults[], listing: ListingResult | string, machine: Record<string, string>, rep: Report, ctx: ReportContext, ssh?: SshOutcome): string {
  const { wanted, quick, rounds, seed } = ctx;
  const out: string[] = [];
  out.push(`Run: ${new Date().toISOString()}, ${quick ? 'quick' : 'full'}, ${rounds} rounds per scenario, seed ${seed}, contenders in alternating order; times are medians of the runs whose slot passed the content check.`, '');
  out.push('| | ' + wanted.join(' | ') + ' |', '|---|' + wanted.map(() => '---:').join('|') + '|');
  for (const r of all) {
    const L = sizeLabel(r.files);
    out.push(`| seed (full copy) ${L} | ${wanted.map((n) => (r.notRun[n] ? 'not run' : formatMs(r.seedMs[n] ?? Number.NaN))).join(' | ')} |`);
    for (const [key, label] of [['s1', 'S1 1 % changed, ring not full'], ['s2', 'S2 1 % changed, full ring (to slot 0)'], ['s3', 'S3 no change']] as const) {
      out.push(`| ${label} ${L} | ${wanted.map((n) => cell(r[key][n], r.notRun[n])).join(' | ')} |`);
    }
    for (const [key, label] of [['s1', 'S1'], ['s2', 'S2'], ['s3', 'S3']] as const) {
      out.push(`| ${label} CPU user+sys ${L} | ${wanted.map((n) => (r.notRun[n] ? 'not run' : formatMs(med(r[key][n], (m) => m.cpuMs)))).join(' | ')} |`);
    }
    if (wanted.some((n) => n.startsWith('shadow-slots') && !r.notRun[n])) {
      out.push(`| S2 process total incl. drop ${L} | ${wanted.map((n) => (r.notRun[n] ? 'not run' : formatMs(med(r.s2[n], (m) => m.totalMs)))).join(' | ')} |`);
    }
  }
  out.push('', ...all.map((r) => `${sizeLabel(r.files)} files (${(r.bytes / 1024 ** 2).toFixed(0)} MB): source ${r.sourceFs}; targets ${r.targetFs}; load average ${r.load[0].toFixed(1)} at start, ${r.load[1].toFixed(1)} at end.`));
  out.push('', '| target | measured | limit | verdict |', '|---|---:|---:|---|');
  for (const t of rep.targets) out.push(`| ${t.name} | ${formatNumber(t.measured)}${t.unit} | ${t.op === 'le' ? '≤' : '<'} ${formatNumber(t.limit)}${t.unit} | ${verdict(t)} |`);
  if (ssh !== undefined && typeof ssh !== 'string') {
    out.push('', `S6 over loopback SSH, ${sizeLabel(ssh.files)} files, seed copy shadow-slots ${formatMs(ssh.seedMs.ours)}, raw ${formatMs(ssh.seedMs.raw)}; load average ${ssh.load[0].toFixed(1)} at start, ${ssh.load[1].toFixed(1)} at end.`, '',
      '| pair | first | shadow-slots to slot 0 | process | raw over ssh | ratio |', '|---|---|---:|---:|---:|---:|',
      ...ssh.pairs.map((p, i) => `| ${i + 1} | ${p.oursFirst ? 'shadow-slots' : 'raw'} | ${formatMs(p.ours.toCompleteMs)} | ${formatMs(p.ours.totalMs)} | ${formatMs(p.raw.toCompleteMs)} | ${formatNumber(p.ratio)} |`));
  }
  if (typeof listing !== 'string') out.push('', `S5: ${listing.entries} entries, median ${formatNumber(listing.medianMs)} ms over ${listing.samples} calls, first call ${formatNumber(listing.firstMs)} ms.`);
  const phases = all.flatMap((r) => (['shadow-slots', 'shadow-slots-btrfs'] as const).flatMap((n) => (['s1', 's2', 's3'] as const).map((k) => {
    const s = r[k][n];
    if (!s || s.valid.length === 0) return '';
    const keys = [...new Set(s.valid.flatMap((m) => Object.keys(m.phases ?? {})))];
    return `| ${n} ${k.toUpperCase()} ${sizeLabel(r.files)} | ${keys.map((p) => `${p} ${formatMs(median(s.valid.map((m) => m.phases?.[p] ?? 0)))}`).join(', ')} |`;
  }))).filter(Boolean);
  if (phases.length) out.push('', 'Engine time by phase (median, from the arrival of its progress events):', '', '| run | phases |', '|---|---|', ...phases);
  out.push('', 'Machine:', '', '```');
  for (const [k, v] of Object.entries(machine)) out.push(`${k}: ${v.includes('\n') ? `\n${v}` : v}`);
  out.push('```');
  return out.join('\n') + '\n';
}

