import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conditionLines, summarize } from '../../../src/core/schedule/summary';
import { onceDefault, ScheduleWizard, type StepView, type WizardContext } from '../../../src/core/schedule/wizard';

const NOW = new Date('2026-11-26T07:00:30Z'); // Thu 08:00:30 in Berlin
const profiles = [
  { id: 'proj', label: 'proj', target: 'F:\\Backups\\proj', slots: 16 },
  { id: 'nas', label: 'nas', target: '\\\\nas\\backups\\proj', slots: 7 },
];
function ctx(over: Partial<WizardContext> = {}): WizardContext {
  return { now: NOW, zone: 'Europe/Berlin', platform: 'windows', profiles, renderArtefact: (r) => `<artefact ${r.spec.id}>`, ...over };
}
const idOf = (p: { id: string }) => p.id;
const counter = (v: StepView) => `Step ${v.step}/${v.totalSteps}`;

test('summary text is plain language', () => {
  assert.equal(summarize({ when: { kind: 'weekdays' }, time: { hour: 23, minute: 30 } }, { slots: 16, target: 'F:\\Backups\\proj' }), 'Weekdays at 23:30, keeps 16 slots on F:\\Backups\\proj');
  assert.equal(summarize({ when: { kind: 'daily' }, time: { hour: 2, minute: 5 } }, { slots: 1, target: '/mnt/b' }), 'Every day at 02:05, keeps 1 slot on /mnt/b');
  assert.equal(summarize({ when: { kind: 'days', days: [1, 3, 5] }, time: { hour: 0, minute: 0 } }, { slots: 3, target: '/b' }), 'Mon, Wed and Fri at 00:00, keeps 3 slots on /b');
  assert.equal(summarize({ when: { kind: 'days', days: [0] }, time: { hour: 12, minute: 0 } }, { slots: 3, target: '/b' }), 'Every Sun at 12:00, keeps 3 slots on /b');
  assert.equal(summarize({ when: { kind: 'once', date: '2026-11-26' }, time: { hour: 8, minute: 2 } }, { slots: 16, target: '/b' }), 'Once on 2026-11-26 at 08:02, keeps 16 slots on /b');
  assert.deepEqual(conditionLines({ runOnBattery: false, wakeToRun: true, catchUp: true, stopAfterHours: 4 }), ['Runs only on AC power', 'Wakes the computer to run', 'Catches up a start missed while off or asleep', 'Stops a run after 4 h']);
  assert.deepEqual(conditionLines({ runOnBattery: true, wakeToRun: false, catchUp: false, stopAfterHours: 0 }, new Set(['runOnBattery', 'catchUp']), 'cron'),
    ['Runs on battery power too (cron cannot do otherwise)', 'Does not wake the computer', 'Skips a start missed while off or asleep (cron cannot do otherwise)', 'No time limit']);
});

