// locateRsync reads the version with the one parser of src/core/rsyncVersion.ts: the real rsync is
// found and named x.y.z; programs that print another version line (written to a temp folder,
// removed afterwards) are refused with what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locateRsync } from '../../../src/platform/rsyncTool';
import { formatRsyncVersion, parseRsyncVersion } from '../../../src/core/rsyncVersion';
import { run } from '../../../src/platform/runner';

test('the real rsync: its version as x.y.z, the same as the parser reads from its output', async () => {
  const tool = await locateRsync(undefined);
  const output = (await run(tool.path, ['--version'])).stdout;
  assert.equal(tool.version, formatRsyncVersion(parseRsyncVersion(output)!));
  assert.match(tool.version, /^[0-9]+\.[0-9]+\.[0-9]+$/);
});

test('openrsync, an old rsync, a huge or missing version: refused, saying why', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'shadow-slots-rsynctool-'));
  try {
    const fake = async (name: string, firstLine: string) => {
      const file = join(dir, name);
      await writeFile(file, `#!/bin/sh\nprintf '%s\\n' '${firstLine}'\n`);
      await chmod(file, 0o755);
      return file;
    };
    await assert.rejects(locateRsync(await fake('openrsync', 'openrsync: protocol version 29')), /does not look like rsync/);
    await assert.rejects(locateRsync(await fake('none', 'hello')), /does not look like rsync/);
    await assert.rejects(locateRsync(await fake('huge', 'rsync  version 123456.0.0  protocol version 31')), /does not look like rsync/);
    await assert.rejects(locateRsync(await fake('old', 'rsync  version 2.6.9  protocol version 29')), (e: Error & { hint?: string }) => /rsync 2\.6\.9 .* is too old; Shadow Slots needs 3\.1\.0 or newer/.test(e.message) && /brew install rsync/.test(e.hint ?? ''));
    await assert.rejects(locateRsync(await fake('old3', 'rsync  version 3.0.9  protocol version 30')), /too old/);
    assert.equal((await locateRsync(await fake('pre', 'rsync  version 3.4.0pre1  protocol version 32'))).version, '3.4.0');
    assert.equal((await locateRsync(await fake('two', 'rsync  version 3.4'))).version, '3.4.0');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
