import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { invalid } from '../core/errors';
import type { ProfileInput } from '../core/profile';
import { looksRemote } from '../core/remoteTarget';

/** parseArgs with errors turned into usage errors (exit 2) that name the command's usage. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (error) {
    throw invalid((error as Error).message, `Usage: shadow-slots ${usage}`);
  }
}

export function requireString(value: unknown, flag: string, usage: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(`--${flag} is required and must not be empty.`, `Usage: shadow-slots ${usage}`);
  return value;
}

/**
 * A path argument made absolute against the working directory, as users expect. An empty value
 * stays empty, to be refused by validation: `resolve('')` would silently mean the working directory.
 */
export function resolveArg(value: string): string;
export function resolveArg(value: string | undefined): string | undefined;
export function resolveArg(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? value : resolve(value);
}

/** A target argument: a ring on a server (`ssh://…`, `host:/path`) as written, a folder made absolute. */
export function resolveTarget(value: string): string;
export function resolveTarget(value: string | undefined): string | undefined;
export function resolveTarget(value: string | undefined): string | undefined {
  return value !== undefined && looksRemote(value) ? value : resolveArg(value);
}

export function parseInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) throw invalid(`--${flag} must be a whole number, got ${JSON.stringify(value)}.`);
  return Number(value);
}

/** Reads a profile file (JSON with the fields of ProfileInput). */
export function readProfileFile(file: string): ProfileInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw invalid(`The profile file ${file} cannot be read: ${(error as Error).message}.`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw invalid(`The profile file ${file} is not valid JSON: ${(error as Error).message}.`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(`The profile file ${file} must contain a JSON object.`);
  const allowed = new Set(['name', 'source', 'target', 'slots', 'excludes', 'snapshot', 'rsyncPath', 'rsyncArgs', 'filterFile', 'targetMode', 'sshPath']);
  for (const key of Object.keys(raw)) {
    if (!allowed.has(key)) throw invalid(`The profile file ${file} has an unknown field "${key}".`, `Known fields: ${[...allowed].join(', ')}.`);
  }
  return raw as ProfileInput;
}
