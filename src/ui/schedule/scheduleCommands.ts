import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as vscode from 'vscode';
import { describeError, invalid } from '../../core/errors';
import { type ProfileInput, validateProfile } from '../../core/profile';
import { scheduleIdFor } from '../../core/schedule/spec';
import { type ProfileChoice, ScheduleWizard, type SchedulerPlatform, type WizardResult } from '../../core/schedule/wizard';
import { formatLocal, localZone } from '../../core/schedule/zone';
import { findNodeOnPath, installStableCli } from '../../platform/schedule/engineInstall';
import { schedulePaths } from '../../platform/schedule/paths';
import { readRegistry, type ScheduleEntry } from '../../platform/schedule/registry';
import { runScheduleNow } from '../../platform/schedule/runNow';
import {
  createSchedule, detectPlatform, getSchedule, listSchedules, prepareSchedule, removeSchedule, type ScheduleContext, type ScheduleListing,
} from '../../platform/schedule/service';
import type { FeatureModule } from '../services';
import { profileFromSettings, readSettings, sourceFolder } from '../settings';
import { ScheduleCommands, ScheduleSettings } from './scheduleCommandIds';
import { ContextKeys } from '../commandIds';
import { listingsForTarget, scheduleNodeData, type ScheduleNodeData } from './scheduleNodes';
import { runScheduleWizard } from './scheduleWizardUi';

/** What the schedule feature needs from the rest of the extension (Services satisfies it). */
export interface ScheduleDeps {
  log?: vscode.LogOutputChannel;
  /** A listing is shared by everyone who asks for the same ring state (see `listings`). */
  ring?: { readonly generation: number };
}

/** What the Slots view uses to show schedules (a node per schedule under the ring). */
export interface ScheduleUiApi extends vscode.Disposable {
  schedulesFor(target: string): Promise<ScheduleNodeData[]>;
  /** Due runs of the ring at `target` that produced no slot (ISO times). */
  missedFor(target: string): Promise<string[]>;
  readonly onDidChange: vscode.Event<void>;
}

const ARTEFACT_LANGUAGE: Record<SchedulerPlatform, string> = { windows: 'xml', systemd: 'ini', cron: 'shellscript', launchd: 'xml' };
const PLATFORM_NAME: Record<SchedulerPlatform, string> = { windows: 'Task Scheduler', systemd: 'systemd', cron: 'cron', launchd: 'launchd' };
const MISSED_CHECK_MS = 60 * 60_000;
const SHARED_LISTING_MS = 5_000;

/** The profiles the wizard offers: the workspace's settings, then those of existing schedules. */
async function profileChoices(entries: ScheduleEntry[], platform: SchedulerPlatform): Promise<Array<ProfileChoice & { input: ProfileInput; scheduleId: string }>> {
  const flavor = platform === 'windows' ? 'win32' : 'posix';
  const out: Array<ProfileChoice & { input: ProfileInput; scheduleId: string }> = [];
  const folder = sourceFolder();
  if (folder) {
    const input = profileFromSettings(readSettings(folder.uri), folder.uri.fsPath);
    try {
      const { profile } = validateProfile(input, flavor);
      out.push({ id: 'workspace', label: `$(folder) ${folder.name}`, description: `workspace settings · ${profile.slots} slots on ${profile.target}`, target: profile.target, slots: profile.slots, input, scheduleId: scheduleIdFor(profile.name) });
    } catch { /* not configured yet: offered through the Configure Backup Target button instead */ }
  }
  for (const e of entries) {
    const input = JSON.parse(await readFile(e.profileFile, 'utf8').catch(() => '{}')) as ProfileInput;
    if (input.source === undefined) continue;
    out.push({ id: `schedule:${e.id}`, label: `$(calendar) ${e.profileName}`, description: `schedule ${e.id} · ${e.slots} slots on ${e.target}`, target: e.target, slots: e.slots, input, scheduleId: e.id });
  }
  return out;
}

