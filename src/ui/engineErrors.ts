import { ResponseError } from 'vscode-languageclient/node';
import type { EngineErrorData } from '../rpc/protocol';

/**
 * The engine's message plus its hint ("what to do"), as one line for notifications. An error that
 * points at a filter rule gets a Go to Rule button instead of the hint (which names the CLI).
 */
export function describeEngineError(error: unknown): string {
  if (error instanceof ResponseError) {
    const data = error.data as Partial<EngineErrorData> | undefined;
    if (data?.details && 'filterRule' in data.details) return error.message;
    return data?.hint ? `${error.message} ${data.hint}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export function engineErrorCode(error: unknown): string | undefined {
  if (error instanceof ResponseError) return (error.data as Partial<EngineErrorData> | undefined)?.code;
  return undefined;
}

export function engineErrorDetails(error: unknown): Record<string, unknown> | undefined {
  if (error instanceof ResponseError) return (error.data as Partial<EngineErrorData> | undefined)?.details ?? undefined;
  return undefined;
}
