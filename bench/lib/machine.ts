import { cpus } from 'node:os';
import { run } from '../../src/platform/runner';

/** The machine a result was measured on, as BENCHMARKS.md records it. */
export async function describeMachine(workDir: string): Promise<Record<string, string>> {
  const out = async (cmd: string, argv: string[]): Promise<string> => {
    try { return (await run(cmd, argv)).stdout.trimEnd(); } catch (e) { return `(${cmd} failed: ${String(e).split('\n')[0]})`; }
  };
  return {
    cpu: `${cpus()[0]?.model ?? '?'}`,
    nproc: await out('nproc', []),
    'free -h': await out('free', ['-h']),
    'df -h (work dir)': await out('df', ['-h', workDir]),
    'work dir file system': await out('findmnt', ['-n', '-o', 'FSTYPE,OPTIONS', '-T', workDir]),
    kernel: await out('uname', ['-sr']),
    rsync: (await out('rsync', ['--version'])).split('\n')[0] ?? '',
    rsnapshot: (await out('dpkg-query', ['-W', '-f', '${Version}', 'rsnapshot'])),
    'btrfs-progs': (await out('btrfs', ['--version'])).split('\n')[0] ?? '',
    node: process.version,
  };
}
