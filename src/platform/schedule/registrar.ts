import type { SchedulerPlatform } from '../../core/schedule/wizard';
import type { Artefact } from './artefacts';
import type { ScheduleEntry } from './registry';

/** What the platform itself says about a registered schedule (fields it cannot tell are absent). */
export interface PlatformStatus {
  registered: boolean;
  nextRun?: string;
  lastRun?: string;
  lastResult?: string;
}

/**
 * Puts a schedule's artefacts into a platform scheduler and takes them out again.
 * `install` replaces an existing registration of the same id and either fully succeeds or leaves
 * the previous state in place; `uninstall` succeeds when there is nothing to remove.
 */
export interface Registrar {
  platform: SchedulerPlatform;
  install(entry: ScheduleEntry, artefacts: Artefact[]): Promise<void>;
  uninstall(entry: Pick<ScheduleEntry, 'id' | 'files'>): Promise<void>;
  status(entry: ScheduleEntry): Promise<PlatformStatus>;
  /** Ids registered on the platform by this tool (found by name or marker), registry or not. */
  ownIds(): Promise<string[]>;
}