test('the default path: seven screens on Windows, each with its own number; defaults Weekdays 23:30 with catch-up, summary on review', () => {
  const w = new ScheduleWizard(ctx(), idOf);
  let v = w.view();
  assert.equal(v.id, 'profile'); assert.equal(counter(v), 'Step 1/7'); assert.equal(w.canGoBack, false);
  assert.equal(w.submit({ ids: ['proj'] }), undefined);
  v = w.view();
  assert.equal(v.id, 'when'); assert.equal(counter(v), 'Step 2/7');
  assert.equal(v.kind === 'pick' && v.activeId, 'weekdays');
  assert.equal(w.submit({ ids: ['weekdays'] }), undefined);
  v = w.view();
  assert.equal(v.kind, 'input'); assert.equal(counter(v), 'Step 3/7');
  assert.equal(v.kind === 'input' && v.value, '23:30');
  assert.match(v.kind === 'input' ? v.prompt : '', /local time zone \(Europe\/Berlin\)/);
  assert.equal(w.submit({ text: '23:30' }), undefined);
  v = w.view();
  assert.equal(v.id, 'conditions'); assert.equal(counter(v), 'Step 4/7');
  assert.deepEqual(v.kind === 'multi' ? v.items.filter((i) => i.picked).map((i) => i.id) : [], ['catchUp']);
  assert.equal(w.submit({ ids: ['catchUp'] }), undefined);
  v = w.view();
  assert.equal(v.id, 'stopAfter'); assert.equal(counter(v), 'Step 5/7', 'conditions and stop-after are two screens with two numbers');
  assert.equal(w.submit({ text: '0' }), undefined);
  v = w.view();
  assert.equal(v.id, 'account'); assert.equal(counter(v), 'Step 6/7');
  assert.equal(w.submit({ ids: ['user'] }), undefined);
  v = w.view();
  assert.equal(v.kind, 'review'); assert.equal(counter(v), 'Step 7/7');
  assert.ok(v.kind === 'review');
  assert.equal(v.summary, 'Weekdays at 23:30, keeps 16 slots on F:\\Backups\\proj');
  assert.equal(v.artefact, '<artefact proj>');
  assert.equal(v.details[0], 'Next run: 2026-11-26 23:30 (Europe/Berlin)');
  assert.equal(w.submit({ ids: ['create'] }), undefined);
  assert.equal(w.done, true);
  const r = w.result();
  assert.deepEqual(r.spec, { id: 'proj', when: { kind: 'weekdays' }, time: { hour: 23, minute: 30 }, conditions: { runOnBattery: false, wakeToRun: false, catchUp: true, stopAfterHours: 0 }, account: 'user' });
  assert.equal(r.nextRun.toISOString(), '2026-11-26T22:30:00.000Z');
});

test('Back returns to the previous step with its answer kept, and forward again', () => {
  const w = new ScheduleWizard(ctx({ platform: 'systemd' }), idOf);
  w.submit({ ids: ['proj'] });
  w.submit({ ids: ['days'] });
  let v = w.view();
  assert.equal(v.id, 'days'); assert.equal(counter(v), 'Step 3/7', 'chosen days add a screen; Linux has no account step');
  assert.equal(w.submit({ ids: [] }), 'Pick at least one day: a schedule without days never runs.');
  assert.equal(w.view().id, 'days', 'an empty day set is refused and the step stays');
  w.submit({ ids: ['1', '3', '5'] });
  w.submit({ text: '22:15' });
  assert.equal(w.view().id, 'conditions');
  w.back();
  v = w.view();
  assert.equal(v.id, 'time'); assert.equal(v.kind === 'input' && v.value, '22:15');
  w.back();
  v = w.view();
  assert.deepEqual(v.kind === 'multi' ? v.items.filter((i) => i.picked).map((i) => i.label) : [], ['Monday', 'Wednesday', 'Friday']);
  w.back();
  assert.equal(w.view().id, 'when');
  w.back();
  assert.equal(w.view().id, 'profile');
  assert.equal(w.canGoBack, false);
  w.back(); // nothing before the first step
  assert.equal(w.view().id, 'profile');
  w.submit({ ids: ['proj'] }); w.submit({ ids: ['days'] }); w.submit({ ids: ['1', '3', '5'] }); w.submit({ text: '22:15' });
  w.submit({ ids: ['runOnBattery', 'wakeToRun'] }); w.submit({ text: '4' });
  v = w.view();
  assert.equal(v.kind, 'review');
  assert.equal(v.kind === 'review' && v.summary, 'Mon, Wed and Fri at 22:15, keeps 16 slots on F:\\Backups\\proj');
  w.submit({ ids: ['create'] });
  assert.deepEqual(w.result().spec.conditions, { runOnBattery: true, wakeToRun: true, catchUp: false, stopAfterHours: 4 });
  assert.equal(w.result().spec.account, 'user');
});

