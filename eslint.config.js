// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O clients,
// and activities only as types (their implementations are I/O).
const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);
const ioPackages = [
  '@kubernetes/client-node', '@temporalio/client', '@temporalio/worker', '@temporalio/activity',
  '@temporalio/testing', 'express', 'pino', 'better-sqlite3', 'pg', 'kysely', 'commander',
  '@aws-sdk/*', '@google-cloud/*', '@azure/*',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'web/dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The dashboard runs in the browser (its own tsconfig: web/tsconfig.json).
    files: ['web/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['workflows/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeBuiltins.map((name) => ({ name, message: 'Workflows are deterministic: no Node built-ins.' })),
        patterns: [
          { group: ioPackages, message: 'Workflows hold no I/O: do it in an activity.' },
          {
            group: ['../activities/*', '../activities', '../store/*', '../providers/*', '../api/*', '../worker/*'],
            allowTypeImports: true,
            message: 'Workflows import activities and I/O layers as types only (import type).',
          },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'Workflows are deterministic: no process.' },
        { name: 'setInterval', message: 'Use sleep() or condition() from @temporalio/workflow.' },
        { name: 'require', message: 'ESM only.' },
      ],
    },
  },
  {
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeBuiltins.filter((n) => !/crypto$/.test(n)).map((name) => ({ name, message: 'domain/ is pure: no I/O.' })),
        patterns: [{ group: ioPackages, message: 'domain/ is pure: no I/O.' }],
      }],
    },
  },
);
