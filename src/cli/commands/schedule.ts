import { realpathSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { invalid } from '../../core/errors';
import { validateProfile } from '../../core/profile';
import { formatLocal, localZone } from '../../core/schedule/zone';
import { DEFAULT_CONDITIONS, parseAccount, parseStopAfter, parseTime, parseWhen, scheduleIdFor, validateScheduleId, type ScheduleSpec } from '../../core/schedule/spec';
import type { SchedulerPlatform } from '../../core/schedule/wizard';
import type { EngineCommand } from '../../platform/schedule/engineCommand';
import { schedulePaths } from '../../platform/schedule/paths';
import {
  createSchedule, detectPlatform, listSchedules, prepareValidatedSchedule, profileFlavor, removeAllMine, removeSchedule, type ScheduleContext, writeDryRun,
} from '../../platform/schedule/service';
import type { CliCommand, CliIO } from '../command';
import { resolveArg } from '../args';

const PLATFORMS: SchedulerPlatform[] = ['windows', 'systemd', 'cron', 'launchd'];

// A function, not a constant: asking Intl for the local zone loads ICU's time-zone data (about 8 MB
// of resident memory and 20 ms), which only this help text needs; every other command paid for it.
const usage = (): string => `shadow-slots schedule create --target DIR --source DIR --when daily|weekdays|DAYS|once --at HH:MM
      [--slots N] [--name NAME] [--id ID] [--exclude PATTERN]... [--filter FILE] [--snapshot METHOD] [--platform windows|systemd|cron|launchd] [--battery] [--wake]
      [--no-catch-up] [--stop-after HOURS] [--account user|user-s4u|system] [--dry-run --out DIR]
  shadow-slots schedule list [--json]
  shadow-slots schedule remove --id ID | --all-mine [--platform P]

  DAYS is a list like mon,wed,fri. For --when once, --at takes HH:MM (today) or "YYYY-MM-DD HH:MM".
  Times are local (${localZone()}). --dry-run writes the artefacts into DIR and registers nothing.
  Environment: SHADOW_SLOTS_CLI (the dist/cli.js that scheduled runs start), SHADOW_SLOTS_CONFIG_DIR.
`;

/** `node` + the installed cli.js that the scheduled job runs; never a .ts file under tsx. */
export function resolveEngine(cliOption: string | undefined, env: NodeJS.ProcessEnv = process.env, argv1 = process.argv[1]): EngineCommand {
  const candidate = cliOption ?? env['SHADOW_SLOTS_CLI'] ?? argv1;
  if (candidate === undefined || !candidate.endsWith('.js')) {
    throw invalid('Cannot tell where the built CLI (dist/cli.js) is, which the scheduled job must run.', 'Run the built CLI (npm run build; node dist/cli.js …) or pass --cli /path/to/dist/cli.js.');
  }
  let cli = path.resolve(candidate);
  try { cli = realpathSync(cli); } catch { /* a dry run may name a CLI that is installed elsewhere */ }
  return { node: process.execPath, cli };
}

/** `needEngine` is false for list/remove, which never write a job command. */
function context(cli: string | undefined, needEngine = true): ScheduleContext {
  const user = os.userInfo().username;
  return {
    paths: schedulePaths(),
    engine: needEngine ? resolveEngine(cli) : { node: process.execPath, cli: '' },
    zone: localZone(),
    now: () => new Date(),
    userId: process.platform === 'win32' && process.env['USERDOMAIN'] ? `${process.env['USERDOMAIN']}\\${user}` : user,
  };
}

function parsePlatform(value: string | undefined): SchedulerPlatform | undefined {
  if (value === undefined) return undefined;
  if ((PLATFORMS as string[]).includes(value)) return value as SchedulerPlatform;
  throw invalid(`The platform ${JSON.stringify(value)} is not known.`, `Use one of: ${PLATFORMS.join(', ')}.`);
}

function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (error) {
    throw invalid((error as Error).message, 'Run `shadow-slots schedule --help`.');
  }
}

