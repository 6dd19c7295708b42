import { looksRemote } from '../remoteTarget';
import { ShadowSlotsError } from '../errors';
import { checkFuture, dstNotes } from './nextRun';
import {
  DEFAULT_CONDITIONS, formatTime, parseDate, parseStopAfter, parseTime, whenFromDays,
  type ScheduleAccount, type ScheduleConditions, type ScheduleSpec, type ScheduleWhen, type Weekday, WEEKDAY_LONG, WORK_WEEK,
} from './spec';
import { conditionLines, describeAccount, summarize } from './summary';
import { formatDate, formatLocal, localParts } from './zone';

/**
 * The schedule wizard as pure step functions (the quickinput-sample pattern without the editor):
 * each step is a view to show, a validator that runs as the user types, and an apply function;
 * `ScheduleWizard` keeps the history for Back. src/ui/schedule renders the views with QuickInput.
 */
export type SchedulerPlatform = 'windows' | 'systemd' | 'cron' | 'launchd';

export interface ProfileChoice { id: string; label: string; target: string; slots: number; description?: string }

export interface WizardContext {
  now: Date;
  /** The user's IANA zone; the time step states it. */
  zone: string;
  platform: SchedulerPlatform;
  profiles: ProfileChoice[];
  /** Edit: the schedule being changed; every step starts filled in with it. */
  initial?: { profileId: string; spec: ScheduleSpec };
  /** The exact artefact that will be registered, shown by the review step. */
  renderArtefact?: (result: WizardResult) => string;
  /** Things the platform cannot do for these conditions, shown by the review step. */
  platformNotes?: (result: WizardResult) => string[];
}

export type StepId = 'profile' | 'when' | 'days' | 'time' | 'conditions' | 'stopAfter' | 'account' | 'review';
export type WhenKind = ScheduleWhen['kind'];

export interface WizardState {
  profileId: string | undefined;
  whenKind: WhenKind;
  days: Weekday[];
  /** What the time box holds: `HH:MM`, or for a one-off also `YYYY-MM-DD HH:MM`. */
  timeText: string;
  /** False while timeText is a default, so changing "when" may replace it with the new default. */
  timeEdited: boolean;
  runOnBattery: boolean;
  wakeToRun: boolean;
  catchUp: boolean;
  stopAfterText: string;
  account: ScheduleAccount;
}

export interface PickItem { id: string; label: string; description?: string; detail?: string; picked?: boolean }

interface ViewBase { id: StepId; title: string; step: number; totalSteps: number }
export type StepView =
  | ViewBase & { kind: 'pick'; placeholder: string; items: PickItem[]; activeId?: string }
  | ViewBase & { kind: 'multi'; placeholder: string; items: PickItem[] }
  | ViewBase & { kind: 'input'; prompt: string; value: string; placeholder: string }
  | ViewBase & { kind: 'review'; placeholder: string; items: PickItem[]; summary: string; details: string[]; artefact: string };

export type Answer = { ids: string[] } | { text: string };

export interface WizardResult {
  profileId: string;
  profile: ProfileChoice;
  spec: ScheduleSpec;
  nextRun: Date;
  summary: string;
}

const TITLE = 'Create Backup Schedule';

export type ConditionId = 'runOnBattery' | 'wakeToRun' | 'catchUp';

/** What a scheduler can honour: the conditions step offers only these; the rest is fixed. */
export interface ConditionSupport {
  /** Conditions the user can choose, in the order offered. */
  choices: ConditionId[];
  /** Whether a run-time limit can be set (the "stop after" step). */
  stopAfter: boolean;
  /** What the scheduler does about everything it cannot offer; always applied to the schedule. */
  fixed: Partial<ScheduleConditions>;
  /** Why the others are not offered, in plain words. */
  missing: string[];
}

/**
 * Per scheduler, which conditions it can honour (from its artefacts: Task Scheduler settings,
 * systemd's ConditionACPower=/WakeSystem=/Persistent=/TimeoutStartSec=, cron's `timeout`, and
 * launchd, which has none of them). The review states only what will actually happen.
 */
