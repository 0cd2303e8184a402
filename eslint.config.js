// Type-aware lint rules: type-only imports, no floating promises.
import js from '@eslint/js';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules',
      'dist',
      'data',
      'web/dist',
      'migrations',
      'coverage',
      'test-results',
      'bin',
      'web/**/*.d.ts',
    ],
  },
  // The direction of imports (README, Architecture): the domain stays pure; the CLI and the workers never reach
  // into the HTTP layer (what they share with it lives in src/app, src/domain or src/contract).
  {
    files: ['src/domain/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: String.raw`(^|/)(api|db|worker|app)/`,
              message: 'src/domain is pure: it imports nothing from src/api, src/db, src/worker or src/app.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli/**', 'src/worker/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: String.raw`(^|/)api/`,
              message:
                'the CLI and the workers import nothing from src/api: share through src/app or src/domain.',
            },
          ],
        },
      ],
    },
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'simple-import-sort': simpleImportSort },
    rules: { 'simple-import-sort/imports': 'error', 'simple-import-sort/exports': 'error' },
  },
  {
    // Build scripts run by npm before any TypeScript loader (scripts/build.mjs): plain Node modules.
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
