// Flat config: typescript-eslint's recommended rules over every TypeScript file in the repo.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.local/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // process.env is read in exactly one place: platform/config/load.ts.
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through loadConfig().' },
      ],
    },
  },
  // Size limits for the layered code (docs/architecture.md): a file a reader can hold in mind, a
  // function that fits on a screen. Generated code lives elsewhere (schema/operations/generated).
  {
    files: ['platform/**/*.ts', 'router/**/*.ts', 'subgraphs/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 300, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 80 }],
    },
  },
  // Layers only point down (docs/architecture.md); test/unit/layering.test.ts resolves every
  // import exactly, these catch the plain cases while typing.
  {
    files: ['platform/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(router|subgraphs)/',
              message: 'The platform layer imports neither the router nor the subgraphs.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['router/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '(^|/)subgraphs/', message: 'The router imports nothing from subgraphs/.' },
          ],
        },
      ],
    },
  },
  {
    files: ['subgraphs/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '(^|/)router/', message: 'A subgraph does not import the router.' },
            {
              regex: '^(\\.\\./)+(users|sessions|fleet)/',
              message: 'A subgraph does not import another subgraph (shared code goes in kit/).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['platform/config/load.ts', 'test/**', 'scripts/**', 'bench/**'],
    rules: { 'no-restricted-properties': 'off' },
  },
);
