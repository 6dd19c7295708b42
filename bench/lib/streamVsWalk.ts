import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { buildRsyncArgv } from '../../src/core/rsyncArgs';
import { LineSplitter } from '../../src/core/rsyncOutput';
import { SlotRecorder } from '../../src/core/slotRecord';
import { parseListedLine } from '../../src/core/rsyncOutput';
import { BatchedWriter } from '../../src/platform/batchedWriter';
import { run } from '../../src/platform/runner';
import { playDraft, SyncLineReader } from '../../src/platform/slotDraft';
import { hashSlotEntry, writeSlotSums } from '../../src/platform/treeSums';
import { runCounted } from './contenders';
import { median } from './stats';

export interface Timing { medianMs: number; cpuMs: number; samples: number[] }

/**
 * Scenario 6: what finalize costs per slot, rsync's list against the walk it replaced, on the same
 * new slot and the same previous checksum list, alternating; and what `-ii` costs rsync.
 */
export interface StreamVsWalk {
  samples: number;
  /** SlotRecorder fed with rsync's lines (in a backup: while rsync copies) + playDraft (after `complete`). */
  stream: Timing & { mergeMs: number; afterMs: number };
  /** writeSlotSums: walk the slot, reuse hashes by inode (the fallback, and finalize before issue 16). */
  walk: Timing;
  rsyncListed: Timing;
  rsyncPlain: Timing;
}

const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;

/**
 * Runs `samples` rounds: rsync into a fresh folder with and without `-ii` (link-dest = the
 * previous slot), then on the listed copy both ways of recording its checksums, in alternating
 * order. The previous list must be format 2 (a slot the engine recorded).
 */
export async function measureStreamVsWalk(o: { source: string; previousSlot: string; previousSums: string; work: string; samples: number; signal: AbortSignal }): Promise<StreamVsWalk> {
  const stream: number[] = [];
  const merge: number[] = [];
  const after: number[] = [];
  const streamCpu: number[] = [];
  const walk: number[] = [];
  const walkCpu: number[] = [];
  const listed: number[] = [];
  const listedCpu: number[] = [];
  const plain: number[] = [];
  const plainCpu: number[] = [];
  await mkdir(o.work, { recursive: true });
  const argv = (destination: string, listUnchanged: boolean): string[] => buildRsyncArgv({ source: o.source, destination, linkDest: o.previousSlot, excludes: ['/.shadow-slots-snapshots/'], extraArgs: [], timePrecision: 'nanoseconds', progress: true, listUnchanged });
  for (let i = 0; i < o.samples; i++) {
    const dest = join(o.work, `listed-${i}`);
    const plainDest = join(o.work, `plain-${i}`);
    const lines: string[] = [];
    const rsyncRun = async (listUnchanged: boolean): Promise<void> => {
      await run('sync', [], { signal: o.signal });
      const splitter = new LineSplitter();
      const cpu = { ms: 0 as number | undefined };
      const t = performance.now();
      await runCounted('rsync', argv(listUnchanged ? dest : plainDest, listUnchanged), {
        signal: o.signal,
        onStdout: (chunk) => splitter.push(chunk, (line, end) => { if (listUnchanged && end === '\n') lines.push(line); }),
      }, cpu);
      (listUnchanged ? listed : plain).push(performance.now() - t);
      (listUnchanged ? listedCpu : plainCpu).push(cpu.ms ?? Number.NaN);
    };
    if (i % 2 === 0) { await rsyncRun(true); await rsyncRun(false); } else { await rsyncRun(false); await rsyncRun(true); }
    await run('rm', ['-rf', '--', plainDest], { signal: o.signal });

    const byStream = async (): Promise<void> => {
      const draft = join(o.work, 'draft');
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const writer = await BatchedWriter.open(draft, 'write');
      const reader = new SyncLineReader(o.previousSums);
      const recorder = new SlotRecorder(reader, false, (l) => writer.append(l));
      for (const line of lines) {
        const e = parseListedLine(line);
        if (e) recorder.add(e);
      }
      recorder.end();
      reader.close();
      await writer.close();
      const t1 = performance.now();
      await playDraft({ draft, previousSums: o.previousSums, sumsFile: join(o.work, 'stream.tsv'), changeLog: join(o.work, 'stream.log'), hashEntry: (p, k) => hashSlotEntry(dest, p, k) });
      const t2 = performance.now();
      merge.push(t1 - t0);
      after.push(t2 - t1);
      stream.push(t2 - t0);
      streamCpu.push(cpuMs(process.cpuUsage(c0)));
    };
    const byWalk = async (): Promise<void> => {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await writeSlotSums(dest, join(o.work, 'walk.tsv'), o.previousSums, o.signal, () => undefined);
      walk.push(performance.now() - t0);
      walkCpu.push(cpuMs(process.cpuUsage(c0)));
    };
    await run('sync', [], { signal: o.signal });
    if (i % 2 === 0) { await byStream(); await byWalk(); } else { await byWalk(); await byStream(); }
    await run('rm', ['-rf', '--', dest], { signal: o.signal });
  }
  const timing = (wall: number[], cpu: number[]): Timing => ({ medianMs: median(wall), cpuMs: median(cpu), samples: wall });
  return {
    samples: o.samples,
    stream: { ...timing(stream, streamCpu), mergeMs: median(merge), afterMs: median(after) },
    walk: timing(walk, walkCpu),
    rsyncListed: timing(listed, listedCpu),
    rsyncPlain: timing(plain, plainCpu),
  };
}
