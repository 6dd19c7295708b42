import * as vscode from 'vscode';
import * as path from 'node:path';
import { parseSlotUri, SLOT_SCHEME, slotUriParts, type SlotFileRef } from './slotUri';
import { describeEngineError, engineErrorCode } from '../engineErrors';

/** `titled`: for editors, the file name shows the slot (see slotUri.ts). */
export function slotUri(ref: SlotFileRef, titled = false): vscode.Uri {
  return vscode.Uri.from(slotUriParts(ref, titled));
}

/** Where a slot URI's file lives on disk. The slot folder is `<target>/<number>` (DESIGN: ring on disk). */
export function slotFsPath(ref: SlotFileRef): string {
  return path.join(ref.target, String(ref.slot), ...ref.relPath.split('/').filter((s) => s !== ''));
}

/** What the provider needs of the engine: slots are read where the ring lives, never by local path. */
export interface SlotReader {
  slotFolder(target: string, slot: number, path: string): Promise<Array<{ name: string; kind: 'folder' | 'file' | 'symlink' | 'other' }>>;
  slotEntry(target: string, slot: number, path: string): Promise<{ kind: 'folder' | 'file' | 'symlink' | 'other'; size: number; mtimeMs: number } | null>;
  slotFile(target: string, slot: number, path: string): Promise<Uint8Array>;
}

const FILE_TYPES = { folder: vscode.FileType.Directory, file: vscode.FileType.File, symlink: vscode.FileType.SymbolicLink, other: vscode.FileType.Unknown } as const;

/**
 * Files from slots, read-only, through the engine (the ring may be on another computer). Slots are
 * history: every unchanged file is shared with older slots, so a write through the editor would
 * silently change every slot at once. Writes are refused here and the scheme is registered
 * read-only, so the editor says so instead of offering Save.
 */
export class SlotFileSystem implements vscode.FileSystemProvider {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;

  constructor(private readonly reader: SlotReader) {}

  static register(reader: SlotReader): vscode.Disposable {
    const message = new vscode.MarkdownString('This file is inside a Shadow Slots backup slot and is read-only. Use **Restore…** in the Slots view to bring it back into the workspace.');
    return vscode.workspace.registerFileSystemProvider(SLOT_SCHEME, new SlotFileSystem(reader), { isReadonly: message, isCaseSensitive: process.platform === 'linux' });
  }

  private ref(uri: vscode.Uri): SlotFileRef {
    try {
      return parseSlotUri(uri.path, uri.query);
    } catch {
      throw vscode.FileSystemError.FileNotFound(uri);
    }
  }

  /** The engine's not-found becomes the editor's, so "the file is gone" reads as such. */
  private async ask<T>(uri: vscode.Uri, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (engineErrorCode(error) === 'not-found') throw vscode.FileSystemError.FileNotFound(uri);
      throw vscode.FileSystemError.Unavailable(`${uri.path}: ${describeEngineError(error)}`);
    }
  }

  watch(): vscode.Disposable {
    // A complete slot never changes; a dropped slot just disappears on the next read.
    return new vscode.Disposable(() => undefined);
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const ref = this.ref(uri);
    const s = await this.ask(uri, () => this.reader.slotEntry(ref.target, ref.slot, ref.relPath));
    if (!s) throw vscode.FileSystemError.FileNotFound(uri);
    return { type: FILE_TYPES[s.kind], ctime: s.mtimeMs, mtime: s.mtimeMs, size: s.size, permissions: vscode.FilePermission.Readonly };
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    const ref = this.ref(uri);
    const entries = await this.ask(uri, () => this.reader.slotFolder(ref.target, ref.slot, ref.relPath));
    return entries.map((e) => [e.name, FILE_TYPES[e.kind]]);
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const ref = this.ref(uri);
    return this.ask(uri, () => this.reader.slotFile(ref.target, ref.slot, ref.relPath));
  }

  createDirectory(uri: vscode.Uri): never { throw vscode.FileSystemError.NoPermissions(uri); }
  writeFile(uri: vscode.Uri): never { throw vscode.FileSystemError.NoPermissions(uri); }
  delete(uri: vscode.Uri): never { throw vscode.FileSystemError.NoPermissions(uri); }
  rename(uri: vscode.Uri): never { throw vscode.FileSystemError.NoPermissions(uri); }
}
