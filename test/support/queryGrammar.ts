// Grammar checks of PromQL and LogQL with the parsers Prometheus' and Grafana's own editors use
// (@prometheus-io/lezer-promql, @grafana/lezer-logql). A query that parses with an error node fails, with the
// position and the text around it.
import assert from 'node:assert/strict';

// Both packages are ES modules with a CommonJS build; the tests compile to CommonJS, so they are loaded with
// require() and typed from their ES declarations.
type PromQLModule = typeof import('@prometheus-io/lezer-promql', { with: { 'resolution-mode': 'import' } });
type LogQLModule = typeof import('@grafana/lezer-logql', { with: { 'resolution-mode': 'import' } });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const promqlParser = (require('@prometheus-io/lezer-promql') as PromQLModule).parser;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const logqlParser = (require('@grafana/lezer-logql') as LogQLModule).parser;
type Tree = ReturnType<PromQLModule['parser']['parse']>;

/** Grafana's duration macros and what they are replaced with before parsing. */
const DURATION_MACROS = ['__rate_interval', '__interval', '__range', '__auto'];
const NUMBER_MACROS = ['__interval_ms', '__range_ms', '__range_s', '__from', '__to'];

/**
 * Replaces Grafana's macros and template variables by values that keep the query's shape: duration macros
 * ($__range, ${__interval}, ...) by "5m", numeric ones ($__range_s, ...) by "300", any other variable ($session,
 * ${model:regex}, [[tool]]) by "x".
 */
export function substituteGrafanaVariables(expr: string): string {
  let out = expr;
  for (const name of NUMBER_MACROS) {
    out = out
      .split(`\${${name}}`)
      .join('300')
      .replace(new RegExp(`\\$${name}\\b`, 'g'), '300');
  }
  for (const name of DURATION_MACROS) {
    out = out
      .split(`\${${name}}`)
      .join('5m')
      .replace(new RegExp(`\\$${name}\\b`, 'g'), '5m');
  }
  return out
    .replace(/\$\{[A-Za-z_][A-Za-z0-9_]*(?::[^}]*)?\}/g, 'x')
    .replace(/\[\[[A-Za-z_][A-Za-z0-9_]*(?::[^\]]*)?\]\]/g, 'x')
    .replace(/\$[A-Za-z_][A-Za-z0-9_]*/g, 'x');
}

export interface SyntaxProblem {
  from: number;
  to: number;
  excerpt: string;
}

function problems(tree: Tree, text: string): SyntaxProblem[] {
  const found: SyntaxProblem[] = [];
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) {
      const from = cursor.from;
      found.push({
        from,
        to: cursor.to,
        excerpt: `${text.slice(Math.max(0, from - 20), from)}⟨here⟩${text.slice(from, from + 20)}`,
      });
    }
  } while (cursor.next());
  return found;
}

function check(language: string, tree: Tree, original: string, parsed: string): void {
  const found = problems(tree, parsed);
  if (parsed.trim() === '') {
    assert.fail(`${language}: empty query`);
  }
  if (found.length > 0) {
    const where = found.map((p) => `at ${p.from}: …${p.excerpt}…`).join('; ');
    assert.fail(
      `${language} syntax error ${where}\n  query: ${original}${parsed !== original ? `\n  parsed as: ${parsed}` : ''}`,
    );
  }
}

/** Parses the PromQL tree of a query (Grafana variables substituted). */
export function parsePromQL(expr: string): { tree: Tree; text: string } {
  const text = substituteGrafanaVariables(expr);
  return { tree: promqlParser.parse(text), text };
}

/** Parses the LogQL tree of a query (Grafana variables substituted). */
export function parseLogQL(expr: string): { tree: Tree; text: string } {
  const text = substituteGrafanaVariables(expr);
  return { tree: logqlParser.parse(text), text };
}

/** Fails unless expr is valid PromQL (after Grafana variable substitution). */
export function assertPromQL(expr: string): void {
  const { tree, text } = parsePromQL(expr);
  check('PromQL', tree, expr, text);
}

/** Fails unless expr is valid LogQL (after Grafana variable substitution). */
export function assertLogQL(expr: string): void {
  const { tree, text } = parseLogQL(expr);
  check('LogQL', tree, expr, text);
}

/** The metric names a PromQL query selects (`foo{...}`; `{__name__="foo"}` included). */
export function promqlMetricNames(expr: string): string[] {
  const { tree, text } = parsePromQL(expr);
  const names = new Set<string>();
  const cursor = tree.cursor();
  do {
    if (cursor.name === 'VectorSelector') {
      const selector = cursor.node;
      const ident = selector.getChild('Identifier');
      if (ident) names.add(text.slice(ident.from, ident.to));
      const inner = text.slice(selector.from, selector.to);
      for (const m of inner.matchAll(/__name__\s*=\s*"([^"]+)"/g)) names.add(m[1]);
    }
  } while (cursor.next());
  return [...names];
}

/** The label names of a LogQL query's stream selectors (`{a="b"}` → a). */
export function logqlSelectorLabels(expr: string): string[] {
  const { tree, text } = parseLogQL(expr);
  const labels = new Set<string>();
  const cursor = tree.cursor();
  do {
    // Stream selector matchers sit in (nested) Matchers; pipeline label filters are LabelFilter > Matcher.
    if (cursor.name === 'Matcher' && cursor.node.parent?.name === 'Matchers') {
      const ident = cursor.node.getChild('Identifier');
      if (ident) labels.add(text.slice(ident.from, ident.to));
    }
  } while (cursor.next());
  return [...labels];
}

/** The parser stages (json, logfmt, regexp, pattern, unpack) a LogQL query uses. */
export function logqlParserStages(expr: string): string[] {
  const { tree } = parseLogQL(expr);
  const stages: string[] = [];
  const cursor = tree.cursor();
  do {
    if (cursor.name === 'LabelParser' || cursor.name === 'JsonExpressionParser') {
      const child = cursor.node.firstChild;
      stages.push((child?.name ?? cursor.name).toLowerCase());
    }
  } while (cursor.next());
  return stages;
}