function scheduleIdArg(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object') {
    const o = arg as { scheduleId?: unknown; id?: unknown };
    if (typeof o.scheduleId === 'string') return o.scheduleId;
    if (typeof o.id === 'string') return o.id;
  }
  return undefined;
}

/**
 * Registers the schedule commands (create/edit with the wizard, run now, delete, show) and a
 * periodic check that tells the user about missed runs. Call once from the composition root.
 */
export function registerScheduleCommands(context: vscode.ExtensionContext, deps: ScheduleDeps = {}): ScheduleUiApi {
  const changed = new vscode.EventEmitter<void>();
  const paths = schedulePaths();
  const log = (m: string) => deps.log?.info(`[schedule] ${m}`);

  /** Enough context to list and remove (neither writes a job command, so no engine is needed). */
  const readContext = (): ScheduleContext => ({ paths, engine: { node: '', cli: '' }, zone: localZone(), now: () => new Date(), userId: '' });

  // A ring change makes the Slots view and the status bar ask at once, and a listing starts one
  // scheduler query per schedule: they share it. A listing made before the ring changed is not
  // reused (its missed runs may be gone now), nor one made before the schedules changed.
  let shared: { generation: number | undefined; at: number; listing: Promise<ScheduleListing[]> } | undefined;
  const listings = (): Promise<ScheduleListing[]> => {
    const generation = deps.ring?.generation;
    if (shared && shared.generation === generation && Date.now() - shared.at < SHARED_LISTING_MS) return shared.listing;
    const mine = { generation, at: Date.now(), listing: listSchedules(readContext()) };
    mine.listing.catch(() => { if (shared === mine) shared = undefined; });
    shared = mine;
    return mine.listing;
  };
  // Edit, Run and Delete Schedule appear in the palette only while a schedule exists (package.json `when`).
  const updateContext = () => readRegistry(paths.registryFile).then(
    (entries) => vscode.commands.executeCommand('setContext', ContextKeys.hasSchedules, entries.length > 0),
    () => vscode.commands.executeCommand('setContext', ContextKeys.hasSchedules, false),
  );
  void updateContext();
  const announce = () => { shared = undefined; void updateContext(); changed.fire(); };

  async function platform(): Promise<SchedulerPlatform> {
    const chosen = vscode.workspace.getConfiguration().get<string>(ScheduleSettings.platform) ?? 'auto';
    return chosen === 'auto' ? detectPlatform() : chosen as SchedulerPlatform;
  }

  async function scheduleContext(): Promise<ScheduleContext> {
    const configured = (vscode.workspace.getConfiguration().get<string>(ScheduleSettings.nodePath) ?? '').trim();
    const node = configured !== '' ? configured : await findNodeOnPath();
    if (node === undefined) {
      throw invalid('No Node.js was found on PATH for the scheduled runs (VS Code\'s own runtime cannot be used outside the editor).', `Install Node.js 20 or later, or set "${ScheduleSettings.nodePath}".`);
    }
    const cli = await installStableCli(context.asAbsolutePath('dist/cli.js'), paths);
    const user = os.userInfo().username;
    return { paths, engine: { node, cli }, zone: localZone(), now: () => new Date(), userId: process.platform === 'win32' && process.env['USERDOMAIN'] ? `${process.env['USERDOMAIN']}\\${user}` : user };
  }

  async function wizard(existing: ScheduleEntry | undefined): Promise<void> {
    const ctx = await scheduleContext();
    const target = existing?.platform ?? await platform();
    const choices = await profileChoices(await readRegistry(paths.registryFile), target);
    if (choices.length === 0) {
      const configure = 'Configure Backup Target';
      if (await vscode.window.showWarningMessage('There is no backup profile to schedule yet: open a folder and configure a backup target first.', configure) === configure) {
        await vscode.commands.executeCommand('shadowSlots.configureTarget');
      }
      return;
    }
    const choiceOf = (r: WizardResult) => choices.find((c) => c.id === r.profileId)!;
    const render = (r: WizardResult) => {
      try {
        return prepareSchedule(choiceOf(r).input, r.spec, target, ctx).rendered;
      } catch (error) {
        return { artefacts: [{ name: 'error', text: `# This schedule cannot be registered:\n# ${describeError(error).replace(/\n/g, '\n# ')}` }], notes: [] };
      }
    };
    const w = new ScheduleWizard({
      now: ctx.now(), zone: ctx.zone, platform: target, profiles: choices,
      ...(existing ? { initial: { profileId: `schedule:${existing.id}`, spec: existing.spec } } : {}),
      renderArtefact: (r) => {
        const { artefacts } = render(r);
        return artefacts.map((a) => (artefacts.length > 1 ? `# ${a.name}\n${a.text}` : a.text)).join('\n\n');
      },
      platformNotes: (r) => render(r).notes,
    }, (p) => (existing ? existing.id : choices.find((c) => c.id === p.id)!.scheduleId));
    const result = await runScheduleWizard(w, { editing: existing !== undefined, artefactLanguage: ARTEFACT_LANGUAGE[target], platformName: PLATFORM_NAME[target] });
    if (!result) return;
    const prepared = prepareSchedule(choiceOf(result).input, result.spec, target, ctx);
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Registering the schedule with ${target}…` }, () => createSchedule(prepared, ctx));
    log(`registered ${prepared.entry.id} with ${target}: ${prepared.summary}`);
    announce();
    const runNow = 'Run Now';
    const answer = await vscode.window.showInformationMessage(`${existing ? 'Schedule updated' : 'Schedule created'}: ${prepared.summary}. Next run ${formatLocal(prepared.nextRun, ctx.zone)}.`, runNow);
    if (answer === runNow) await vscode.commands.executeCommand(ScheduleCommands.runNow, prepared.entry.id);
  }

  async function pickSchedule(arg: unknown, placeholder: string): Promise<ScheduleEntry | undefined> {
    const id = scheduleIdArg(arg);
    if (id !== undefined) return getSchedule(id, readContext());
    const entries = await readRegistry(paths.registryFile);
    if (entries.length === 0) {
      void vscode.window.showInformationMessage('There are no backup schedules yet.');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(entries.map((e) => ({ label: e.id, description: `${e.platform} · ${e.profileName} → ${e.target}`, entry: e })), { placeHolder: placeholder });
    return picked?.entry;
  }

  const guard = (fn: (arg: unknown) => Promise<void>) => async (arg: unknown) => {
    try {
      await fn(arg);
    } catch (error) {
      log(`failed: ${describeError(error)}`);
      void vscode.window.showErrorMessage(describeError(error));
    }
  };

  const runNow = async (entry: ScheduleEntry) => {
    const controller = new AbortController();
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Running scheduled backup "${entry.id}"…`, cancellable: entry.platform === 'cron' }, async (_p, token) => {
      token.onCancellationRequested(() => controller.abort());
      await runScheduleNow(entry, controller.signal);
    });
    announce();
    void vscode.window.showInformationMessage(entry.platform === 'cron' ? `Scheduled backup "${entry.id}" finished.` : `Scheduled backup "${entry.id}" was started by ${entry.platform}.`);
  };

  // Missed or failed runs are never silent: tell once per missed start, offer to run now or open the log.
  const told = new Set<string>();
  async function checkMissed(): Promise<void> {
    for (const l of await listings().catch(() => [] as ScheduleListing[])) {
      const latest = l.missed[l.missed.length - 1];
      if (latest === undefined || !l.platform.registered || told.has(`${l.entry.id}@${latest}`)) continue;
      told.add(`${l.entry.id}@${latest}`);
      const run = 'Run Now';
      const openLog = 'Open Log';
      const answer = await vscode.window.showWarningMessage(`Scheduled backup "${l.entry.id}" missed ${l.missed.length} run(s); the latest was due ${formatLocal(new Date(latest), l.entry.zone)}. The newest complete slot is older than the schedule implies.`, run, openLog);
      if (answer === run) await runNow(l.entry).catch((e: unknown) => vscode.window.showErrorMessage(describeError(e)));
      if (answer === openLog) await openScheduleLog(l.entry);
    }
  }
  // Hourly, so next runs and missed runs in the Slots view do not go stale while the window stays open.
  const timer = setInterval(() => { announce(); void checkMissed(); }, MISSED_CHECK_MS);
  void checkMissed();

  const disposables: vscode.Disposable[] = [
    changed,
    new vscode.Disposable(() => clearInterval(timer)),
    vscode.commands.registerCommand(ScheduleCommands.create, guard(() => wizard(undefined))),
    vscode.commands.registerCommand(ScheduleCommands.edit, guard(async (arg) => {
      const entry = await pickSchedule(arg, 'Which schedule do you want to change?');
      if (entry) await wizard(entry);
    })),
    vscode.commands.registerCommand(ScheduleCommands.runNow, guard(async (arg) => {
      const entry = await pickSchedule(arg, 'Which schedule should run now?');
      if (entry) await runNow(entry);
    })),
    vscode.commands.registerCommand(ScheduleCommands.delete, guard(async (arg) => {
      const entry = await pickSchedule(arg, 'Which schedule do you want to delete?');
      if (!entry) return;
      const del = 'Delete Schedule';
      if (await vscode.window.showWarningMessage(`Delete the schedule "${entry.id}" (${entry.platform})? The ring and its slots stay as they are.`, { modal: true }, del) !== del) return;
      await removeSchedule(entry.id, readContext());
      log(`removed ${entry.id}`);
      announce();
    })),
    vscode.commands.registerCommand(ScheduleCommands.show, guard(async () => {
      const all = await listings();
      if (all.length === 0) {
        const create = 'Create Backup Schedule…';
        if (await vscode.window.showInformationMessage('There are no backup schedules yet.', create) === create) await vscode.commands.executeCommand(ScheduleCommands.create);
        return;
      }
      const picked = await vscode.window.showQuickPick(all.map((l) => {
        const n = scheduleNodeData(l);
        return { label: `$(${n.icon}) ${n.label}`, description: n.description, detail: n.tooltip.split('\n').slice(1).join(' · '), id: l.entry.id };
      }), { placeHolder: 'Backup schedules: pick one to edit it' });
      if (picked) await vscode.commands.executeCommand(ScheduleCommands.edit, picked.id);
    })),
  ];

  return {
    onDidChange: changed.event,
    schedulesFor: async (target) => listingsForTarget(await listings(), target).map(scheduleNodeData),
    missedFor: async (target) => listingsForTarget(await listings(), target).flatMap((l) => l.missed),
    dispose: () => disposables.forEach((d) => d.dispose()),
  };
}

async function openScheduleLog(entry: ScheduleEntry): Promise<void> {
  const log = schedulePaths().logFile(entry.id);
  try {
    await vscode.window.showTextDocument(vscode.Uri.file(log), { preview: true });
  } catch {
    await vscode.commands.executeCommand('shadowSlots.openLog');
  }
}

/**
 * The feature entry for src/extension.ts's `features` list. `show` hands the schedules to the
 * Slots view (it lists them above the slots of their ring and refreshes on `onDidChange`).
 */
export function scheduleFeature(show?: (api: ScheduleUiApi) => vscode.Disposable | undefined): FeatureModule {
  return {
    id: 'schedule',
    activate: (services) => {
      const api = registerScheduleCommands(services.context, services);
      const shown = show?.(api);
      return shown ? [shown, api] : [api];
    },
  };
}
