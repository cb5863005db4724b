// @ts-check
// Rules that catch bugs, not style: Prettier owns the layout, and `npm run lint` runs both.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const CODE = ['src/**/*.ts', 'test/**/*.{ts,mts,mjs,cjs}', 'scripts/**/*.{ts,mjs}'];

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.lab-tmp/', 'test/fixtures/', 'templates/'] },
  {
    files: CODE,
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        // tsconfig.eslint.json is tsconfig.json plus scripts/ (some of which the tests import, so allowDefaultProject
        // cannot take them).
        project: './tsconfig.eslint.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Every probe, child process and cleanup runs under one deadline: a promise nobody awaits escapes it,
      // and an async callback where a void one is expected (an event handler, forEach, setTimeout) loses its
      // rejection.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // Errors are classified by `err.code`: throw and reject with errors. Passing on an `unknown` reason is fine.
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': [
        'error',
        { allowThrowingAny: true, allowThrowingUnknown: true },
      ],
      // A switch over a union by kind (layers, outcomes) names every member, or says `default` on purpose.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // Node's deprecations (dns.lookup's `verbatim`, ...) before they are removed under us.
      '@typescript-eslint/no-deprecated': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // Terminal escapes and control characters are matched on purpose (stripping ANSI, rejecting hostile input),
      // and the tests match the help's aligned columns space for space.
      'no-control-regex': 'off',
      'no-regex-spaces': 'off',
    },
  },
  {
    // The size limits of STYLE.md: one job per file and per function.
    files: ['src/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 350 }],
      'max-lines-per-function': ['error', { max: 100, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // `any` stays out of the product code (an error, from the recommended set); tests may cast parsed YAML to it.
    // The two costliest type-aware rules guard the product (its deadlines, Node's deprecations) and stay on there;
    // in the tests no-floating-promises and await-thenable still catch an unawaited assertion.
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-misused-promises': 'off',
      '@typescript-eslint/no-deprecated': 'off',
    },
  },
  {
    // The plain-JS helpers (the bundler, the lab's registry and in-container probe) are outside the TypeScript program.
    files: ['**/*.{mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // Copied into the probe container and run by its Node as CommonJS.
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
