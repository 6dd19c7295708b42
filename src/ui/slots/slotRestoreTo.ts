import * as vscode from 'vscode';
import * as os from 'node:os';
import * as path from 'node:path';
import { readdir } from 'node:fs/promises';
import type { Services } from '../services';
import { describeEngineError, engineErrorCode } from '../engineErrors';
import type { RestoreResult } from '../../rpc/protocol';
import { sourceFolder } from '../settings';
import { pickerStart } from '../backup/targetLocation';
import { slotLogName, slotName, slotTime } from './slotNodeData';
import { chosenSlot, slotRef } from './slotActionTarget';
import { sourceRootOf } from './slotItem';
import { showErrorWithLog } from './slotCommands';
import { folderNameProblem, newFolderName, restoreRefusal } from './restoreDestination';

/** Where the last whole-slot restore went: the next picker opens beside it. */
const LAST_RESTORE_KEY = 'shadowSlots.lastRestoreFolder';

/**
 * Restore Whole Slot to Folder…: the slot's files land in a folder the user picks outside the
 * workspace. An empty folder takes them directly; for a folder that holds something, a new folder
 * inside it is offered (named after the project and the slot's time), because the engine never
 * merges into or overwrites anything. A refused place says why and the picker opens again.
 * `scripted` (tests, keybindings) is used as the destination without any dialog.
 */
export async function restoreSlotTo(services: Services, arg: unknown, scripted: vscode.Uri | undefined): Promise<RestoreResult | undefined> {
  const item = await chosenSlot(services, arg, 'Restore which backup to a folder?');
  if (!item) return undefined;
  const name = slotName(item.summary, item.slot);
  const what = `the backup of ${name}`;
  const workspace = sourceFolder()?.uri.fsPath;
  for (;;) {
    const into = scripted?.fsPath ?? await pickDestination(services, item.summary ? slotTime(item.summary) : undefined, sourceRootOf(item), workspace, what);
    if (into === undefined) return undefined;
    const refusal = restoreRefusal(into, workspace, item.target);
    let problem = refusal;
    if (!problem) {
      try {
        const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Restoring ${what} into ${into}…` }, () => services.engine.restoreInto({ ...slotRef(item), path: '', into }));
        services.log.info(`Restored the whole of ${slotLogName(item.summary, item.slot)} into ${into}`);
        await services.context.globalState.update(LAST_RESTORE_KEY, into);
        void vscode.window.showInformationMessage(`Restored ${what} into ${into}.`, 'Open Folder in New Window').then((a) => {
          if (a) void vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(into), { forceNewWindow: true });
        });
        return result;
      } catch (error) {
        // Not empty, a link, inside the ring: the user can choose again; anything else is a failure.
        if (engineErrorCode(error) !== 'invalid-input') {
          void showErrorWithLog(`Restoring ${what} failed: ${describeEngineError(error)}`);
          return undefined;
        }
        problem = describeEngineError(error);
      }
    }
    if (scripted) {
      void showErrorWithLog(`${into} cannot take the restore: ${problem}`);
      return undefined;
    }
    const again = 'Choose Another Folder';
    if ((await vscode.window.showErrorMessage(`${into} cannot take the restore.`, { modal: true, detail: problem }, again)) !== again) return undefined;
  }
}

/** The folder picker (opened outside the workspace), then a new folder's name when the pick is not empty. */
async function pickDestination(services: Services, time: Date | undefined, source: string | undefined, workspace: string | undefined, what: string): Promise<string | undefined> {
  const last = services.context.globalState.get<string>(LAST_RESTORE_KEY);
  const start = pickerStart({ workspace, current: undefined, last, mediaRoots: [], home: os.homedir() });
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: false, canSelectFolders: true, canSelectMany: false, openLabel: 'Restore Here',
    title: `Restore ${what}: choose an empty folder, or one to make a new folder in`, defaultUri: vscode.Uri.file(start),
  });
  const folder = picked?.[0]?.fsPath;
  if (folder === undefined) return undefined;
  const names = await readdir(folder).catch(() => [] as string[]);
  if (names.length === 0) return folder;
  const taken = new Set(names);
  const name = await vscode.window.showInputBox({
    title: `Restore ${what}`,
    prompt: `${folder} is not empty, and a restore never merges into a folder: name a new folder to make inside it.`,
    value: newFolderName(source, time, taken),
    validateInput: (v) => folderNameProblem(v, taken),
  });
  return name === undefined ? undefined : path.join(folder, name);
}
