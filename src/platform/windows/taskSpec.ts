/**
 * What a Windows Task Scheduler task should be, as data. `taskXml.ts` turns it into the XML
 * (UTF-16LE with BOM) that `schtasks /Create /XML` registers. Shared by the elevated helper task
 * (no trigger: started on demand with `schtasks /Run`) and by backup schedules (calendar or
 * one-time triggers).
 */
export type TaskPrincipal =
  /** This user while logged on: has network credentials (SMB targets work). */
  | { kind: 'interactive'; userId: string }
  /** This user whether logged on or not, no stored password, no network credentials. */
  | { kind: 's4u'; userId: string }
  /** LocalSystem (S-1-5-18); authenticates on the network as the computer account. */
  | { kind: 'system' };

export type TaskTrigger =
  | { kind: 'daily'; start: string /* local 'YYYY-MM-DDTHH:MM:SS' */ }
  | { kind: 'weekly'; start: string; days: Array<'Monday' | 'Tuesday' | 'Wednesday' | 'Thursday' | 'Friday' | 'Saturday' | 'Sunday'> }
  | { kind: 'once'; start: string };

export interface TaskSpec {
  /** e.g. `\Shadow Slots\helper-<profile>`; folder and name are validated by the generator. */
  path: string;
  description: string;
  author: string;
  principal: TaskPrincipal;
  /** HighestAvailable for the elevated helper; LeastPrivilege for user-level schedules. */
  runLevel: 'HighestAvailable' | 'LeastPrivilege';
  triggers: TaskTrigger[];
  /** Executable path and its arguments; each argument is quoted for the Windows command line. */
  action: { command: string; arguments: string[]; workingDirectory?: string };
  settings: {
    runOnBattery: boolean;
    wakeToRun: boolean;
    /** StartWhenAvailable: run as soon as possible after a missed start. */
    catchUp: boolean;
    /** ExecutionTimeLimit in hours (0 = no limit). */
    stopAfterHours: number;
  };
  /** SDDL for RegistrationInfo/SecurityDescriptor, e.g. granting the user read+execute (FRFX). */
  securityDescriptor?: string;
}
