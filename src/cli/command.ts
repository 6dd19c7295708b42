/** A CLI sub-command: parses its own argv (node:util parseArgs) and returns the exit code. */
export interface CliCommand {
  name: string;
  usage: string;
  summary: string;
  run(argv: string[], io: CliIO): Promise<number>;
}

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** True when stdout is a terminal (progress lines may be redrawn). */
  interactive: boolean;
  signal: AbortSignal;
}
