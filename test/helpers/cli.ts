import { join } from 'node:path';
import { run } from '../../src/platform/runner';

export const repoRoot = join(__dirname, '..', '..');
export const cliPath = join(repoRoot, 'dist', 'cli.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Parsed JSON lines of stdout (for --json output). */
  events: Array<Record<string, unknown>>;
}

/** Runs the bundled CLI (built by `npm test` before the suites) with argv, never a shell. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const result = await run(process.execPath, [cliPath, ...args], { env, okExitCodes: Array.from({ length: 256 }, (_, i) => i), maxBuffer: 16 * 1024 * 1024 }).catch((error: { exitCode?: number | null; stderrTail?: string }) => ({
    exitCode: error.exitCode ?? 137, stdout: '', stderr: error.stderrTail ?? String(error),
  }));
  const events: Array<Record<string, unknown>> = [];
  for (const line of result.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try { events.push(JSON.parse(line) as Record<string, unknown>); } catch { /* human output */ }
  }
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr, events };
}
