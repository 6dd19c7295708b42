/**
 * The node flags every launcher of the engine gives (issue 16: peak RSS ≤ 64 MB at 200,000 files):
 * the CLI's shebang (scripts/build.mjs), the extension's spawn of dist/engine.js, the scheduled
 * jobs (jobCommand), the detached purge, and the benchmark through the shebang. Node reads V8's
 * flags only at start: set from inside the process they change nothing or crash V8.
 *
 * Why: most of the engine's resident memory beyond node itself is not data (the V8 heap stays
 * under 13 MB at 200,000 files) but V8's optimizing compiler on its background threads: glibc
 * gives each such thread its own malloc arena, and what the compiler touched there stays
 * resident. `--no-concurrent-recompilation` has V8 optimize on the main thread instead. Measured
 * at 200,000 files (BENCHMARKS.md, "Issue 16 at 200,000 files", 2026-12-04, 3 alternated runs
 * each): peak RSS 60.4–60.7 MB against 63.6–64.8 MB without, engine CPU 2.6–3.2 s against
 * 2.7–3.1 s, wall time within the noise. Not chosen: `--max-opt=1` (55.5 MB, but 3.9–4.1 s of
 * CPU); `--single-threaded` (60.5 MB, but the longest run of every round, 36–54 s against
 * 30–40 s); `--v8-pool-size=1` (60.7 MB, but it sizes node's own V8 platform, which VS Code's
 * Electron replaces by its own, as read in Electron's node_main.cc, not measured; a V8 flag such
 * as this one is applied by V8 whoever embeds it). Every flag here must be accepted by every node
 * that runs the engine (Node ≥ 20, VS Code's Electron as node): an unknown flag stops node before
 * the engine starts.
 */
export const ENGINE_NODE_FLAGS: readonly string[] = ['--no-concurrent-recompilation'];

/**
 * The first line of dist/cli.js. `env -S` splits the flags off the interpreter's name, which Linux
 * passes as one word: GNU coreutils ≥ 8.30 (Debian 10, Ubuntu 20.04, RHEL 8 and later), macOS and
 * FreeBSD have it, and npm's Windows shims (cmd-shim) read `-S` and put the flags on their node
 * command line. BusyBox's env (Alpine), OpenBSD's and NetBSD's do not: there `node <flags> cli.js`
 * starts the CLI. A re-exec from inside node would work everywhere but starts node twice (about
 * 0.25 s more per run, measured in BENCHMARKS.md) and keeps the first one resident meanwhile.
 */
export function engineShebang(flags: readonly string[] = ENGINE_NODE_FLAGS): string {
  return flags.length === 0 ? '#!/usr/bin/env node' : `#!/usr/bin/env -S node ${flags.join(' ')}`;
}
