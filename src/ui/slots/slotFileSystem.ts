import * as vscode from 'vscode';
import * as path from 'node:path';
import { parseSlotUri, SLOT_SCHEME, slotUriParts, type SlotFileRef } from './slotUri';

/** `titled`: for editors, the file name shows the slot (see slotUri.ts). */
export function slotUri(ref: SlotFileRef, titled = false): vscode.Uri {
  return vscode.Uri.from(slotUriParts(ref, titled));
}

/** Where a slot URI's file lives on disk. The slot folder is `<target>/<number>` (DESIGN: ring on disk). */
export function slotFsPath(ref: SlotFileRef): string {
  return path.join(ref.target, String(ref.slot), ...ref.relPath.split('/').filter((s) => s !== ''));
}

/**
 * Files from slots, read-only. Slots are history: every unchanged file is a hard link shared with
 * older slots, so a write through the editor would silently change every slot at once. Writes are
 * refused here and the scheme is registered read-only, so the editor says so instead of offering Save.
 */
export class SlotFileSystem implements vscode.FileSystemProvider {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;

  static register(): vscode.Disposable {
    const message = new vscode.MarkdownString('This file is inside a Shadow Slots backup slot and is read-only. Use **Restore…** in the Slots view to bring it back into the workspace.');
    return vscode.workspace.registerFileSystemProvider(SLOT_SCHEME, new SlotFileSystem(), { isReadonly: message, isCaseSensitive: process.platform === 'linux' });
  }

  private fsPath(uri: vscode.Uri): string {
    try {
      return slotFsPath(parseSlotUri(uri.path, uri.query));
    } catch {
      throw vscode.FileSystemError.FileNotFound(uri);
    }
  }

  watch(): vscode.Disposable {
    // A complete slot never changes; a dropped slot just disappears on the next read.
    return new vscode.Disposable(() => undefined);
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const s = await vscode.workspace.fs.stat(vscode.Uri.file(this.fsPath(uri)));
    return { ...s, permissions: vscode.FilePermission.Readonly };
  }

  readDirectory(uri: vscode.Uri): Thenable<[string, vscode.FileType][]> {
    return vscode.workspace.fs.readDirectory(vscode.Uri.file(this.fsPath(uri)));
  }

  readFile(uri: vscode.Uri): Thenable<Uint8Array> {
    return vscode.workspace.fs.readFile(vscode.Uri.file(this.fsPath(uri)));
  }

  createDirectory(uri: vscode.Uri): never { throw vscode.FileSystemError.NoPermissions(uri); }
  writeFile(uri: vscode.Uri): never { throw vscode.FileSystemError.NoPermissions(uri); }
  delete(uri: vscode.Uri): never { throw vscode.FileSystemError.NoPermissions(uri); }
  rename(uri: vscode.Uri): never { throw vscode.FileSystemError.NoPermissions(uri); }
}
