// The real-VS-Code suite of `npm test` (test/run.mjs runs this script and reads its summary):
//   1. `npm run package` builds the .vsix exactly as users get it; its file list is checked;
//   2. that .vsix is installed into code-server (VS Code 1.139 from the npm registry);
//   3. the mocha suite (suite/*.test.ts) runs INSIDE the real extension host, started through the
//      smoke-test-driver payload, against the real engine and rsync;
//   4. a Playwright UI test drives the workbench in headless Chromium (ui.mjs).
// Writes {"passed","failed","skipped","note"} to $SHADOW_SLOTS_SUMMARY. Without code-server or
// chromium every test is reported as skipped with the reason (scripts/ci/install-vscode-deps.sh
// installs them). Every process and folder it creates is removed, also when a test fails.
import { existsSync } from 'node:fs';
import { copyFile, readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { format } from 'node:util';
import { deps, missingDeps, root, Run } from './harness.mjs';
import { zipEntries } from './zip.mjs';
import { buildSuite } from './buildSuite.mjs';
import { uiTest, UI_TESTS, slowRsyncPath } from './ui.mjs';
import { scheduleUiTest, SCHEDULE_UI_TESTS } from './scheduleUi.mjs';
import { slotActionsUiTest, SLOT_ACTIONS_UI_TESTS } from './slotActionsUi.mjs';

const outDir = join(root, '.test-output');
const started = Date.now();
const counts = { passed: 0, failed: 0, skipped: 0 };
const notes = [];

function pass(name, ms) { counts.passed++; console.log(`  ✔ ${name}${ms !== undefined ? ` (${ms} ms)` : ''}`); }
function fail(name, error) { counts.failed++; console.log(`  ✖ ${name}\n${String(error?.stack ?? error).replace(/^/gm, '      ')}`); }

async function check(name, fn) {
  const t = Date.now();
  try { const r = await fn(); pass(name, Date.now() - t); return r; } catch (error) { fail(name, error); return undefined; }
}

async function suiteTestCount() {
  const dir = join(root, 'test/vscode/suite');
  let n = 0;
  for (const f of (await readdir(dir)).filter((x) => x.endsWith('.test.ts'))) n += ((await readFile(join(dir, f), 'utf8')).match(/^\s*it\(/gm) ?? []).length;
  return n;
}

async function writeSummary() {
  const note = notes.join('; ');
  const summary = JSON.stringify({ ...counts, note: `${note}${note ? '; ' : ''}${((Date.now() - started) / 1000).toFixed(0)} s` });
  if (process.env.SHADOW_SLOTS_SUMMARY) await writeFile(process.env.SHADOW_SLOTS_SUMMARY, summary);
  console.log(`vscode: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
}

const mochaCount = await suiteTestCount();
const total = 3 + mochaCount + UI_TESTS + SLOT_ACTIONS_UI_TESTS + SCHEDULE_UI_TESTS;
const why = missingDeps();
if (why) {
  counts.skipped = total;
  notes.push(`skipped: ${why}`);
  console.log(`  - ${total} tests skipped: ${why}`);
  await writeSummary();
  process.exit(0);
}

const run = new Run();
const onSignal = () => { void run.cleanup().then(() => process.exit(130)); };
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
try {
  await mkdir(outDir, { recursive: true });
  const vsix = join(await run.folder('vsix'), 'shadow-slots.vsix');
  const packaged = await check('npm run package builds a .vsix with only the bundles, manifest and icons', async () => {
    await run.exec('npm', ['run', '--silent', 'package', '--', '--out', vsix]);
    const names = await zipEntries(vsix);
    const files = names.filter((n) => n.startsWith('extension/')).map((n) => n.slice('extension/'.length));
    // The Windows scripts too: Set Up Elevated Helper installs them from the extension's dist/windows.
    for (const required of ['package.json', 'dist/extension.js', 'dist/engine.js', 'dist/cli.js', 'dist/windows/helper.ps1', 'dist/windows/install.ps1', 'media/icon.png', 'media/slots.svg']) {
      if (!files.includes(required)) throw new Error(`${required} is missing from the .vsix: ${files.join(', ')}`);
    }
    const forbidden = files.filter((f) => /^(src|test|scripts|bench|node_modules|\.ci|\.vscode|\.test-output|out)\//.test(f)
      || /\.(ts|map|mjs|tsbuildinfo)$/.test(f) || /(^|\/)(tsconfig|eslint\.config|\.vscode-test)/.test(f) || f.endsWith('.vsix'));
    if (forbidden.length > 0) throw new Error(`the .vsix holds files users must not get: ${forbidden.join(', ')}`);
    notes.push(`vsix: ${files.length} files`);
    return true;
  });
  let extensionsDir;
  let extensionDir;
  const env = await run.isolatedEnv();
  const userDataDir = await run.folder('user-data');
  const installed = packaged && await check('code-server installs that .vsix; its bundle is the minified production build', async () => {
    extensionsDir = await run.folder('extensions');
    await run.exec(deps.node24, [deps.codeServer, '--install-extension', vsix, '--extensions-dir', extensionsDir, '--user-data-dir', userDataDir], { env });
    const dir = (await readdir(extensionsDir)).find((d) => d.startsWith('shadow-slots.shadow-slots-'));
    if (!dir) throw new Error(`the .vsix did not install: ${(await readdir(extensionsDir)).join(', ')}`);
    extensionDir = join(extensionsDir, dir);
    const bundle = await readFile(join(extensionDir, 'dist/extension.js'), 'utf8');
    if (/\n {4}/.test(bundle.slice(0, 20000)) || existsSync(join(extensionDir, 'dist/extension.js.map'))) throw new Error('the installed bundle is not the minified production build');
    return true;
  });

  if (!installed) {
    counts.failed += mochaCount + UI_TESTS + SCHEDULE_UI_TESTS;
    notes.push('the .vsix could not be built or installed, so nothing ran in VS Code');
  } else {
    await run.userSettings(userDataDir);

    const mochaWorkspace = await run.folder('ws-mocha');
    const mochaResult = join(await run.tempRoot(), 'mocha-result.json');
    const suiteDir = await buildSuite(await run.folder('suite'));
    // The remote-ring test (suite/remoteRing.test.ts) starts its own sshd and writes the client
    // config for it here: the engine is started by the extension and takes its environment from
    // code-server, before any test runs. The file does not exist until that test writes it.
    const sshConfig = join(await run.folder('ssh'), 'ssh_config');
    const server = await run.startCodeServer({ userDataDir, extensionsDir, folder: mochaWorkspace, smokeTestDriver: true, env: { SHADOW_SLOTS_MOCHA_RESULT: mochaResult, SHADOW_SLOTS_SSH_CONFIG: sshConfig, SHADOW_SLOTS_SSH_BATCH: '1' } });
    const browser = await run.launchBrowser();

    // Mocha inside the extension host: the workbench loads the tests from the payload and reports
    // through the functions exposed here, like @vscode/test-electron does on a desktop.
    const mochaStart = Date.now();
    const page = await browser.newPage();
    const log = [];
    const exitCode = new Promise((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code) => resolve(code));
    });
    // The extension host forwards console calls unformatted (mocha's spec reporter uses %s / %d).
    await page.exposeFunction('codeAutomationLog', (type, args) => { log.push(`[${type}] ${format(...(Array.isArray(args) ? args : [args]))}`); });
    const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
    const payload = JSON.stringify([['extensionDevelopmentPath', remote(extensionDir)], ['extensionTestsPath', remote(join(suiteDir, 'index.js'))]]);
    await page.goto(`${server.url}/?folder=${encodeURIComponent(mochaWorkspace)}&payload=${encodeURIComponent(payload)}`);
    const code = await Promise.race([exitCode, new Promise((resolve) => setTimeout(() => resolve('timeout'), 240_000))]);
    await page.close();
    const result = existsSync(mochaResult) ? JSON.parse(await readFile(mochaResult, 'utf8')) : undefined;
    console.log(log.join('\n').split('\n').filter((l) => /✔|✓|passing|failing|pending|\d+\)|Error|assert/i.test(l)).slice(0, 200).join('\n'));
    if (result) {
      counts.passed += result.passed; counts.failed += result.failed; counts.skipped += result.skipped;
      for (const f of result.failures) console.log(`  ✖ (in VS Code) ${f.title}\n${f.error.replace(/^/gm, '      ')}`);
      notes.push(`mocha in the extension host: ${result.passed}/${mochaCount} passed in ${((Date.now() - mochaStart) / 1000).toFixed(1)} s`);
      if (result.passed + result.failed + result.skipped !== mochaCount) { counts.failed++; notes.push(`expected ${mochaCount} mocha tests, ran ${result.passed + result.failed + result.skipped}`); }
    } else {
      counts.failed += mochaCount;
      notes.push(`the mocha suite did not report (exit ${code}); extension host log in .test-output/vscode-mocha.log`);
    }
    await writeFile(join(outDir, 'vscode-mocha.log'), `${log.join('\n')}\n\n--- code-server ---\n${server.output()}`);
    if (code !== 0 && result && result.failed === 0) { counts.failed++; notes.push(`the workbench exited with ${code}`); }

    // The UI test: a person's view of the same installed extension, in a fresh workbench (a window
    // that ran an extension-development session does not show the installed extension's views).
    await server.stop();
    const uiUserData = await run.folder('user-data-ui');
    const uiTools = await run.folder('tools');
    // rsyncPath is machine-scoped (a workspace must not choose the program the elevated helper runs): a user setting.
    await run.userSettings(uiUserData, { 'shadowSlots.rsyncPath': slowRsyncPath(uiTools) });
    // Schedules the wizard registers keep their profile and registry in this folder, never in ~/.config.
    const scheduleConfig = await run.folder('schedule-config');
    const uiServer = await run.startCodeServer({ userDataDir: uiUserData, extensionsDir, folder: await run.folder('ws-ui'), env: { SHADOW_SLOTS_CONFIG_DIR: scheduleConfig } });
    const uiWorkspace = await run.folder('ws-ui');
    const uiTarget = join(await run.tempRoot(), 'ui-target');
    const ui = await uiTest({ browser, url: uiServer.url, workspace: uiWorkspace, target: uiTarget, tools: uiTools, outDir });
    for (const r of ui.results) { if (r.error) fail(r.name, r.error); else pass(r.name, r.ms); }
    // The slot actions (issue 18) continue in the same window, on the ring the journeys above made.
    const actions = await slotActionsUiTest({ page: ui.page, workspace: uiWorkspace, target: uiTarget, tools: uiTools, outDir });
    for (const r of actions) { if (r.error) fail(r.name, r.error); else pass(r.name, r.ms); }
    // The schedule journeys continue in the same window (a second window would start a second extension host).
    const scheduleUi = await scheduleUiTest({ page: ui.page, workspace: uiWorkspace, outDir, configDir: scheduleConfig, cli: join(extensionDir, 'dist/cli.js'), registerCleanup: (fn) => run.cleanups.push(fn) });
    for (const r of scheduleUi) { if (r.error) fail(r.name, r.error); else pass(r.name, r.ms); }
    await keepExtensionLog(uiUserData, join(outDir, 'vscode-ui-extension.log'));
    await writeFile(join(outDir, 'vscode-ui-server.log'), uiServer.output());
  }
} catch (error) {
  fail('the real-VS-Code harness', error);
} finally {
  const tempRoot = run.dir;
  await run.cleanup();
  // The harness's own promise: nothing it started outlives it (code-server's watcher children,
  // the extension host, the engine, chromium) and its folder is gone.
  if (tempRoot) {
    const left = await leftovers(tempRoot);
    if (left.length > 0 || existsSync(tempRoot)) fail('every process the harness started is stopped and its folder removed', new Error(`${existsSync(tempRoot) ? `${tempRoot} still exists; ` : ''}still running: ${left.join('; ')}`));
    else pass('every process the harness started is stopped and its folder removed');
  }
  await writeSummary();
}

/** Processes whose command line or environment mentions the run's folder. */
async function leftovers(tempRoot) {
  const found = [];
  for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)) {
    try {
      const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
      if (cmd.includes(tempRoot) || environ.includes(`SHADOW_SLOTS_E2E_ROOT=${tempRoot}`)) found.push(`${pid} ${cmd.slice(0, 120)}`);
    } catch { /* exited meanwhile */ }
  }
  return found;
}
process.exit(counts.failed > 0 ? 1 : 0);

/** The extension's own log of the UI journeys (its "Shadow Slots" output channel): what the engine said when a journey saw nothing. */
async function keepExtensionLog(userDataDir, to) {
  const logs = (await readdir(join(userDataDir, 'logs'), { recursive: true }).catch(() => [])).filter((f) => f.endsWith('Shadow Slots.log'));
  if (logs.length > 0) await copyFile(join(userDataDir, 'logs', logs.sort().at(-1)), to).catch(() => undefined);
}
