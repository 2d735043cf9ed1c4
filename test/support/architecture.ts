// The data contract the stack, the queries and the tests share (docs/architecture.md), read from the document.
import { readText } from './paths';

/** The contract: docs/architecture.md. */
export function architecture(): {
  rawMetrics: Map<string, string[]>;
  /** Recording rule → the raw counter it reads. */
  rules: Map<string, string>;
  variables: Map<string, string | undefined>;
  composeKeys: { top: string[]; service: string[]; healthcheck: string[] };
} {
  const doc = readText('docs', 'architecture.md');
  const section = (title: string): string => {
    const start = doc.indexOf(`## ${title}`);
    if (start < 0) throw new Error(`docs/architecture.md has no section "${title}"`);
    const end = doc.indexOf('\n## ', start + 3);
    return doc.slice(start, end < 0 ? undefined : end);
  };

  const rawMetrics = new Map<string, string[]>();
  for (const m of section('Metrics in Prometheus').matchAll(
    /`((?:claude_code|otelcol)_[A-Za-z0-9_]+)(?:\{([^}]*)\})?`/g,
  )) {
    rawMetrics.set(m[1], m[2] ? m[2].split(',').map((l) => l.trim()) : []);
  }

  const rules = new Map<string, string>();
  for (const m of section('Recording rules').matchAll(/^\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|/gm)) {
    rules.set(m[1], m[2]);
  }

  const variables = new Map<string, string | undefined>();
  for (const m of section('Settings-backed variables in compose.yaml').matchAll(
    /`([A-Z][A-Z0-9_]+)`(?:\s*\((\d+)\))?/g,
  )) {
    variables.set(m[1], m[2]);
  }

  const keys = section('Compose keys the extension maps onto the Engine API');
  const list = (after: string, until: string): string[] => {
    const from = keys.indexOf(after);
    const to = keys.indexOf(until, from + after.length);
    return [...keys.slice(from + after.length, to).matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
  };
  const healthcheck = list('`healthcheck` (', ')');
  return {
    rawMetrics,
    rules,
    variables,
    composeKeys: {
      top: list('Top level:', 'Per service:'),
      // `depends_on` (with `condition`) and `healthcheck` (`test`, ...) name their sub-keys in parentheses.
      service: list('Per service:', 'Any other key').filter((k) => !healthcheck.includes(k) && k !== 'condition'),
      healthcheck,
    },
  };
}