async function create(argv: string[], io: CliIO): Promise<number> {
  const { values: v } = parse(argv, {
    target: { type: 'string' }, source: { type: 'string' }, name: { type: 'string' }, slots: { type: 'string' },
    exclude: { type: 'string', multiple: true }, snapshot: { type: 'string' }, filter: { type: 'string' },
    when: { type: 'string' }, at: { type: 'string' }, id: { type: 'string' }, platform: { type: 'string' },
    battery: { type: 'boolean' }, wake: { type: 'boolean' }, 'no-catch-up': { type: 'boolean' },
    'stop-after': { type: 'string' }, account: { type: 'string' }, 'dry-run': { type: 'boolean' }, out: { type: 'string' },
    cli: { type: 'string' },
  });
  const str = (k: string) => v[k] as string | undefined;
  if (str('when') === undefined) throw invalid('--when is missing.', 'Use daily, weekdays, once or days like mon,wed,fri.');
  if (str('at') === undefined) throw invalid('--at is missing.', 'Give the time of day as HH:MM (24 hours, local time).');
  if (v['dry-run'] && (str('out') ?? '').trim() === '') throw invalid('--dry-run needs --out DIR, the folder to write the artefacts into.');
  if (!v['dry-run'] && str('out') !== undefined) throw invalid('--out is only used with --dry-run.');
  const at = str('at')!;
  const dated = /^\s*(\d{4}-\d{2}-\d{2})[ T]+(\S+)\s*$/.exec(at);
  const whenText = str('when')!;
  const ctx = context(str('cli'));
  const today = formatLocal(ctx.now(), ctx.zone).slice(0, 10);
  if (dated && whenText.trim().toLowerCase() !== 'once') throw invalid(`--at ${JSON.stringify(at)} has a date, which only --when once uses.`, 'Give only HH:MM.');
  const when = parseWhen(whenText, whenText.trim().toLowerCase() === 'once' ? (dated ? dated[1]! : today) : undefined);
  const time = parseTime(dated ? dated[2]! : at);
  const profileInput = {
    source: str('source'), target: str('target'),
    ...(str('name') !== undefined ? { name: str('name') } : {}),
    ...(str('slots') !== undefined ? { slots: str('slots') } : {}),
    ...(v['exclude'] !== undefined ? { excludes: v['exclude'] } : {}),
    ...(str('snapshot') !== undefined ? { snapshot: str('snapshot') } : {}),
    ...(str('filter') !== undefined ? { filterFile: resolveArg(str('filter')) } : {}),
  };
  const platform = parsePlatform(str('platform')) ?? await detectPlatform();
  // The boundary: the flags are validated here, once. The id comes from the validated profile name
  // unless given, so re-running replaces, not duplicates.
  const { profile } = validateProfile(profileInput, profileFlavor(platform));
  const spec: ScheduleSpec = {
    id: str('id') !== undefined ? validateScheduleId(str('id')!) : scheduleIdFor(profile.name),
    when, time,
    conditions: {
      runOnBattery: v['battery'] === true,
      wakeToRun: v['wake'] === true,
      catchUp: v['no-catch-up'] === true ? false : DEFAULT_CONDITIONS.catchUp,
      stopAfterHours: str('stop-after') !== undefined ? parseStopAfter(str('stop-after')!) : 0,
    },
    account: str('account') !== undefined ? parseAccount(str('account')!) : 'user',
  };
  const prepared = prepareValidatedSchedule(profile, spec, platform, ctx);
  for (const note of prepared.rendered.notes) io.err(`note: ${note}\n`);
  if (v['dry-run']) {
    const files = await writeDryRun(prepared, path.resolve(str('out')!));
    io.out(`${prepared.summary}\nNext run: ${formatLocal(prepared.nextRun, ctx.zone)} (${ctx.zone})\nDry run for ${platform}, nothing registered. Wrote:\n${files.map((f) => `  ${f}\n`).join('')}`);
    return 0;
  }
  const entry = await createSchedule(prepared, ctx);
  io.out(`Schedule "${entry.id}" registered with ${platform}: ${prepared.summary}\nNext run: ${formatLocal(prepared.nextRun, ctx.zone)} (${ctx.zone})\n`);
  return 0;
}

async function list(argv: string[], io: CliIO): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  const ctx = context(undefined, false);
  const listings = await listSchedules(ctx);
  if (values['json']) {
    io.out(JSON.stringify(listings, null, 2) + '\n');
    return 0;
  }
  if (listings.length === 0) {
    io.out('No schedules. Create one with `shadow-slots schedule create`.\n');
    return 0;
  }
  for (const l of listings) {
    const last = l.ring.lastRun ? `${formatLocal(new Date(l.ring.lastRun.startedAt), l.entry.zone)} (${l.ring.lastRun.state})` : 'never';
    const platformLast = 'lastResult' in l.platform && l.platform.lastResult ? `, platform says: ${l.platform.lastResult}` : '';
    io.out(`${l.entry.id}  [${l.entry.platform}${l.platform.registered ? '' : ', NOT REGISTERED'}]  ${l.summary}\n`
      + `  next run: ${l.nextRun ? formatLocal(new Date(l.nextRun), l.entry.zone) : 'none (finished)'}   last run: ${last}${platformLast}\n`
      + (l.missed.length > 0 ? `  MISSED ${l.missed.length} run(s), the latest at ${formatLocal(new Date(l.missed[l.missed.length - 1]!), l.entry.zone)}: run \`shadow-slots backup --profile ${l.entry.profileFile}\` or check the log\n` : ''));
  }
  return 0;
}

async function remove(argv: string[], io: CliIO): Promise<number> {
  const { values } = parse(argv, { id: { type: 'string' }, 'all-mine': { type: 'boolean' }, platform: { type: 'string' } });
  const id = values['id'] as string | undefined;
  if ((id === undefined) === (values['all-mine'] !== true)) throw invalid('Give either --id ID or --all-mine.', 'See the ids with `shadow-slots schedule list`.');
  const ctx = context(undefined, false);
  const hint = parsePlatform(values['platform'] as string | undefined);
  if (id !== undefined) {
    const known = await removeSchedule(validateScheduleId(id), ctx, hint ?? await detectPlatform());
    io.out(known ? `Removed schedule "${id}".\n` : `No schedule "${id}" in the registry; removed any leftover registration.\n`);
    return 0;
  }
  const removed = await removeAllMine(ctx, hint ?? await detectPlatform());
  io.out(removed.length === 0 ? 'No schedules to remove.\n' : `Removed: ${removed.join(', ')}\n`);
  return 0;
}

export const scheduleCommand: CliCommand = {
  name: 'schedule',
  usage: 'schedule create|list|remove …',
  summary: 'Register nightly backups with Task Scheduler, a systemd user timer, cron or launchd.',
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      io.out(usage());
      return sub === undefined ? 2 : 0;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(usage());
      return 0;
    }
    switch (sub) {
      case 'create': return create(rest, io);
      case 'list': return list(rest, io);
      case 'remove': return remove(rest, io);
      default: throw invalid(`Unknown schedule sub-command "${sub}".`, 'Use create, list or remove.');
    }
  },
};