test('"once" defaults to two minutes from now; a past time is refused as you type, with the reason', () => {
  const w = new ScheduleWizard(ctx(), idOf);
  w.submit({ ids: ['proj'] });
  w.submit({ ids: ['once'] });
  const v = w.view();
  assert.equal(v.kind === 'input' && v.value, '08:02');
  assert.match(v.kind === 'input' ? v.prompt : '', /it is now 2026-11-26 08:00/);
  assert.equal(w.validate('08:02'), undefined);
  assert.equal(w.validate('07:59'), '2026-11-26 07:59 is already past (it is now 2026-11-26 08:00 in Europe/Berlin). Pick a later time; a one-off schedule must start in the future.');
  assert.match(w.validate('25:61') ?? '', /hour 25/);
  assert.match(w.validate('12:61') ?? '', /minute 61/);
  assert.match(w.validate('2027-03-28 02:30') ?? '', /does not exist in Europe\/Berlin/);
  assert.equal(w.validate('2026-12-24 18:00'), undefined);
  assert.match(w.submit({ text: '07:59' }) ?? '', /already past/);
  assert.equal(w.view().id, 'time');
  // Back to "when", choose weekdays: the one-off default does not leak into a repeating schedule.
  w.back();
  w.submit({ ids: ['weekdays'] });
  assert.equal((w.view() as { value: string }).value, '23:30');
  assert.equal(onceDefault(new Date('2026-11-26T22:59:10Z'), 'Europe/Berlin'), '2026-11-27 00:01', 'crossing midnight names the date');
});

test('validation as you type for stop-after; account step warns about a network target', () => {
  const w = new ScheduleWizard(ctx(), idOf);
  w.submit({ ids: ['nas'] }); w.submit({ ids: ['daily'] }); w.submit({ text: '01:00' }); w.submit({ ids: ['catchUp'] });
  assert.match(w.validate('abc') ?? '', /whole number of hours/);
  assert.equal(w.validate('12'), undefined);
  w.submit({ text: '12' });
  const v = w.view();
  assert.equal(v.id, 'account');
  const s4u = v.kind === 'pick' ? v.items.find((i) => i.id === 'user-s4u') : undefined;
  assert.equal(s4u?.detail, 'Your target \\\\nas\\backups\\proj is a network path: this account cannot reach it.');
  // SYSTEM is not offered and not accepted (issue 12 review, L9a): a schedule runs programs the user can change.
  assert.ok(v.kind === 'pick' && !v.items.some((i) => i.id === 'system'));
  assert.match(w.submit({ ids: ['system'] }) ?? '', /Choose an account/);
  w.submit({ ids: ['user-s4u'] });
  const review = w.view();
  assert.ok(review.kind === 'review' && review.details.includes('Account: as you, whether logged on or not (no network drives)'));
});

test('a ring on a server over SSH counts as a network target at the account step (the account needs the keys)', () => {
  const remote = [{ id: 'srv', label: 'srv', target: 'backup@nas:/srv/b', slots: 16 }];
  const w = new ScheduleWizard(ctx({ profiles: remote }), idOf);
  w.submit({ ids: ['srv'] }); w.submit({ ids: ['daily'] }); w.submit({ text: '01:00' }); w.submit({ ids: ['catchUp'] }); w.submit({ text: '12' });
  const v = w.view();
  const s4u = v.kind === 'pick' ? v.items.find((i) => i.id === 'user-s4u') : undefined;
  assert.equal(s4u?.detail, 'Your target backup@nas:/srv/b is a network path: this account cannot reach it.');
});

test('Edit fills every step in from the existing schedule', () => {
  const spec = { id: 'proj', when: { kind: 'days' as const, days: [0 as const, 6 as const] }, time: { hour: 3, minute: 45 }, conditions: { runOnBattery: true, wakeToRun: false, catchUp: false, stopAfterHours: 2 }, account: 'user-s4u' as const };
  const w = new ScheduleWizard(ctx({ initial: { profileId: 'proj', spec } }), idOf);
  const answers: Record<string, unknown> = {};
  while (!w.done) {
    const v = w.view();
    if (v.kind === 'input') { answers[v.id] = v.value; w.submit({ text: v.value }); }
    else if (v.kind === 'multi') { const ids = v.items.filter((i) => i.picked).map((i) => i.id); answers[v.id] = ids; w.submit({ ids }); }
    else if (v.kind === 'review') { answers[v.id] = v.items[0]?.label; w.submit({ ids: ['create'] }); }
    else { answers[v.id] = v.activeId; w.submit({ ids: [v.activeId!] }); }
  }
  assert.deepEqual(answers, { profile: 'proj', when: 'days', days: ['6', '0'], time: '03:45', conditions: ['runOnBattery'], stopAfter: '2', account: 'user-s4u', review: 'Save' });
  assert.deepEqual(w.result().spec, spec);
});

