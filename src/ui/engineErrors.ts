import { ResponseError } from 'vscode-languageclient/node';
import type { EngineErrorData } from '../rpc/protocol';

/** The engine's message plus its hint ("what to do"), as one line for notifications. */
export function describeEngineError(error: unknown): string {
  if (error instanceof ResponseError) {
    const data = error.data as Partial<EngineErrorData> | undefined;
    return data?.hint ? `${error.message} ${data.hint}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export function engineErrorCode(error: unknown): string | undefined {
  if (error instanceof ResponseError) return (error.data as Partial<EngineErrorData> | undefined)?.code;
  return undefined;
}
