/**
 * The node flags every launcher of the engine gives (issue 16: peak RSS ≤ 64 MB at 200,000 files):
 * the CLI's shebang (scripts/build.mjs), the extension's spawn of dist/engine.js, the scheduled
 * jobs (jobCommand), the detached purge, and the benchmark through the shebang. Node reads V8's
 * flags only at start: set from inside the process they change nothing or crash V8.
 *
 * Why: most of the engine's resident memory beyond node itself is not data (the V8 heap stays
 * under 13 MB at 200,000 files) but V8's optimizing compiler on its background threads: glibc
 * gives each such thread its own malloc arena, and what the compiler touched there stays
 * resident. The figures that chose the flag are in BENCHMARKS.md ("Issue 16 at 200,000 files").
 * Every flag here must be accepted by every node that runs the engine (Node ≥ 20, VS Code's
 * Electron as node): an unknown flag stops node before the engine starts.
 */
export const ENGINE_NODE_FLAGS: readonly string[] = ['--no-concurrent-recompilation'];

/**
 * The first line of dist/cli.js. `env -S` splits the flags off the interpreter's name, which the
 * kernel passes as one word (GNU coreutils ≥ 8.30, macOS and the BSDs; npm's Windows shims read
 * `-S` too and put the flags on their node command line).
 */
export function engineShebang(flags: readonly string[] = ENGINE_NODE_FLAGS): string {
  return flags.length === 0 ? '#!/usr/bin/env node' : `#!/usr/bin/env -S node ${flags.join(' ')}`;
}
