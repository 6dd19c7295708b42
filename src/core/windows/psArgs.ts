/**
 * Arguments for `powershell.exe -EncodedCommand <script> -EncodedArguments <args>`: the form
 * PowerShell itself uses to start `powershell { … } -args …`. The script stays constant code and
 * the arguments arrive in its `param()` block as strings, never parsed as code. The value is
 * base64 of UTF-16LE CLIXML holding one System.Collections.ArrayList of strings (what
 * PowerShell's own Base64ToArgsConverter deserializes).
 */
export function encodePowerShellArgs(args: readonly string[]): string {
  const items = args.map((a) => `<S>${encodeClixmlString(a)}</S>`).join('');
  const xml = '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
    + '<Obj RefId="0"><TN RefId="0"><T>System.Collections.ArrayList</T><T>System.Object</T></TN>'
    + `<LST>${items}</LST></Obj></Objs>`;
  return Buffer.from(xml, 'utf16le').toString('base64');
}

/** The script text for `-EncodedCommand`: base64 of UTF-16LE. */
export function encodePowerShellCommand(script: string): string {
  return Buffer.from(script, 'utf16le').toString('base64');
}

/**
 * CLIXML string content: XML escapes, and `_xHHHH_` for every `_` and control character, which
 * the deserializer decodes (XmlConvert.DecodeName). Escaping every `_` keeps a name that happens
 * to contain `_x0041_` from being decoded into something else.
 */
export function encodeClixmlString(value: string): string {
  let out = '';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '_' || c < 0x20 || c === 0x7f || (c >= 0xfffe && c <= 0xffff)) out += `_x${c.toString(16).toUpperCase().padStart(4, '0')}_`;
    else out += ch;
  }
  return out;
}
