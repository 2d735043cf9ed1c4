// `npm run rules`: writes stack/prometheus/rules/recording.yml from the counter table in src/telemetry/counters.ts.
import { writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const bundle = await build({
  entryPoints: ['src/telemetry/counters.ts'],
  bundle: true,
  format: 'esm',
  platform: 'node',
  write: false,
});
const counters = await import(`data:text/javascript,${encodeURIComponent(bundle.outputFiles[0].text)}`);
writeFileSync('stack/prometheus/rules/recording.yml', counters.recordingRulesFile());
