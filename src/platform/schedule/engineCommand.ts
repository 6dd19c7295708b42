import { ENGINE_NODE_FLAGS } from '../../core/engineNodeFlags';
import { invalid } from '../../core/errors';

/**
 * How a scheduled job starts the engine: `node <flags> <cli.js> backup --profile <file>`, the
 * flags being ENGINE_NODE_FLAGS (node, not the CLI's shebang, is what the job names). Every artefact
 * (unit, crontab line, plist, task XML) runs exactly this argv; the profile's values live in the
 * profile file, never on a command line that a shell or scheduler parses.
 */
export interface EngineCommand {
  /** Absolute path of a Node.js executable (not VS Code's Electron binary). */
  node: string;
  /** Absolute path of the installed `dist/cli.js`. */
  cli: string;
}

export interface JobCommand {
  command: string;
  args: string[];
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export function jobCommand(engine: EngineCommand, profileFile: string): JobCommand {
  for (const [what, value] of [['Node.js path', engine.node], ['CLI path', engine.cli], ['profile file path', profileFile]] as const) {
    if (value === '' || CONTROL.test(value)) {
      throw invalid(`The ${what} ${JSON.stringify(value)} is empty or contains a control character, which no scheduler can store.`, 'Install Shadow Slots / Node.js in a folder without line breaks in its path.');
    }
    if (!/^(\/|[A-Za-z]:[\\/]|\\\\)/.test(value)) throw invalid(`The ${what} ${JSON.stringify(value)} is not absolute.`);
  }
  return { command: engine.node, args: [...ENGINE_NODE_FLAGS, engine.cli, 'backup', '--profile', profileFile] };
}
