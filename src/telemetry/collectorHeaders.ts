// A team collector's headers (OTEL_EXPORTER_OTLP_HEADERS, kept in secret storage), and the developer a team
// gateway's token names. Plain Node, light (the status bar's refresh reads it): never import `vscode`.

/**
 * The headers of an `OTEL_EXPORTER_OTLP_HEADERS` value (`key=value,key2=value2`) as Claude Code sends them: values
 * as written, not percent-decoded (CLI 2.1.328 sends `Bearer%20x` as is, measured), so that the extension's own
 * requests to a team collector succeed or fail as the terminals' do. Entries without a key or `=` are skipped.
 */
export function otlpHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const entry of (text ?? '').split(',')) {
    const at = entry.indexOf('=');
    const key = entry.slice(0, Math.max(at, 0)).trim();
    if (key) headers[key.toLowerCase()] = entry.slice(at + 1).trim();
  }
  return headers;
}

/**
 * How a team gateway's token names its developer: `<developer>.<secret>`, the secret without dots (the gateway's
 * transform/identity reads it with this same pattern: stack/team/gateway.yaml).
 */
export const TOKEN_DEVELOPER = /^Bearer (?<developer>[^ ]+)[.][A-Za-z0-9_-]+$/;

/** The developer the headers' bearer token names, if it is a team gateway's token. */
export function tokenDeveloper(headersText: string | undefined): string | undefined {
  return TOKEN_DEVELOPER.exec(otlpHeaders(headersText)['authorization'] ?? '')?.groups?.['developer'];
}