export function conditionSupport(platform: SchedulerPlatform): ConditionSupport {
  switch (platform) {
    case 'windows':
    case 'systemd':
      return { choices: ['runOnBattery', 'wakeToRun', 'catchUp'], stopAfter: true, fixed: {}, missing: [] };
    case 'cron':
      return {
        choices: [], stopAfter: true, fixed: { runOnBattery: true, wakeToRun: false, catchUp: false },
        missing: ['cron starts the backup on battery too', 'it cannot wake the computer', 'a start missed while the computer was off or asleep is skipped (a systemd user timer can catch up)'],
      };
    case 'launchd':
      return {
        choices: [], stopAfter: false, fixed: { runOnBattery: true, wakeToRun: false, catchUp: true, stopAfterHours: 0 },
        missing: ['launchd starts the backup on battery too', 'it cannot wake the Mac (`sudo pmset repeat wake` can)', 'it always runs a start missed during sleep once the Mac wakes', 'it has no run-time limit'],
      };
  }
}

/** The conditions a schedule gets on this platform: the user's choices, with what the platform fixes. */
export function effectiveConditions(platform: SchedulerPlatform, c: ScheduleConditions): ScheduleConditions {
  return { ...c, ...conditionSupport(platform).fixed };
}

/** `HH:MM` two minutes from now (or with the date when that crosses midnight): the recipe's "try it". */
export function onceDefault(now: Date, zone: string): string {
  const at = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 2 * 60_000);
  const p = localParts(at, zone);
  const hhmm = formatTime({ hour: p.hour, minute: p.minute });
  return formatDate(p) === formatDate(localParts(now, zone)) ? hhmm : `${formatDate(p)} ${hhmm}`;
}

export const DEFAULT_TIME = '23:30';

export function initialState(ctx: WizardContext): WizardState {
  const init = ctx.initial;
  const fixed = conditionSupport(ctx.platform).fixed;
  if (init) {
    const { spec } = init;
    const c = effectiveConditions(ctx.platform, spec.conditions);
    return {
      profileId: init.profileId,
      whenKind: spec.when.kind,
      days: spec.when.kind === 'days' ? [...spec.when.days] : spec.when.kind === 'weekdays' ? [...WORK_WEEK] : [],
      timeText: spec.when.kind === 'once' ? `${spec.when.date} ${formatTime(spec.time)}` : formatTime(spec.time),
      timeEdited: true,
      runOnBattery: c.runOnBattery,
      wakeToRun: c.wakeToRun,
      catchUp: c.catchUp,
      stopAfterText: String(c.stopAfterHours),
      account: spec.account,
    };
  }
  return {
    profileId: ctx.profiles.length === 1 ? ctx.profiles[0]!.id : undefined,
    whenKind: 'weekdays',
    days: [],
    timeText: DEFAULT_TIME,
    timeEdited: false,
    runOnBattery: fixed.runOnBattery ?? DEFAULT_CONDITIONS.runOnBattery,
    wakeToRun: fixed.wakeToRun ?? DEFAULT_CONDITIONS.wakeToRun,
    catchUp: fixed.catchUp ?? DEFAULT_CONDITIONS.catchUp,
    stopAfterText: String(fixed.stopAfterHours ?? DEFAULT_CONDITIONS.stopAfterHours),
    account: 'user',
  };
}

/**
 * The screens this wizard shows, in order, for the current answers: days only for "chosen
 * days", conditions and "stop after" only where the scheduler honours them, the account only on
 * Windows. Every screen has its own number, and the total is that of this path.
 */
export function stepPath(state: Pick<WizardState, 'whenKind'>, ctx: Pick<WizardContext, 'platform'>): StepId[] {
  const support = conditionSupport(ctx.platform);
  return [
    'profile', 'when',
    ...(state.whenKind === 'days' ? ['days' as const] : []),
    'time',
    ...(support.choices.length > 0 ? ['conditions' as const] : []),
    ...(support.stopAfter ? ['stopAfter' as const] : []),
    ...(ctx.platform === 'windows' ? ['account' as const] : []),
    'review',
  ];
}

function nextStep(id: StepId, state: WizardState, ctx: WizardContext): StepId | undefined {
  const path = stepPath(state, ctx);
  return path[path.indexOf(id) + 1];
}

