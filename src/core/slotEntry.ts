/** What the editor is told about one entry inside a slot (declared here so the protocol can carry it). */
export interface SlotDirEntry {
  name: string;
  /** Symlinks are listed as such and never followed: a slot's link may point anywhere. */
  kind: 'folder' | 'file' | 'symlink' | 'other';
  /** Bytes for files (and the link text length for symlinks); 0 for folders. */
  size: number;
  /** Last modification, milliseconds since the epoch (as rsync -t preserved it). */
  mtimeMs: number;
}

/** Enough to tell two versions of a file apart the way rsync does (size + mtime), and hard links apart by inode. */
export interface FileIdentity {
  size: number;
  mtimeMs: number;
  dev: number;
  ino: number;
  isFile: boolean;
}

/** One entry's identity plus what it is (a file system provider must know folders from files). */
export interface SlotEntryInfo extends FileIdentity {
  kind: SlotDirEntry['kind'];
}
