import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'dist-vsix/**', '.vscode-test/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    files: [
      'src/stack/**/*.ts',
      'src/telemetry/**/*.ts',
      'src/doctor/pipelineDoctor.ts',
      'src/doctor/httpChecks.ts',
      'src/doctor/probeRoundTrip.ts',
      'src/doctor/terminalEnvironmentCheck.ts',
      'src/doctor/claudeSettingsCheck.ts',
      'src/doctor/collectorTelemetryCheck.ts',
      'src/doctor/doctorReport.ts',
      'src/doctor/checks.ts',
      'src/snapshot.ts',
      'src/format.ts',
      'src/errorCode.ts',
      'src/protocol.ts',
      'src/shell.ts',
      'src/statusLine/**/*.ts',
      'src/history/**/*.ts',
    ],
    rules: {
      // These layers run in plain Node and are tested there: the editor API stays out.
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'vscode',
              message: 'These layers (src/stack, src/telemetry, src/statusLine, ...) never import vscode.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', 'scripts/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', fetch: 'readonly' } },
  },
);