/** Parses the time box into a when/time pair, refusing impossible or past one-off times. */
export function parseTimeAnswer(text: string, state: WizardState, ctx: WizardContext): { when: ScheduleWhen; time: ReturnType<typeof parseTime> } {
  if (state.whenKind === 'once') {
    const m = /^\s*(\d{4}-\d{2}-\d{2})[ T]+(\S+)\s*$/.exec(text);
    const date = m ? parseDate(m[1]!) : formatDate(localParts(ctx.now, ctx.zone));
    const time = parseTime(m ? m[2]! : text);
    const when: ScheduleWhen = { kind: 'once', date };
    checkFuture({ when, time }, ctx.now, ctx.zone);
    return { when, time };
  }
  const time = parseTime(text);
  const when = state.whenKind === 'days' ? whenFromDays(state.days) : state.whenKind === 'daily' ? { kind: 'daily' as const } : { kind: 'weekdays' as const };
  return { when, time };
}

/** Builds the schedule the state describes, or throws the first validation error. */
export function buildResult(state: WizardState, ctx: WizardContext, id: string): WizardResult {
  const profile = ctx.profiles.find((p) => p.id === state.profileId);
  if (!profile) throw new ShadowSlotsError('invalid-input', 'Choose a profile first.');
  const { when, time } = parseTimeAnswer(state.timeText, state, ctx);
  const spec: ScheduleSpec = {
    id,
    when,
    time,
    conditions: effectiveConditions(ctx.platform, { runOnBattery: state.runOnBattery, wakeToRun: state.wakeToRun, catchUp: state.catchUp, stopAfterHours: parseStopAfter(state.stopAfterText) }),
    account: ctx.platform === 'windows' ? state.account : 'user',
  };
  const nextRun = checkFuture({ when, time }, ctx.now, ctx.zone);
  return { profileId: profile.id, profile, spec, nextRun, summary: summarize(spec, profile) };
}

function message(error: unknown): string {
  if (error instanceof ShadowSlotsError) return error.hint ? `${error.message} ${error.hint}` : error.message;
  return error instanceof Error ? error.message : String(error);
}

/** Validation as you type: the message to show under the input box, or undefined when valid. */
export function validateInput(id: StepId, text: string, state: WizardState, ctx: WizardContext): string | undefined {
  try {
    if (id === 'time') parseTimeAnswer(text, state, ctx);
    else if (id === 'stopAfter') parseStopAfter(text);
    return undefined;
  } catch (error) {
    return message(error);
  }
}

const PLATFORM_NAME: Record<SchedulerPlatform, string> = { windows: 'Task Scheduler', systemd: 'a systemd user timer', cron: 'cron', launchd: 'launchd' };

/** A share or a ring on a server: the account a schedule runs as must reach it (and, over SSH, hold the keys). */
function isNetworkPath(target: string): boolean {
  return /^(\\\\|\/\/)/.test(target) || looksRemote(target);
}

