import js from '@eslint/js';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '.stack/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // the status page's script runs in the browser, with uPlot loaded before it
    files: ['src/observability/status-page/page/*.js'],
    languageOptions: { sourceType: 'script', globals: { window: 'readonly', document: 'readonly', location: 'readonly', URLSearchParams: 'readonly', uPlot: 'readonly' } },
  },
  {
    // the parts of the picture depend one way: no import circles
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })],
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    // the processors never depend on the local dev stack or the org emulator
    files: ['src/**/*.ts'],
    ignores: ['src/stack/**', 'src/sandbox/**', 'src/cli/**', 'src/connect/**', 'src/status/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/stack/*', '**/sandbox/*', '**/sandbox/**'], message: 'production code must not depend on the local stack or the emulator' }] }],
    },
  },
);
