import { mkdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { ShadowSlotsError, invalid } from '../../core/errors';
import { type PathFlavor, type Profile, type ProfileInput, validateProfile } from '../../core/profile';
import { checkFuture, missedRuns, nextRuns } from '../../core/schedule/nextRun';
import type { ScheduleSpec } from '../../core/schedule/spec';
import { summarize } from '../../core/schedule/summary';
import type { SchedulerPlatform } from '../../core/schedule/wizard';
import { renderSchedule, type RenderedSchedule } from './artefacts';
import { CronRegistrar } from './cronRegistrar';
import { type EngineCommand, jobCommand } from './engineCommand';
import { LaunchdRegistrar } from './launchdRegistrar';
import type { SchedulePaths } from './paths';
import type { PlatformStatus, Registrar } from './registrar';
import { readIfExists, readRegistry, restoreFile, type ScheduleEntry, writeRegistry } from './registry';
import { writeFileAtomic } from '../fsutil';
import { readRingRuns, type RingRuns } from './ringStatus';
import { SystemdRegistrar, systemdUserAvailable } from './systemdRegistrar';
import { WindowsRegistrar } from './windowsRegistrar';

/**
 * Creating, listing and removing schedules: the one place that ties the registry, the profile
 * file and a platform registrar together, shared by the CLI and the extension.
 */
export interface ScheduleContext {
  paths: SchedulePaths;
  engine: EngineCommand;
  zone: string;
  now: () => Date;
  /** Windows user for the task principal (DOMAIN\user). */
  userId: string;
  registrarFor?: (platform: SchedulerPlatform) => Registrar;
}

export function defaultRegistrar(platform: SchedulerPlatform, paths: SchedulePaths): Registrar {
  switch (platform) {
    case 'systemd': return new SystemdRegistrar(paths.systemdUserDir);
    case 'cron': return new CronRegistrar();
    case 'launchd': return new LaunchdRegistrar(paths.launchAgentsDir);
    case 'windows': return new WindowsRegistrar();
  }
}

/** The scheduler for this machine: Task Scheduler, launchd, a systemd user timer when `systemctl --user` works, else cron. */
export async function detectPlatform(os: NodeJS.Platform = process.platform, systemdProbe = systemdUserAvailable): Promise<SchedulerPlatform> {
  if (os === 'win32') return 'windows';
  if (os === 'darwin') return 'launchd';
  return (await systemdProbe()) ? 'systemd' : 'cron';
}

export interface PreparedSchedule {
  entry: ScheduleEntry;
  profile: Profile;
  /** The profile file's JSON: the fields of ProfileInput, validated. */
  profileJson: string;
  rendered: RenderedSchedule;
  nextRun: Date;
  summary: string;
}

/** Validates everything and renders the artefacts without touching the system (dry run, review step). */
export function prepareSchedule(profileInput: ProfileInput, spec: ScheduleSpec, platform: SchedulerPlatform, ctx: ScheduleContext): PreparedSchedule {
  return prepareValidatedSchedule(validateProfile(profileInput, profileFlavor(platform)).profile, spec, platform, ctx);
}

/** The path rules a profile for `platform` is validated with. */
export function profileFlavor(platform: SchedulerPlatform): PathFlavor {
  return platform === 'windows' ? 'win32' : 'posix';
}

/**
 * prepareSchedule for a profile already validated where it entered (CLI arguments), with
 * `profileFlavor(platform)`: the profile is not validated twice.
 */
export function prepareValidatedSchedule(profile: Profile, spec: ScheduleSpec, platform: SchedulerPlatform, ctx: ScheduleContext): PreparedSchedule {
  if (platform !== 'windows' && spec.account !== 'user') {
    throw invalid(`The account "${spec.account}" exists only for Windows Task Scheduler.`, `On ${platform} the schedule runs as you; leave --account out.`);
  }
  const now = ctx.now();
  const nextRun = checkFuture(spec, now, ctx.zone);
  const profileFile = ctx.paths.profileFile(spec.id);
  const job = jobCommand(ctx.engine, profileFile);
  const rendered = renderSchedule(platform, { spec, job, label: profile.name, paths: ctx.paths, now, zone: ctx.zone, userId: ctx.userId });
  const entry: ScheduleEntry = {
    id: spec.id, platform, spec, profileName: profile.name, source: profile.source, target: profile.target, slots: profile.slots,
    profileFile, engine: ctx.engine, zone: ctx.zone, createdAt: now.toISOString(),
    files: rendered.artefacts.map((a) => a.installPath).filter((p): p is string => p !== undefined),
  };
  const profileJson = JSON.stringify({
    name: profile.name, source: profile.source, target: profile.target, slots: profile.slots, excludes: profile.excludes,
    snapshot: profile.snapshot, ...(profile.rsyncPath ? { rsyncPath: profile.rsyncPath } : {}), rsyncArgs: profile.rsyncArgs,
    ...(profile.filterFile ? { filterFile: profile.filterFile } : {}),
  } satisfies ProfileInput, null, 2) + '\n';
  return { entry, profile, profileJson, rendered, nextRun, summary: summarize(spec, profile) };
}

/** Writes a dry run's artefacts (and the profile file it would store) into `outDir`. */
export async function writeDryRun(prepared: PreparedSchedule, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const a of prepared.rendered.artefacts) {
    const file = path.join(outDir, a.name);
    await writeFileAtomic(file, a.content, { makeFolders: true });
    written.push(file);
  }
  const profileFile = path.join(outDir, `profile-${prepared.entry.id}.json`);
  await writeFileAtomic(profileFile, prepared.profileJson, { mode: 0o600, makeFolders: true });
  written.push(profileFile);
  return written;
}

