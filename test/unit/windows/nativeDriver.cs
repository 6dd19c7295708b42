// Test driver for the pure parts of src/platform/windows/assets/native.cs, run under Mono by
// nativeCs.test.ts. One request per input line, one answer per output line:
//   acl <sd hex> <mask> <appliesOnly 0|1> <trusted SIDs, comma-separated>  -> problem or "ok"
//   rules <sd hex>                                                           -> rules joined by ";"
//   planned <sd hex> <owner SID> <rules joined by ";">                      -> problem or "ok"
//   name <UTF-16LE hex>                                                      -> problem or "ok"
//   job                                                                      -> JOBOBJECT_EXTENDED_LIMIT_INFORMATION's size and LimitFlags
using System;
using System.Security.AccessControl;
using ShadowSlots;

public static class NativeDriver
{
    static byte[] Hex(string hex)
    {
        byte[] b = new byte[hex.Length / 2];
        for (int i = 0; i < b.Length; i++) b[i] = Convert.ToByte(hex.Substring(i * 2, 2), 16);
        return b;
    }

    /// UTF-16LE code units as they are, lone surrogates included (Encoding.Unicode would replace them).
    static string Utf16(byte[] b)
    {
        char[] c = new char[b.Length / 2];
        for (int i = 0; i < c.Length; i++) c[i] = (char)(b[2 * i] | (b[2 * i + 1] << 8));
        return new string(c);
    }

    public static void Main()
    {
        string line;
        while ((line = Console.ReadLine()) != null)
        {
            string[] a = line.Split(' ');
            string answer;
            try
            {
                switch (a[0])
                {
                    case "job":
                        answer = System.Runtime.InteropServices.Marshal.SizeOf(typeof(ProcessJob.ExtendedLimits)) + " " + ProcessJob.Limits().Basic.LimitFlags.ToString("x");
                        break;
                    case "acl":
                        answer = Acl.WriteProblem(new RawSecurityDescriptor(Hex(a[1]), 0), a[4].Split(','), Convert.ToInt32(a[2], 16), a[3] == "1") ?? "ok";
                        break;
                    case "rules":
                        answer = string.Join(";", Acl.Rules(new RawSecurityDescriptor(Hex(a[1]), 0)));
                        break;
                    case "planned":
                        answer = Acl.PlannedProblem(new RawSecurityDescriptor(Hex(a[1]), 0), a[2], a.Length > 3 && a[3] != "" ? a[3].Split(';') : new string[0]) ?? "ok";
                        break;
                    case "name":
                        answer = CygwinNames.Problem(Utf16(Hex(a[1]))) ?? "ok";
                        break;
                    default:
                        answer = "unknown request";
                        break;
                }
            }
            catch (Exception e) { answer = "error: " + e.Message.Replace('\n', ' '); }
            Console.WriteLine(answer);
        }
    }
}
