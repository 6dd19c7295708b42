import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'out/', 'node_modules/', '.test-output/', '.vscode-test/', 'bench/.work/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-namespace': 'off',
    },
  },
  {
    // The layers of DESIGN.md: core and platform run without an editor (CLI, engine, helper).
    files: ['src/core/**/*.ts', 'src/platform/**/*.ts', 'src/engine/**/*.ts', 'src/cli/**/*.ts', 'src/rpc/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'core, platform, engine, cli and rpc must not depend on the editor.' }] }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'core must not depend on the editor.' }, { name: 'execa', message: 'core is pure: spawn processes in platform/runner.' }, { name: 'node:child_process', message: 'core is pure.' }],
        patterns: [{ group: ['../platform/*', '../engine/*', '../ui/*', '../rpc/*', '../cli/*'], message: 'core imports nothing of ours.' }],
      }],
    },
  },
  {
    files: ['src/platform/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'platform must not depend on the editor.' }, { name: 'node:child_process', message: 'spawn through platform/runner.ts (execa).' }],
        patterns: [{ group: ['../engine/*', '../ui/*', '../rpc/*', '../cli/*', '../../engine/*', '../../ui/*', '../../cli/*'], message: 'platform imports only core.' }],
      }],
    },
  },
);