function registrar(ctx: ScheduleContext, platform: SchedulerPlatform): Registrar {
  return (ctx.registrarFor ?? ((p) => defaultRegistrar(p, ctx.paths)))(platform);
}

/**
 * Registers (or replaces) a schedule. Order: profile file, platform registration, registry. Any
 * failure puts back what was there before (profile file, previous registration) and rethrows, so
 * there is never a half-registered schedule. Creating the same schedule twice changes nothing.
 */
export async function createSchedule(prepared: PreparedSchedule, ctx: ScheduleContext): Promise<ScheduleEntry> {
  const { entry } = prepared;
  const entries = await readRegistry(ctx.paths.registryFile);
  const previous = entries.find((e) => e.id === entry.id);
  const previousProfile = await readIfExists(entry.profileFile);
  await mkdir(path.dirname(ctx.paths.logFile(entry.id)), { recursive: true });
  await writeFileAtomic(entry.profileFile, prepared.profileJson, { mode: 0o600, makeFolders: true });
  const target = registrar(ctx, entry.platform);
  try {
    await target.install(entry, prepared.rendered.artefacts);
  } catch (error) {
    await restoreFile(entry.profileFile, previousProfile);
    throw error;
  }
  try {
    if (previous && previous.platform !== entry.platform) await registrar(ctx, previous.platform).uninstall(previous);
    await writeRegistry(ctx.paths.registryFile, [...entries.filter((e) => e.id !== entry.id), entry]);
  } catch (error) {
    await target.uninstall(entry).catch(() => undefined);
    await restoreFile(entry.profileFile, previousProfile);
    if (previous && previous.platform === entry.platform) await reinstall(previous, ctx).catch(() => undefined);
    throw error;
  }
  return entry;
}

/** Registers a recorded schedule again from its registry entry (rollback of a failed replace). */
async function reinstall(entry: ScheduleEntry, ctx: ScheduleContext): Promise<void> {
  const job = jobCommand(entry.engine, entry.profileFile);
  const rendered = renderSchedule(entry.platform, { spec: entry.spec, job, label: entry.profileName, paths: ctx.paths, now: ctx.now(), zone: entry.zone, userId: ctx.userId });
  await registrar(ctx, entry.platform).install(entry, rendered.artefacts);
}

export interface ScheduleListing {
  entry: ScheduleEntry;
  summary: string;
  /** Computed from the spec in the schedule's zone; the platform's own answer is in `platform`. */
  nextRun: string | undefined;
  platform: PlatformStatus | { registered: false; error: string };
  ring: RingRuns;
  /** Scheduled starts since the newest complete slot that produced none (ISO times). */
  missed: string[];
}

export async function listSchedules(ctx: ScheduleContext): Promise<ScheduleListing[]> {
  const entries = await readRegistry(ctx.paths.registryFile);
  const now = ctx.now();
  const out: ScheduleListing[] = [];
  for (const entry of entries) {
    const platform = await registrar(ctx, entry.platform).status(entry).catch((error: unknown) => ({ registered: false as const, error: error instanceof Error ? error.message : String(error) }));
    const ring = await readRingRuns(entry.target);
    const last = ring.lastComplete ? new Date(ring.lastComplete.startedAt) : undefined;
    out.push({
      entry,
      summary: summarize(entry.spec, entry),
      nextRun: nextRuns(entry.spec, now, entry.zone, 1)[0]?.toISOString(),
      platform,
      ring,
      missed: missedRuns(entry.spec, last, new Date(entry.createdAt), now, entry.zone).map((d) => d.toISOString()),
    });
  }
  return out;
}

/** Removes one schedule everywhere (platform, profile file, registry). Removing twice is fine. */
export async function removeSchedule(id: string, ctx: ScheduleContext, platformHint?: SchedulerPlatform): Promise<boolean> {
  const entries = await readRegistry(ctx.paths.registryFile);
  const entry = entries.find((e) => e.id === id);
  const platform = entry?.platform ?? platformHint;
  if (platform === undefined) return false;
  await registrar(ctx, platform).uninstall(entry ?? { id, files: [] });
  await rm(ctx.paths.profileFile(id), { force: true });
  if (entry) await writeRegistry(ctx.paths.registryFile, entries.filter((e) => e.id !== id));
  return entry !== undefined;
}

/** Removes every schedule this tool created: the registry's and any found on the platform by name or marker. */
export async function removeAllMine(ctx: ScheduleContext, platform: SchedulerPlatform): Promise<string[]> {
  const entries = await readRegistry(ctx.paths.registryFile);
  const removed: string[] = [];
  for (const e of entries) {
    await removeSchedule(e.id, ctx);
    removed.push(e.id);
  }
  for (const id of await registrar(ctx, platform).ownIds()) {
    await removeSchedule(id, ctx, platform);
    if (!removed.includes(id)) removed.push(id);
  }
  return removed;
}

/** Looks up a registered schedule or says how to find the right id. */
export async function getSchedule(id: string, ctx: ScheduleContext): Promise<ScheduleEntry> {
  const entry = (await readRegistry(ctx.paths.registryFile)).find((e) => e.id === id);
  if (!entry) throw new ShadowSlotsError('not-found', `There is no schedule "${id}".`, { hint: 'Run `shadow-slots schedule list` to see the ids.' });
  return entry;
}