/** The view of one step for the current state. */
export function stepView(id: StepId, state: WizardState, ctx: WizardContext, scheduleId: (p: ProfileChoice) => string): StepView {
  const path = stepPath(state, ctx);
  const support = conditionSupport(ctx.platform);
  const base = { id, title: TITLE, step: path.indexOf(id) + 1, totalSteps: path.length };
  switch (id) {
    case 'profile':
      return { ...base, kind: 'pick', placeholder: 'Which backup profile should run?', activeId: state.profileId,
        items: ctx.profiles.map((p) => ({ id: p.id, label: p.label, description: p.description ?? `${p.slots} slots on ${p.target}` })) };
    case 'when':
      return { ...base, kind: 'pick', placeholder: 'When should it run?', activeId: state.whenKind, items: [
        { id: 'daily', label: 'Every day' },
        { id: 'weekdays', label: 'Weekdays', description: 'Monday to Friday' },
        { id: 'days', label: 'Chosen days of the week…' },
        { id: 'once', label: 'Once', description: 'two minutes from now, to try it' },
      ] };
    case 'days':
      return { ...base, kind: 'multi', placeholder: 'Which days? (pick at least one)',
        items: [1, 2, 3, 4, 5, 6, 0].map((d) => ({ id: String(d), label: WEEKDAY_LONG[d]!, picked: state.days.includes(d as Weekday) })) };
    case 'time':
      return { ...base, kind: 'input', value: state.timeText,
        placeholder: state.whenKind === 'once' ? 'HH:MM or YYYY-MM-DD HH:MM' : 'HH:MM',
        prompt: state.whenKind === 'once'
          ? `Start time, 24-hour HH:MM today or YYYY-MM-DD HH:MM, in your local time zone (${ctx.zone}); it is now ${formatLocal(ctx.now, ctx.zone)}`
          : `Time of day, 24-hour HH:MM, in your local time zone (${ctx.zone})` };
    case 'conditions': {
      const all: Record<ConditionId, PickItem> = {
        runOnBattery: { id: 'runOnBattery', label: 'Run on battery power', picked: state.runOnBattery },
        wakeToRun: { id: 'wakeToRun', label: 'Wake the computer to run', ...(ctx.platform === 'systemd' ? { detail: 'needs permission to wake the machine; without it the run waits until it is awake' } : {}), picked: state.wakeToRun },
        catchUp: { id: 'catchUp', label: 'Run as soon as possible after a missed start', description: 'recommended', picked: state.catchUp },
      };
      return { ...base, kind: 'multi', placeholder: 'Conditions (pick the ones that apply)', items: support.choices.map((c) => all[c]) };
    }
    case 'stopAfter': {
      // Where the scheduler offers no conditions, the first screen after the time says why.
      const why = support.choices.length === 0 ? ` (${PLATFORM_NAME[ctx.platform]} offers no other conditions: ${support.missing.join('; ')})` : '';
      return { ...base, kind: 'input', value: state.stopAfterText, placeholder: '0', prompt: `Stop a run after how many hours? 0 = no limit${why}` };
    }
    case 'account': {
      const profile = ctx.profiles.find((p) => p.id === state.profileId);
      const network = profile !== undefined && isNetworkPath(profile.target);
      const noNet = network ? `Your target ${profile.target} is a network path: this account cannot reach it.` : 'No access to network drives.';
      return { ...base, kind: 'pick', placeholder: 'Which account runs the backup?', activeId: state.account, items: [
        { id: 'user', label: 'This user, while logged on', description: 'network drives work' },
        { id: 'user-s4u', label: 'This user, whether logged on or not', description: 'no password stored', detail: noNet },
      ] };
    }
    case 'review': {
      let result: WizardResult;
      try {
        result = buildResult(state, ctx, scheduleId(ctx.profiles.find((p) => p.id === state.profileId)!));
      } catch (error) {
        return { ...base, kind: 'review', placeholder: 'This schedule cannot be created; go Back and fix it.', items: [], summary: message(error), details: [], artefact: '' };
      }
      const details = [
        `Next run: ${formatLocal(result.nextRun, ctx.zone)} (${ctx.zone})`,
        ...conditionLines(result.spec.conditions, new Set(Object.keys(support.fixed) as Array<keyof ScheduleConditions>), PLATFORM_NAME[ctx.platform]),
        ...(ctx.platform === 'windows' ? [`Account: ${describeAccount(result.spec.account)}`] : []),
        ...dstNotes(result.spec, ctx.now, ctx.zone),
        ...(ctx.platformNotes?.(result) ?? []),
      ];
      return { ...base, kind: 'review', placeholder: result.summary, summary: result.summary, details,
        artefact: ctx.renderArtefact?.(result) ?? '',
        items: [{ id: 'create', label: ctx.initial ? 'Save' : 'Create', description: result.summary }] };
    }
  }
}

/**
 * Applies an answer to a step. Returns the new state and the next step (undefined = finished),
 * or the message to show when the answer is not acceptable.
 */
