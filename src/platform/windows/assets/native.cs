// Shadow Slots: the native calls of the elevated installer (install.ps1) and helper (helper.ps1).
// CONSTANT file, C# 5 (what Add-Type on .NET Framework compiles). Each script compiles it with
// Add-Type only after TEMP points into a folder only administrators can write, from bytes whose
// SHA-256 was checked (install.json for the installer; the checked install folder for the helper).
// `Acl` and `CygwinNames` are pure and run under Mono in the unit tests
// (test/unit/windows/nativeCs.test.ts); `Native` needs Windows. docs/windows.md has the threat model.
using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.IO;
using System.Runtime.InteropServices;
using System.Security.AccessControl;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace ShadowSlots
{
    /// Checks of raw security descriptors. .NET's GetAccessRules skips callback (conditional) ACEs
    /// that NTFS honours, so every check reads the raw DACL and refuses any entry that is not a
    /// plain allow or deny entry (issue 12 review, L1).
    public static class Acl
    {
        public const string Administrators = "S-1-5-32-544";
        public const string LocalSystem = "S-1-5-18";
        public const string TrustedInstaller = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464";
        public const string CreatorOwner = "S-1-3-0";
        public const string OwnerRights = "S-1-3-4";
        /// Mirrors WRITE_RIGHTS_MASK of src/core/windows/acl.ts: any of these changes the object or what is in it.
        public const int WriteRights = 0x500D0156;
        /// On a folder above the one that matters: rights that let their holder rename, delete or
        /// re-permission it or replace an entry in it (DELETE, WRITE_DAC, WRITE_OWNER,
        /// FILE_DELETE_CHILD, GENERIC_WRITE, GENERIC_ALL). Adding new entries is harmless there.
        public const int ReplaceRights = 0x10000 | 0x40000 | 0x80000 | 0x40 | 0x40000000 | 0x10000000;

        /// Null for a plain (non-callback, non-object) allow or deny entry, else what it is.
        public static string UncheckedKind(GenericAce ace)
        {
            CommonAce common = ace as CommonAce;
            if (common == null) return ace.AceType.ToString();
            if (common.IsCallback) return ace.AceType.ToString() + " (conditional)";
            if (common.AceQualifier != AceQualifier.AccessAllowed && common.AceQualifier != AceQualifier.AccessDenied) return ace.AceType.ToString();
            return null;
        }

        /// Why someone other than `trusted` could change the object (null: nobody else can). The
        /// owner must be one of `trusted`; no allow entry for another SID may hold any of `mask`.
        /// `appliesOnly` skips inherit-only entries (they do not apply to the object itself).
        /// CREATOR OWNER names whoever creates a child, who needs rights this check already
        /// looks at; OWNER RIGHTS applies to the (trusted) owner.
        public static string WriteProblem(RawSecurityDescriptor sd, string[] trusted, int mask, bool appliesOnly)
        {
            string owner = sd.Owner == null ? null : sd.Owner.Value;
            if (owner == null || Array.IndexOf(trusted, owner) < 0) return "it is owned by " + (owner ?? "nobody");
            if ((sd.ControlFlags & ControlFlags.DiscretionaryAclPresent) == 0 || sd.DiscretionaryAcl == null) return "it has no access list, so everyone may change it";
            foreach (GenericAce ace in sd.DiscretionaryAcl)
            {
                string kind = UncheckedKind(ace);
                if (kind != null) return "it has an access entry of a kind the helper does not check (" + kind + ")";
                CommonAce c = (CommonAce)ace;
                if (c.AceQualifier != AceQualifier.AccessAllowed) continue;
                if (appliesOnly && (c.AceFlags & AceFlags.InheritOnly) != 0) continue;
                string sid = c.SecurityIdentifier.Value;
                if (Array.IndexOf(trusted, sid) >= 0 || sid == OwnerRights || sid == CreatorOwner) continue;
                if ((c.AccessMask & mask) != 0) return sid + " may change it (access mask 0x" + c.AccessMask.ToString("x") + ")";
            }
            return null;
        }

        /// The DACL as install.ps1 compares it with the plan (expectedRules of src/core/windows/acl.ts):
        /// "sid|mask|inheritanceFlags|propagationFlags" per explicit plain allow entry, sorted;
        /// anything else becomes an "unexpected" line, so the comparison fails.
        public static string[] Rules(RawSecurityDescriptor sd)
        {
            List<string> rules = new List<string>();
            if (sd.DiscretionaryAcl == null) { rules.Add("unexpected: no DACL"); return rules.ToArray(); }
            foreach (GenericAce ace in sd.DiscretionaryAcl)
            {
                string kind = UncheckedKind(ace);
                CommonAce c = ace as CommonAce;
                if (kind != null || c.AceQualifier != AceQualifier.AccessAllowed || c.IsInherited) { rules.Add("unexpected: " + (kind ?? c.AceQualifier.ToString() + (c.IsInherited ? " inherited" : ""))); continue; }
                rules.Add(c.SecurityIdentifier.Value + "|" + c.AccessMask + "|" + (int)c.InheritanceFlags + "|" + (int)c.PropagationFlags);
            }
            rules.Sort(StringComparer.Ordinal);
            return rules.ToArray();
        }

        public static bool IsProtected(RawSecurityDescriptor sd)
        {
            return (sd.ControlFlags & ControlFlags.DiscretionaryAclProtected) != 0;
        }

        /// Owner, protection and rules exactly as planned: how every folder the installer makes is read back.
        public static string PlannedProblem(RawSecurityDescriptor sd, string owner, string[] plannedRules)
        {
            if (sd.Owner == null || sd.Owner.Value != owner) return "the owner is " + (sd.Owner == null ? "nobody" : sd.Owner.Value);
            if (!IsProtected(sd)) return "the access list inherits from the folder above";
            string got = string.Join(";", Rules(sd));
            string want = string.Join(";", plannedRules);
            return got == want ? null : "the access list is " + got;
        }
    }

    /// Names that Cygwin and MSYS2 present to rsync differently from how Windows stores them
    /// (issue 12 review, H3): U+F000-U+F0FF stand for ASCII characters or raw bytes, unpaired
    /// surrogates are converted lossily, control and reserved characters are mapped, and a
    /// trailing dot or space is mapped on the way back. An exclude rule written from the Windows
    /// name would not match what rsync sees, so a link with such a name stops the run instead.
    /// Mirrors cygwinNameProblem of src/core/windows/reparseExcludes.ts.
    public static class CygwinNames
    {
        public static string Problem(string relative)
        {
            for (int i = 0; i < relative.Length; i++)
            {
                char c = relative[i];
                if (c >= '\uF000' && c <= '\uF0FF') return "a private-use character U+" + ((int)c).ToString("X4");
                if (char.IsHighSurrogate(c))
                {
                    if (i + 1 < relative.Length && char.IsLowSurrogate(relative[i + 1])) { i++; continue; }
                    return "an unpaired surrogate";
                }
                if (char.IsLowSurrogate(c)) return "an unpaired surrogate";
                if (c < ' ' || "*?:\"<>|/".IndexOf(c) >= 0) return "a character Windows reserves";
            }
            foreach (string part in relative.Split('\\'))
            {
                if (part.EndsWith(".") || part.EndsWith(" ")) return "a name ending in a dot or space";
            }
            return null;
        }
    }

    /// What a scan of the shadowed source found (see Native.ScanSource).
    public sealed class SourceScan
    {
        /// Links, junctions and mount points (relative, folders end in a backslash): excluded, never entered.
        public List<string> Redirections = new List<string>();
        /// Redirecting entries whose names rsync would see differently: the run stops.
        public List<string> Unmatchable = new List<string>();
        /// Entries the requester could not read: the run stops (a slot is readable by them).
        public List<string> Unreadable = new List<string>();
        public long Entries;
    }

    /// Windows calls; every path is opened as itself (FILE_FLAG_OPEN_REPARSE_POINT) and every
    /// security descriptor is read and written through such a handle, never by path.
    /// Review H3: the processes the helper starts (rsync, rsync's ssh, the session's ssh, and what
    /// Cygwin forks) must not outlive it. The helper puts itself into a new job object that kills
    /// every process in it when its last handle closes. Only the helper holds that handle (not
    /// inheritable), and the kernel closes it however the helper ends (Task Scheduler's End or time
    /// limit, a crash, TerminateProcess); children inherit the job, and no breakaway is allowed.
    public static class ProcessJob
    {
        public const uint KillOnJobClose = 0x2000;
        const int JobObjectExtendedLimitInformation = 9;

        [StructLayout(LayoutKind.Sequential)]
        public struct BasicLimits
        {
            public long PerProcessUserTimeLimit, PerJobUserTimeLimit;
            public uint LimitFlags;
            public UIntPtr MinimumWorkingSetSize, MaximumWorkingSetSize;
            public uint ActiveProcessLimit;
            public UIntPtr Affinity;
            public uint PriorityClass, SchedulingClass;
        }

        [StructLayout(LayoutKind.Sequential)]
        public struct IoCounters { public ulong ReadOperations, WriteOperations, OtherOperations, ReadBytes, WriteBytes, OtherBytes; }

        [StructLayout(LayoutKind.Sequential)]
        public struct ExtendedLimits
        {
            public BasicLimits Basic;
            public IoCounters Io;
            public UIntPtr ProcessMemoryLimit, JobMemoryLimit, PeakProcessMemoryUsed, PeakJobMemoryUsed;
        }

        [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        static extern IntPtr CreateJobObjectW(IntPtr security, string name);
        [DllImport("kernel32.dll", SetLastError = true)]
        static extern bool SetInformationJobObject(IntPtr job, int infoClass, ref ExtendedLimits info, uint length);
        [DllImport("kernel32.dll", SetLastError = true)]
        static extern bool AssignProcessToJobObject(IntPtr job, IntPtr process);
        [DllImport("kernel32.dll", SetLastError = true)]
        static extern bool IsProcessInJob(IntPtr process, IntPtr job, out bool result);
        [DllImport("kernel32.dll")]
        static extern IntPtr GetCurrentProcess();

        /// Held until the process ends: closing it is what kills the job's processes.
        static IntPtr job = IntPtr.Zero;

        /// The limits the job is created with: kill on close, nothing else.
        public static ExtendedLimits Limits()
        {
            ExtendedLimits limits = new ExtendedLimits();
            limits.Basic.LimitFlags = KillOnJobClose;
            return limits;
        }

        /// Puts this process into a new kill-on-close job, before it starts any other process.
        public static void KillChildrenWithThisProcess()
        {
            if (job != IntPtr.Zero) return;
            IntPtr created = CreateJobObjectW(IntPtr.Zero, null);
            if (created == IntPtr.Zero) throw new Win32Exception(Marshal.GetLastWin32Error(), "Cannot create a job object");
            ExtendedLimits limits = Limits();
            if (!SetInformationJobObject(created, JobObjectExtendedLimitInformation, ref limits, (uint)Marshal.SizeOf(typeof(ExtendedLimits))))
                throw new Win32Exception(Marshal.GetLastWin32Error(), "Cannot make the job kill its processes when it closes");
            if (!AssignProcessToJobObject(created, GetCurrentProcess()))
                throw new Win32Exception(Marshal.GetLastWin32Error(), "Cannot put the helper into its job");
            bool inside;
            if (!IsProcessInJob(GetCurrentProcess(), created, out inside) || !inside) throw new InvalidOperationException("The helper is not in its job.");
            job = created;
        }
    }

    public static class Native
    {
        const uint FILE_READ_DATA = 0x1, FILE_LIST_DIRECTORY = 0x1, FILE_READ_ATTRIBUTES = 0x80, FILE_WRITE_ATTRIBUTES = 0x100;
        const uint DELETE = 0x10000, READ_CONTROL = 0x20000, WRITE_DAC = 0x40000, WRITE_OWNER = 0x80000, SYNCHRONIZE = 0x100000;
        const uint GENERIC_READ = 0x80000000, GENERIC_WRITE = 0x40000000;
        const uint FILE_SHARE_READ = 1, FILE_SHARE_WRITE = 2, FILE_SHARE_DELETE = 4;
        const uint CREATE_NEW = 1, OPEN_EXISTING = 3;
        const uint FILE_FLAG_BACKUP_SEMANTICS = 0x02000000, FILE_FLAG_OPEN_REPARSE_POINT = 0x00200000, FILE_ATTRIBUTE_NORMAL = 0x80;
        const uint ATTRIBUTE_DIRECTORY = 0x10, ATTRIBUTE_REPARSE_POINT = 0x400;
        const uint OWNER_SECURITY_INFORMATION = 1, GROUP_SECURITY_INFORMATION = 2, DACL_SECURITY_INFORMATION = 4;
        const int FileBasicInfo = 0, FileRenameInfo = 3, FileDispositionInfo = 4, FileAttributeTagInfo = 9, FileFullDirectoryInfo = 14, FileFullDirectoryRestartInfo = 15;
        const int ERROR_NO_MORE_FILES = 18, ERROR_NOT_ALL_ASSIGNED = 1300;
        const uint IO_REPARSE_TAG_MOUNT_POINT = 0xA0000003, FSCTL_GET_REPARSE_POINT = 0x000900A8;
        /// FILE_READ_DATA (list, for folders) and FILE_READ_ATTRIBUTES: what reading an entry needs.
        const uint READ_ENTRY = FILE_READ_DATA | FILE_READ_ATTRIBUTES;

        [StructLayout(LayoutKind.Sequential)]
        struct HandleInfo { public uint Attributes, C1, C2, A1, A2, W1, W2, Volume, SizeHigh, SizeLow, Links, IndexHigh, IndexLow; }

        [StructLayout(LayoutKind.Sequential)]
        struct SecurityAttributes { public int Length; public IntPtr Descriptor; public int Inherit; }

        [StructLayout(LayoutKind.Sequential, Pack = 4)]
        struct TokenPrivilege { public uint Count; public long Luid; public uint Attributes; }

        [StructLayout(LayoutKind.Sequential)]
        struct IoStatusBlock { public IntPtr Status; public IntPtr Information; }

        [StructLayout(LayoutKind.Sequential)]
        struct AuthzRequest { public uint DesiredAccess; public IntPtr PrincipalSelfSid; public IntPtr ObjectTypeList; public uint ObjectTypeListLength; public IntPtr OptionalArguments; }

        [StructLayout(LayoutKind.Sequential)]
        struct AuthzReply { public uint ResultListLength; public IntPtr GrantedAccessMask; public IntPtr SaclEvaluationResults; public IntPtr Error; }

        [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        static extern SafeFileHandle CreateFileW(string name, uint access, uint share, IntPtr security, uint disposition, uint flags, IntPtr template);
        [DllImport("kernel32.dll", SetLastError = true)]
        static extern bool GetFileInformationByHandle(SafeFileHandle handle, out HandleInfo info);
        [DllImport("kernel32.dll", SetLastError = true)]
        static extern bool GetFileInformationByHandleEx(SafeFileHandle handle, int infoClass, IntPtr buffer, uint size);
        [DllImport("kernel32.dll", SetLastError = true)]
        static extern bool SetFileInformationByHandle(SafeFileHandle handle, int infoClass, IntPtr buffer, uint size);
        [DllImport("kernel32.dll", SetLastError = true)]
        static extern bool DeviceIoControl(SafeFileHandle handle, uint code, IntPtr input, uint inputSize, IntPtr output, uint outputSize, out uint returned, IntPtr overlapped);
        [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        static extern bool CreateDirectoryW(string path, ref SecurityAttributes security);
        [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        [return: MarshalAs(UnmanagedType.I1)]
        static extern bool CreateSymbolicLinkW(string link, string target, uint flags);
        [DllImport("kernel32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        static extern bool MoveFileExW(string from, string to, uint flags);
        [DllImport("advapi32.dll", SetLastError = true)]
        static extern bool GetKernelObjectSecurity(SafeHandle handle, uint info, byte[] descriptor, uint length, out uint needed);
        [DllImport("advapi32.dll", SetLastError = true)]
        static extern bool SetKernelObjectSecurity(SafeHandle handle, uint info, byte[] descriptor);
        [DllImport("kernel32.dll")]
        static extern IntPtr GetCurrentProcess();
        [DllImport("advapi32.dll", SetLastError = true)]
        static extern bool OpenProcessToken(IntPtr process, uint access, out IntPtr token);
        [DllImport("advapi32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        static extern bool LookupPrivilegeValueW(string system, string name, out long luid);
        [DllImport("advapi32.dll", SetLastError = true)]
        static extern bool AdjustTokenPrivileges(IntPtr token, bool disableAll, ref TokenPrivilege state, uint length, IntPtr previous, IntPtr returned);
        [DllImport("kernel32.dll")]
        static extern bool CloseHandle(IntPtr handle);
        [DllImport("ntdll.dll")]
        static extern int NtQueryInformationFile(SafeFileHandle handle, out IoStatusBlock status, IntPtr info, uint length, int infoClass);
        [DllImport("authz.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        static extern bool AuthzInitializeResourceManager(uint flags, IntPtr check, IntPtr compute, IntPtr free, string name, out IntPtr manager);
        [DllImport("authz.dll", SetLastError = true)]
        static extern bool AuthzInitializeContextFromSid(uint flags, byte[] sid, IntPtr manager, IntPtr expiration, long identifier, IntPtr dynamicGroups, out IntPtr context);
        [DllImport("authz.dll", SetLastError = true)]
        static extern bool AuthzAccessCheck(uint flags, IntPtr context, ref AuthzRequest request, IntPtr audit, byte[] descriptor, IntPtr extra, uint extraCount, ref AuthzReply reply, IntPtr results);
        [DllImport("authz.dll")]
        static extern bool AuthzFreeContext(IntPtr context);
        [DllImport("authz.dll")]
        static extern bool AuthzFreeResourceManager(IntPtr manager);

        static string Long(string path)
        {
            if (path.StartsWith(@"\\?\")) return path;
            if (path.StartsWith(@"\\")) return @"\\?\UNC\" + path.Substring(2);
            return @"\\?\" + path;
        }

        static Win32Exception Error(string what)
        {
            int code = Marshal.GetLastWin32Error();
            return new Win32Exception(code, what + ": " + new Win32Exception(code).Message);
        }

        static HandleInfo Info(SafeFileHandle h, string path)
        {
            HandleInfo info;
            if (!GetFileInformationByHandle(h, out info))
            {
                Win32Exception e = Error("Cannot read " + path);
                h.Dispose();
                throw e;
            }
            return info;
        }

        /// Enables SeBackupPrivilege, SeRestorePrivilege and SeTakeOwnershipPrivilege, which an
        /// elevated token holds disabled: the helper then lists what rsync (which enables them
        /// itself) can list, and the installer can take ownership through a handle. Returns the
        /// names it could not enable.
        public static string[] EnablePrivileges()
        {
            List<string> missing = new List<string>();
            IntPtr token;
            if (!OpenProcessToken(GetCurrentProcess(), 0x20 | 0x8, out token)) throw Error("Cannot open the process token");
            try
            {
                foreach (string name in new string[] { "SeBackupPrivilege", "SeRestorePrivilege", "SeTakeOwnershipPrivilege" })
                {
                    TokenPrivilege p = new TokenPrivilege();
                    p.Count = 1; p.Attributes = 2;
                    if (!LookupPrivilegeValueW(null, name, out p.Luid)) { missing.Add(name); continue; }
                    if (!AdjustTokenPrivileges(token, false, ref p, 0, IntPtr.Zero, IntPtr.Zero) || Marshal.GetLastWin32Error() == ERROR_NOT_ALL_ASSIGNED) missing.Add(name);
                }
            }
            finally { CloseHandle(token); }
            return missing.ToArray();
        }

        /// Opens an entry as itself, never through a link: `folder` true needs a folder, false a
        /// file. A reparse point is refused with a message that says what it is.
        public static SafeFileHandle Open(string path, uint access, uint share, bool folder)
        {
            return Open(path, access, share, folder, false);
        }

        /// `dataReparse`: the caller knows from the listing that the entry's reparse point holds
        /// the file's own data (deduplication, cloud files): it is opened as itself like any entry.
        static SafeFileHandle Open(string path, uint access, uint share, bool folder, bool dataReparse)
        {
            SafeFileHandle h = CreateFileW(Long(path), access, share, IntPtr.Zero, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, IntPtr.Zero);
            if (h.IsInvalid) throw Error("Cannot open " + path);
            HandleInfo info = Info(h, path);
            if ((info.Attributes & ATTRIBUTE_REPARSE_POINT) != 0 && !dataReparse)
            {
                string mount = MountedVolume(h);
                h.Dispose();
                if (mount != null) throw new IOException(path + " is a mount point of another volume (" + mount + "); the elevated helper does not follow mount points. Give the path on that volume by its own drive letter (assign one in Disk Management).");
                throw new IOException(path + " is a link or junction; the elevated helper does not follow links it did not make. Replace it with a real folder.");
            }
            bool isFolder = (info.Attributes & ATTRIBUTE_DIRECTORY) != 0;
            if (isFolder != folder) { h.Dispose(); throw new IOException(path + (folder ? " is not a folder." : " is a folder, not a file.")); }
            return h;
        }

        /// The volume GUID path a mount-point reparse point names, or null for a junction or link.
        static string MountedVolume(SafeFileHandle h)
        {
            IntPtr buffer = Marshal.AllocHGlobal(16384);
            try
            {
                uint returned;
                if (!DeviceIoControl(h, FSCTL_GET_REPARSE_POINT, IntPtr.Zero, 0, buffer, 16384, out returned, IntPtr.Zero)) return null;
                if ((uint)Marshal.ReadInt32(buffer) != IO_REPARSE_TAG_MOUNT_POINT) return null;
                int offset = Marshal.ReadInt16(buffer, 8), length = Marshal.ReadInt16(buffer, 10);
                string target = Marshal.PtrToStringUni(new IntPtr(buffer.ToInt64() + 16 + offset), length / 2);
                return target.StartsWith(@"\??\Volume{", StringComparison.OrdinalIgnoreCase) ? target : null;
            }
            finally { Marshal.FreeHGlobal(buffer); }
        }

        /// Opens a folder itself and keeps it from being renamed, deleted or replaced while the
        /// handle is open (no FILE_SHARE_DELETE). Refuses links, junctions, mount points and files.
        public static SafeFileHandle Pin(string path)
        {
            return Open(path, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | READ_CONTROL | SYNCHRONIZE, FILE_SHARE_READ | FILE_SHARE_WRITE, true);
        }

        /// Pins every folder of an absolute path from the volume (or share) root down, so the path
        /// names the same folders for as long as the handles are open.
        public static List<SafeFileHandle> PinPath(string path)
        {
            string root, rest;
            if (path.StartsWith(@"\\"))
            {
                int server = path.IndexOf('\\', 2);
                int share = server < 0 ? -1 : path.IndexOf('\\', server + 1);
                root = (share < 0 ? path : path.Substring(0, share)) + @"\";
                rest = share < 0 ? "" : path.Substring(share + 1);
            }
            else
            {
                root = path.Substring(0, 3);
                rest = path.Substring(3);
            }
            List<SafeFileHandle> pins = new List<SafeFileHandle>();
            try
            {
                string current = root;
                pins.Add(Pin(current));
                foreach (string part in rest.Split(new char[] { '\\' }, StringSplitOptions.RemoveEmptyEntries))
                {
                    current = current.EndsWith(@"\") ? current + part : current + @"\" + part;
                    pins.Add(Pin(current));
                }
            }
            catch
            {
                foreach (SafeFileHandle p in pins) p.Dispose();
                throw;
            }
            return pins;
        }

        /// The owner, group and DACL of an open handle, as the kernel has them.
        public static RawSecurityDescriptor Security(SafeHandle h)
        {
            uint needed;
            GetKernelObjectSecurity(h, OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, null, 0, out needed);
            if (needed == 0) throw Error("Cannot read a security descriptor");
            byte[] sd = new byte[needed];
            if (!GetKernelObjectSecurity(h, OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, sd, needed, out needed)) throw Error("Cannot read a security descriptor");
            return new RawSecurityDescriptor(sd, 0);
        }

        static byte[] Binary(RawSecurityDescriptor sd)
        {
            byte[] bytes = new byte[sd.BinaryLength];
            sd.GetBinaryForm(bytes, 0);
            return bytes;
        }

        /// Writes owner and protected DACL through the handle (which needs WRITE_DAC and
        /// WRITE_OWNER). SetKernelObjectSecurity touches only this object: SetSecurityInfo would
        /// walk existing children by path to propagate inheritable entries.
        public static void SetSecurity(SafeHandle h, string sddl)
        {
            if (!SetKernelObjectSecurity(h, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, Binary(new RawSecurityDescriptor(sddl)))) throw Error("Cannot set a security descriptor");
        }

        /// Takes ownership through the handle (opened with WRITE_OWNER; SeTakeOwnershipPrivilege
        /// grants it): what takeown.exe does by path, without following anything.
        public static void SetOwner(SafeHandle h, string sid)
        {
            if (!SetKernelObjectSecurity(h, OWNER_SECURITY_INFORMATION, Binary(new RawSecurityDescriptor("O:" + sid)))) throw Error("Cannot take ownership");
        }

        /// Creates a folder with its whole security descriptor in one call; fails if anything
        /// already has the name (CreateDirectory(path, DirectorySecurity) of .NET returns an
        /// existing folder silently, which is how a raced root was adopted: review H2).
        public static void CreateDirectory(string path, string sddl)
        {
            byte[] sd = Binary(new RawSecurityDescriptor(sddl));
            GCHandle pinned = GCHandle.Alloc(sd, GCHandleType.Pinned);
            try
            {
                SecurityAttributes sa = new SecurityAttributes();
                sa.Length = Marshal.SizeOf(typeof(SecurityAttributes));
                sa.Descriptor = pinned.AddrOfPinnedObject();
                if (!CreateDirectoryW(Long(path), ref sa)) throw Error("Cannot create " + path);
            }
            finally { pinned.Free(); }
        }

        /// Renames exactly the object behind the handle (opened with DELETE); fails if `to` exists.
        public static void Rename(SafeFileHandle h, string to)
        {
            byte[] name = Encoding.Unicode.GetBytes(@"\??\" + to);
            int rootAt = IntPtr.Size, lengthAt = rootAt + IntPtr.Size, nameAt = lengthAt + 4;
            int size = nameAt + name.Length + 2;
            IntPtr buffer = Marshal.AllocHGlobal(size);
            try
            {
                for (int i = 0; i < size; i++) Marshal.WriteByte(buffer, i, 0);
                Marshal.WriteInt32(buffer, lengthAt, name.Length);
                Marshal.Copy(name, 0, new IntPtr(buffer.ToInt64() + nameAt), name.Length);
                if (!SetFileInformationByHandle(h, FileRenameInfo, buffer, (uint)size)) throw Error("Cannot rename to " + to);
            }
            finally { Marshal.FreeHGlobal(buffer); }
        }

        /// Deletes the entry behind the handle (opened with DELETE and FILE_WRITE_ATTRIBUTES):
        /// a link itself, never its target. A read-only attribute is cleared first.
        public static void DeleteEntry(SafeFileHandle h)
        {
            IntPtr basic = Marshal.AllocHGlobal(40);
            try
            {
                for (int i = 0; i < 40; i++) Marshal.WriteByte(basic, i, 0);
                Marshal.WriteInt32(basic, 32, (int)FILE_ATTRIBUTE_NORMAL);
                SetFileInformationByHandle(h, FileBasicInfo, basic, 40);
                Marshal.WriteInt32(basic, 0, 1);
                if (!SetFileInformationByHandle(h, FileDispositionInfo, basic, 4)) throw Error("Cannot delete");
            }
            finally { Marshal.FreeHGlobal(basic); }
        }

        /// Removes whatever has this name (file, link, empty folder), without following it.
        public static void DeleteName(string path)
        {
            SafeFileHandle h = CreateFileW(Long(path), DELETE | FILE_WRITE_ATTRIBUTES | SYNCHRONIZE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, IntPtr.Zero, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, IntPtr.Zero);
            if (h.IsInvalid) { if (Marshal.GetLastWin32Error() == 2) return; throw Error("Cannot open " + path); }
            using (h) DeleteEntry(h);
        }

        /// The IDs of the processes that have the object open (FileProcessIdsUsingFileInformation),
        /// to say who blocks a rename (review L6).
        public static int[] ProcessesUsing(SafeFileHandle h)
        {
            IntPtr buffer = Marshal.AllocHGlobal(65536);
            try
            {
                IoStatusBlock status;
                if (NtQueryInformationFile(h, out status, buffer, 65536, 47) < 0) return new int[0];
                int count = Math.Min(Marshal.ReadInt32(buffer), (65536 - IntPtr.Size) / IntPtr.Size);
                int[] pids = new int[count];
                for (int i = 0; i < count; i++) pids[i] = (int)Marshal.ReadIntPtr(buffer, IntPtr.Size * (i + 1)).ToInt64();
                return pids;
            }
            finally { Marshal.FreeHGlobal(buffer); }
        }

        /// Creates a new file for writing in a folder someone else can write (review M1): a
        /// planted link or file of that name makes the create fail instead of being followed
        /// (CREATE_NEW with FILE_FLAG_OPEN_REPARSE_POINT), and the handle is checked (a plain file
        /// with one name) before anything is written through it.
        public static FileStream CreateNew(string path)
        {
            SafeFileHandle h = CreateFileW(Long(path), GENERIC_WRITE | READ_CONTROL, FILE_SHARE_READ, IntPtr.Zero, CREATE_NEW, FILE_FLAG_OPEN_REPARSE_POINT | FILE_ATTRIBUTE_NORMAL, IntPtr.Zero);
            // An IOException, as .NET's own CreateNew throws: the lock loop catches it when the lock exists.
            if (h.IsInvalid) throw new IOException(Error("Cannot create " + path).Message);
            HandleInfo info = Info(h, path);
            if ((info.Attributes & (ATTRIBUTE_REPARSE_POINT | ATTRIBUTE_DIRECTORY)) != 0 || info.Links != 1) { h.Dispose(); throw new IOException(path + " is not a new plain file."); }
            return new FileStream(h, FileAccess.Write);
        }

        /// Creates the cancel file anew and keeps it open: the requester may append to it (the
        /// folder's inherit-only entry) but, while the helper holds it, not delete or replace it.
        public static FileStream CreateCancelFile(string path)
        {
            DeleteName(path);
            SafeFileHandle h = CreateFileW(Long(path), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, IntPtr.Zero, CREATE_NEW, FILE_FLAG_OPEN_REPARSE_POINT | FILE_ATTRIBUTE_NORMAL, IntPtr.Zero);
            if (h.IsInvalid) throw Error("Cannot create " + path);
            HandleInfo info = Info(h, path);
            if ((info.Attributes & (ATTRIBUTE_REPARSE_POINT | ATTRIBUTE_DIRECTORY)) != 0 || info.Links != 1) { h.Dispose(); throw new IOException(path + " is not a new plain file."); }
            return new FileStream(h, FileAccess.Read);
        }

        /// A file the user can write is read only if it is a plain file with a single name: never
        /// through a link, never a hard link to some other file.
        public static FileStream OpenPlainFile(string path)
        {
            SafeFileHandle h = CreateFileW(Long(path), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, IntPtr.Zero, OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, IntPtr.Zero);
            if (h.IsInvalid) throw Error("Cannot open " + path);
            HandleInfo info = Info(h, path);
            if ((info.Attributes & (ATTRIBUTE_REPARSE_POINT | ATTRIBUTE_DIRECTORY)) != 0 || info.Links != 1)
            {
                h.Dispose();
                throw new IOException(path + " is a link, a folder or a file with more than one name; the elevated helper does not read it.");
            }
            return new FileStream(h, FileAccess.Read);
        }

        /// Renames `from` over `to`: the entry `to` is replaced, whatever it is, never followed.
        public static void Replace(string from, string to)
        {
            if (!MoveFileExW(Long(from), Long(to), 1 | 8)) throw Error("Cannot replace " + to);
        }

        public static void LinkDirectory(string link, string target)
        {
            if (!CreateSymbolicLinkW(link, target, 1)) throw Error("Cannot create the link " + link);
        }

        /// Reads a file only if it, its folder and every folder above it up to the volume root
        /// can be changed by Administrators, SYSTEM and TrustedInstaller alone (review H1: trust
        /// the location, not bytes hashed from a folder other users can write). Every folder is
        /// opened as itself and held until the file is read through its own checked handle.
        /// Returns the bytes, or null with `problem` and `where` (the highest folder below the
        /// volume root that fails, or the file) set.
        public static byte[] ReadFromAdminLocation(string file, out string problem, out string where)
        {
            problem = null; where = null;
            string[] trusted = new string[] { Acl.Administrators, Acl.LocalSystem, Acl.TrustedInstaller };
            if (file.Length < 4 || file[1] != ':' || file[2] != '\\') { problem = "it is not on a local drive"; where = file; return null; }
            string[] parts = file.Substring(3).Split('\\');
            List<SafeFileHandle> held = new List<SafeFileHandle>();
            try
            {
                string current = file.Substring(0, 3);
                for (int i = 0; i < parts.Length; i++)
                {
                    bool last = i == parts.Length - 1;
                    SafeFileHandle h = last ? Open(current, GENERIC_READ | READ_CONTROL | SYNCHRONIZE, FILE_SHARE_READ, false) : Pin(current);
                    held.Add(h);
                    bool rsyncFolder = i == parts.Length - 2;
                    // The volume root lets users add folders (harmless); rsync's own folder and the file must be changeable by nobody else at all.
                    string why = Acl.WriteProblem(Security(h), trusted, last || rsyncFolder ? Acl.WriteRights : Acl.ReplaceRights, true);
                    // Reported: the highest folder below the volume root that fails (the one to lock down), else the root.
                    if (why != null && (problem == null || where.Length == 3))
                    {
                        if (problem == null || i > 0) { problem = current + ": " + why; where = current; }
                    }
                    if (last)
                    {
                        if (problem != null) return null;
                        using (FileStream s = new FileStream(h, FileAccess.Read))
                        {
                            MemoryStream m = new MemoryStream();
                            s.CopyTo(m);
                            return m.ToArray();
                        }
                    }
                    current = current.EndsWith(@"\") ? current + parts[i + 1] : current + @"\" + parts[i + 1];
                }
                return null;
            }
            finally { foreach (SafeFileHandle h in held) if (!h.IsClosed) h.Dispose(); }
        }

        /// Lists a folder through its handle (FileFullDirectoryInfo); any failure is an exception.
        static List<KeyValuePair<string, uint[]>> List(SafeFileHandle dir, string path)
        {
            List<KeyValuePair<string, uint[]>> entries = new List<KeyValuePair<string, uint[]>>();
            IntPtr buffer = Marshal.AllocHGlobal(65536);
            try
            {
                bool first = true;
                while (true)
                {
                    if (!GetFileInformationByHandleEx(dir, first ? FileFullDirectoryRestartInfo : FileFullDirectoryInfo, buffer, 65536))
                    {
                        if (Marshal.GetLastWin32Error() == ERROR_NO_MORE_FILES) break;
                        throw Error("Cannot list " + path);
                    }
                    first = false;
                    int offset = 0;
                    while (true)
                    {
                        IntPtr entry = new IntPtr(buffer.ToInt64() + offset);
                        int next = Marshal.ReadInt32(entry, 0);
                        uint attributes = (uint)Marshal.ReadInt32(entry, 56);
                        int nameBytes = Marshal.ReadInt32(entry, 60);
                        // EaSize holds the reparse tag when the entry is a reparse point.
                        uint tag = (uint)Marshal.ReadInt32(entry, 64);
                        string name = Marshal.PtrToStringUni(new IntPtr(entry.ToInt64() + 68), nameBytes / 2);
                        if (name != "." && name != "..") entries.Add(new KeyValuePair<string, uint[]>(name, new uint[] { attributes, tag }));
                        if (next == 0) break;
                        offset += next;
                    }
                }
            }
            finally { Marshal.FreeHGlobal(buffer); }
            return entries;
        }

        /// Reparse points whose data is the file itself (deduplication, compression, cloud and
        /// offline files, projected folders); every other kind redirects somewhere else.
        static bool Redirects(uint tag)
        {
            if (tag == 0x80000013 || tag == 0x80000017 || tag == 0xC0000004 || tag == 0x80000006 || tag == 0x9000001C) return false;
            return (tag & 0xFFFF0FFF) != 0x9000001A;
        }

        /// Walks the shadowed source as rsync will (with backup semantics, which list what a
        /// DACL hides from SYSTEM: review H3), never entering a redirecting reparse point. Any
        /// folder that cannot be listed stops the walk with an exception. Every entry's security
        /// descriptor is checked for read access by `requesterSid` (AuthZ, the requester's groups
        /// computed by Windows): a slot is readable by the requester, so nothing they could not
        /// read may be copied into it (review L3). Needs EnablePrivileges first.
        public static SourceScan ScanSource(string root, string requesterSid)
        {
            SourceScan scan = new SourceScan();
            byte[] sid = new byte[new System.Security.Principal.SecurityIdentifier(requesterSid).BinaryLength];
            new System.Security.Principal.SecurityIdentifier(requesterSid).GetBinaryForm(sid, 0);
            IntPtr manager, context;
            if (!AuthzInitializeResourceManager(1, IntPtr.Zero, IntPtr.Zero, IntPtr.Zero, null, out manager)) throw Error("Cannot start the access check");
            try
            {
                if (!AuthzInitializeContextFromSid(0, sid, manager, IntPtr.Zero, 0, IntPtr.Zero, out context)) throw Error("Cannot compute the access of " + requesterSid);
                try
                {
                    Dictionary<string, bool> readable = new Dictionary<string, bool>();
                    Stack<string> pending = new Stack<string>();
                    pending.Push("");
                    while (pending.Count > 0)
                    {
                        string relative = pending.Pop();
                        string path = relative.Length == 0 ? root : root + @"\" + relative;
                        using (SafeFileHandle dir = Open(path, FILE_LIST_DIRECTORY | READ_CONTROL | SYNCHRONIZE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, true, relative.Length > 0))
                        {
                            if (!CanRead(context, dir, readable)) scan.Unreadable.Add(relative.Length == 0 ? @".\" : relative + @"\");
                            foreach (KeyValuePair<string, uint[]> e in List(dir, path))
                            {
                                scan.Entries++;
                                string child = relative.Length == 0 ? e.Key : relative + @"\" + e.Key;
                                bool folder = (e.Value[0] & ATTRIBUTE_DIRECTORY) != 0;
                                if ((e.Value[0] & ATTRIBUTE_REPARSE_POINT) != 0 && Redirects(e.Value[1]))
                                {
                                    if (CygwinNames.Problem(child) != null) scan.Unmatchable.Add(child);
                                    else scan.Redirections.Add(folder ? child + @"\" : child);
                                    continue;
                                }
                                if (folder) { pending.Push(child); continue; }
                                using (SafeFileHandle f = Open(root + @"\" + child, READ_CONTROL | SYNCHRONIZE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, false, true))
                                {
                                    if (!CanRead(context, f, readable)) scan.Unreadable.Add(child);
                                }
                            }
                        }
                    }
                }
                finally { AuthzFreeContext(context); }
            }
            finally { AuthzFreeResourceManager(manager); }
            scan.Redirections.Sort(StringComparer.Ordinal);
            return scan;
        }

        /// Whether the AuthZ context may read (list) the object; results are cached per descriptor.
        static bool CanRead(IntPtr context, SafeFileHandle h, Dictionary<string, bool> cache)
        {
            uint needed;
            GetKernelObjectSecurity(h, OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, null, 0, out needed);
            byte[] sd = new byte[needed];
            if (needed == 0 || !GetKernelObjectSecurity(h, OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, sd, needed, out needed)) throw Error("Cannot read a security descriptor");
            string key = Convert.ToBase64String(sd);
            bool answer;
            if (cache.TryGetValue(key, out answer)) return answer;
            AuthzRequest request = new AuthzRequest();
            request.DesiredAccess = READ_ENTRY;
            AuthzReply reply = new AuthzReply();
            reply.ResultListLength = 1;
            reply.GrantedAccessMask = Marshal.AllocHGlobal(4);
            reply.Error = Marshal.AllocHGlobal(4);
            try
            {
                if (!AuthzAccessCheck(0, context, ref request, IntPtr.Zero, sd, IntPtr.Zero, 0, ref reply, IntPtr.Zero)) throw Error("The access check failed");
                answer = Marshal.ReadInt32(reply.Error) == 0 && ((uint)Marshal.ReadInt32(reply.GrantedAccessMask) & READ_ENTRY) == READ_ENTRY;
            }
            finally { Marshal.FreeHGlobal(reply.GrantedAccessMask); Marshal.FreeHGlobal(reply.Error); }
            cache[key] = answer;
            return answer;
        }
    }
}
