// Loads the stack's recording and alert rules (stack/prometheus/rules) into a team's Cortex ruler, for one tenant:
// each group through the ruler API (POST /api/v1/rules/<namespace>, one group in YAML), replacing the group of that
// name. Run again after an update of the extension's rules.
//
//   node scripts/team-rules.mjs http://cortex:9009 <tenant> [--header 'Authorization: Bearer …']
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const NAMESPACE = 'claude-code-telemetry';
const rulesDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'stack', 'prometheus', 'rules');

const [url, tenant, ...rest] = process.argv.slice(2);
if (!url || !tenant) {
  console.error('usage: node scripts/team-rules.mjs <cortex url> <tenant> [--header "Name: value"]...');
  process.exit(2);
}
const headers = { 'content-type': 'application/yaml', 'X-Scope-OrgID': tenant };
for (let i = 0; i < rest.length; i += 2) {
  const header = rest[i] === '--header' ? rest[i + 1] : undefined;
  const colon = header?.indexOf(':') ?? -1;
  if (colon < 1) {
    console.error(`not a header: ${rest[i + 1] ?? rest[i]} (want --header "Name: value")`);
    process.exit(2);
  }
  headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
}

for (const file of ['recording.yml', 'alerts.yml']) {
  for (const group of parse(readFileSync(join(rulesDir, file), 'utf8')).groups) {
    const target = `${url.replace(/\/+$/, '')}/api/v1/rules/${NAMESPACE}`;
    let res;
    try {
      res = await fetch(target, { method: 'POST', headers, body: stringify(group) });
    } catch (error) {
      console.error(`${target}: ${error.cause?.message ?? error.message}. Is Cortex running there, with its ruler?`);
      process.exit(1);
    }
    if (res.status !== 202) {
      console.error(`${target} refused ${group.name} (${file}): ${res.status} ${(await res.text()).slice(0, 300)}`);
      process.exit(1);
    }
    console.log(`loaded ${group.name} (${group.rules.length} rules) for tenant ${tenant}`);
  }
}