export function applyAnswer(id: StepId, answer: Answer, state: WizardState, ctx: WizardContext): { state: WizardState; next: StepId | undefined } | { error: string } {
  const ids = 'ids' in answer ? answer.ids : [];
  const text = 'text' in answer ? answer.text : '';
  const s: WizardState = { ...state };
  try {
    switch (id) {
      case 'profile':
        if (!ctx.profiles.some((p) => p.id === ids[0])) return { error: 'Choose one of the profiles.' };
        s.profileId = ids[0];
        return { state: s, next: nextStep(id, s, ctx) };
      case 'when': {
        const kind = ids[0] as WhenKind;
        if (!['daily', 'weekdays', 'days', 'once'].includes(kind)) return { error: 'Choose when the backup runs.' };
        if (kind !== s.whenKind) {
          if (kind === 'once') {
            s.timeText = onceDefault(ctx.now, ctx.zone);
            s.timeEdited = false;
          } else if (!s.timeEdited) {
            s.timeText = DEFAULT_TIME;
          } else if (s.whenKind === 'once') {
            s.timeText = /\d{1,2}:\d{2}\s*$/.exec(s.timeText)?.[0]?.trim() ?? DEFAULT_TIME;
          }
        }
        s.whenKind = kind;
        return { state: s, next: nextStep(id, s, ctx) };
      }
      case 'days':
        if (ids.length === 0) return { error: 'Pick at least one day: a schedule without days never runs.' };
        s.days = whenFromDaysSafe(ids);
        return { state: s, next: nextStep(id, s, ctx) };
      case 'time': {
        const error = validateInput('time', text, s, ctx);
        if (error) return { error };
        s.timeEdited = s.timeEdited || text.trim() !== s.timeText.trim();
        s.timeText = text.trim();
        return { state: s, next: nextStep(id, s, ctx) };
      }
      case 'conditions': {
        const c = effectiveConditions(ctx.platform, { runOnBattery: ids.includes('runOnBattery'), wakeToRun: ids.includes('wakeToRun'), catchUp: ids.includes('catchUp'), stopAfterHours: 0 });
        s.runOnBattery = c.runOnBattery;
        s.wakeToRun = c.wakeToRun;
        s.catchUp = c.catchUp;
        return { state: s, next: nextStep(id, s, ctx) };
      }
      case 'stopAfter': {
        const error = validateInput('stopAfter', text, s, ctx);
        if (error) return { error };
        s.stopAfterText = String(parseStopAfter(text));
        return { state: s, next: nextStep(id, s, ctx) };
      }
      case 'account':
        // Not SYSTEM: a schedule runs Node.js and the CLI from folders the user can change (issue 12).
        if (!['user', 'user-s4u'].includes(ids[0] ?? '')) return { error: 'Choose an account: a schedule runs as you (SYSTEM would run programs you can change with administrator rights).' };
        s.account = ids[0] as ScheduleAccount;
        return { state: s, next: nextStep(id, s, ctx) };
      case 'review':
        if (ids[0] !== 'create') return { error: 'Choose Create, or go Back.' };
        return { state: s, next: undefined };
    }
  } catch (error) {
    return { error: message(error) };
  }
}

function whenFromDaysSafe(ids: string[]): Weekday[] {
  const days = ids.map(Number) as Weekday[];
  const when = whenFromDays(days);
  return when.kind === 'days' ? when.days : when.kind === 'weekdays' ? [...WORK_WEEK] : [0, 1, 2, 3, 4, 5, 6];
}

/**
 * The wizard's navigation: a stack of visited steps, so Back returns to exactly the previous
 * step with its answer kept (the quickinput-sample's MultiStepInput, minus the editor).
 */
export class ScheduleWizard {
  private readonly history: StepId[] = [];
  private current: StepId | undefined = 'profile';
  state: WizardState;

  constructor(private readonly ctx: WizardContext, private readonly scheduleId: (p: ProfileChoice) => string) {
    this.state = initialState(ctx);
  }

  get done(): boolean { return this.current === undefined; }
  get canGoBack(): boolean { return this.history.length > 0; }
  get stepId(): StepId | undefined { return this.current; }

  view(): StepView {
    if (this.current === undefined) throw new Error('the wizard is finished');
    return stepView(this.current, this.state, this.ctx, this.scheduleId);
  }

  validate(text: string): string | undefined {
    return this.current === undefined ? undefined : validateInput(this.current, text, this.state, this.ctx);
  }

  /** Applies the answer; on success moves forward and returns undefined, else returns the message. */
  submit(answer: Answer): string | undefined {
    if (this.current === undefined) throw new Error('the wizard is finished');
    const r = applyAnswer(this.current, answer, this.state, this.ctx);
    if ('error' in r) return r.error;
    this.state = r.state;
    this.history.push(this.current);
    this.current = r.next;
    return undefined;
  }

  back(): void {
    const previous = this.history.pop();
    if (previous !== undefined) this.current = previous;
  }

  result(): WizardResult {
    const profile = this.ctx.profiles.find((p) => p.id === this.state.profileId);
    if (!this.done || !profile) throw new Error('the wizard is not finished');
    return buildResult(this.state, this.ctx, this.scheduleId(profile));
  }
}