/** Walks the wizard with the defaults and returns every screen's counter and the review. */
function walk(platform: WizardContext['platform'], extra: Partial<WizardContext> = {}) {
  const w = new ScheduleWizard(ctx({ platform, ...extra }), idOf);
  const seen: string[] = [];
  let review: StepView | undefined;
  while (!w.done) {
    const v = w.view();
    seen.push(`${v.id} ${counter(v)}`);
    if (v.kind === 'review') { review = v; w.submit({ ids: ['create'] }); }
    else if (v.kind === 'input') w.submit({ text: v.value });
    else if (v.kind === 'multi') w.submit({ ids: v.items.filter((i) => i.picked).map((i) => i.id) });
    else w.submit({ ids: [v.id === 'when' ? 'daily' : v.activeId ?? v.items[0]!.id] });
  }
  return { seen, review: review!, result: w.result() };
}

test('cron: no conditions screen (it can honour none), the reason on the stop-after screen, a review that states only what happens', () => {
  const w = new ScheduleWizard(ctx({ platform: 'cron' }), idOf);
  w.submit({ ids: ['proj'] }); w.submit({ ids: ['daily'] }); w.submit({ text: '03:17' });
  const stop = w.view();
  assert.equal(stop.id, 'stopAfter');
  assert.match(stop.kind === 'input' ? stop.prompt : '', /cron offers no other conditions: cron starts the backup on battery too; it cannot wake the computer; a start missed/);
  const { seen, review, result } = walk('cron');
  assert.deepEqual(seen, ['profile Step 1/5', 'when Step 2/5', 'time Step 3/5', 'stopAfter Step 4/5', 'review Step 5/5']);
  assert.ok(review.kind === 'review');
  assert.deepEqual(review.details.slice(1, 5), ['Runs on battery power too (cron cannot do otherwise)', 'Does not wake the computer (cron cannot do otherwise)', 'Skips a start missed while off or asleep (cron cannot do otherwise)', 'No time limit']);
  assert.ok(!review.details.some((d) => /only on AC power|Catches up/i.test(d)), 'nothing the scheduler cannot do is promised');
  assert.deepEqual(result.spec.conditions, { runOnBattery: true, wakeToRun: false, catchUp: false, stopAfterHours: 0 });
});

test('systemd: all three conditions are offered, on their own screen before stop-after; the review states the chosen ones', () => {
  const w = new ScheduleWizard(ctx({ platform: 'systemd' }), idOf);
  w.submit({ ids: ['proj'] }); w.submit({ ids: ['daily'] }); w.submit({ text: '03:17' });
  const v = w.view();
  assert.equal(v.id, 'conditions');
  assert.deepEqual(v.kind === 'multi' ? v.items.map((i) => i.id) : [], ['runOnBattery', 'wakeToRun', 'catchUp']);
  const { seen, review } = walk('systemd');
  assert.deepEqual(seen, ['profile Step 1/6', 'when Step 2/6', 'time Step 3/6', 'conditions Step 4/6', 'stopAfter Step 5/6', 'review Step 6/6']);
  assert.ok(review.kind === 'review');
  assert.deepEqual(review.details.slice(1, 5), ['Runs only on AC power', 'Does not wake the computer', 'Catches up a start missed while off or asleep', 'No time limit']);
});

test('launchd: neither conditions nor a time limit (it honours none); editing a cron-incompatible schedule keeps only what the platform does', () => {
  const { seen, result } = walk('launchd');
  assert.deepEqual(seen, ['profile Step 1/4', 'when Step 2/4', 'time Step 3/4', 'review Step 4/4']);
  assert.deepEqual(result.spec.conditions, { runOnBattery: true, wakeToRun: false, catchUp: true, stopAfterHours: 0 });
  const spec = { id: 'proj', when: { kind: 'daily' as const }, time: { hour: 1, minute: 0 }, conditions: { runOnBattery: false, wakeToRun: true, catchUp: true, stopAfterHours: 3 }, account: 'user' as const };
  const edited = walk('cron', { initial: { profileId: 'proj', spec } }).result.spec.conditions;
  assert.deepEqual(edited, { runOnBattery: true, wakeToRun: false, catchUp: false, stopAfterHours: 3 });
});
