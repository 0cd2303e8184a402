// Type-aware lint rules (typescript-eslint's strict type-checked preset) and sorted imports.
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
  ...tseslint.configs.strictTypeChecked.map((config) => ({ ...config, files: ['**/*.ts'] })),
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
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // noUncheckedIndexedAccess is on: `xs[i]!` after a bounds check is how the code states what it knows.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Handlers stay `async` when their contract is a Promise (Fastify, BullMQ, interfaces), so a throw becomes a rejection.
      '@typescript-eslint/require-await': 'off',
      // Library types omit the undefined that happens (drizzle's .get(), JSON.stringify, BullMQ's getNextJob), and flags set in callbacks read as constants.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // The objects deleted from are JSON documents (OpenAPI, YAML, run requests), not maps.
      '@typescript-eslint/no-dynamic-delete': 'off',
      // Flags DomainError subclasses (an it.each table, an instanceof-narrowed error) that were all built by their constructors.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      // The rejections caught are fs/IO errors; `(e: NodeJS.ErrnoException)` states that as a cast would, and reads better.
      '@typescript-eslint/use-unknown-in-catch-callback-variable': 'off',
      // Messages echo untrusted YAML/JSON values with String(v), as they always have; it flags exactly those.
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read untyped answers (`res.json()`, `JSON.parse`) on purpose: the assertions are the type check there.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // `json<T>()` mirrors light-my-request's own signature: a typed read of an answer the test then checks.
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
    },
  },
);
