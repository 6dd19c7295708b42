/**
 * Which account the elevated helper task runs as, as the Set Up command offers it (issue 12,
 * finding 3). Pure data and decisions, no vscode, so it is unit-tested on any OS; helperFeature.ts
 * shows it.
 */
import { DEFAULT_HELPER_ACCOUNT, HELPER_ACCOUNTS, SYSTEM_ACCOUNT_LIMITS, USER_ACCOUNT_WARNING, type HelperAccount } from '../../platform/windows/helperPlan';

export interface AccountChoice {
  account: HelperAccount;
  /** The user saw USER_ACCOUNT_WARNING and chose their own account anyway. */
  userAccountAccepted: boolean;
}

export interface AccountItem {
  id: HelperAccount;
  label: string;
  description: string;
  detail: string;
}

/** SYSTEM first and recommended; the user accounts say what they risk before they are picked. */
export const ACCOUNT_ITEMS: readonly AccountItem[] = [
  { id: 'system', label: 'SYSTEM (recommended)', description: 'no program running as you can change what it runs', detail: SYSTEM_ACCOUNT_LIMITS },
  { id: 'user', label: 'My account, while I am logged on', description: 'has your network credentials', detail: 'Any program running as you can then act with administrator rights. You are asked to confirm.' },
  { id: 'user-s4u', label: 'My account, whether logged on or not', description: 'no network credentials', detail: 'Any program running as you can then act with administrator rights. You are asked to confirm.' },
];

export const USER_ACCOUNT_CONFIRM = 'Use My Account Anyway';

/** The question asked after a user account is picked; only USER_ACCOUNT_CONFIRM accepts it. */
export function userAccountQuestion(account: Exclude<HelperAccount, 'system'>): { message: string; detail: string } {
  return {
    message: `Run the elevated helper as your own account (${account === 'user' ? 'while you are logged on' : 'whether logged on or not'})?`,
    detail: `${USER_ACCOUNT_WARNING}\n\nSYSTEM is the safe choice. ${SYSTEM_ACCOUNT_LIMITS}`,
  };
}

/**
 * What the extension remembered, as a choice to plan with. A user account remembered without
 * the confirmation (set up before the warning existed) falls back to SYSTEM: the installed helper
 * then no longer matches the plan, and the next backup offers to update it.
 */
export function rememberedChoice(account: unknown, accepted: unknown): AccountChoice {
  const known = HELPER_ACCOUNTS.includes(account as HelperAccount) ? account as HelperAccount : DEFAULT_HELPER_ACCOUNT;
  if (known !== 'system' && accepted !== true) return { account: DEFAULT_HELPER_ACCOUNT, userAccountAccepted: false };
  return { account: known, userAccountAccepted: known !== 'system' };
}
