/**
 * The "Claude Code only" mode: instead of giving every terminal `OTEL_*` (which every OpenTelemetry-instrumented
 * program started there would also pick up), terminals get a directory first on PATH holding a `claude` that
 * sets the telemetry environment and runs the real CLI. POSIX shells only; Windows keeps the all-terminals mode.
 */
import { shellQuote } from '../shell';

export function claudeShimScript(environment: Record<string, string>): string {
  const exports = Object.entries(environment)
    .map(([name, value]) => `export ${name}=${shellQuote(value)}`)
    .join('\n');
  return `#!/bin/sh
# Written by the Claude Code Telemetry extension (claudeTelemetry.terminal.scope = claudeOnly): runs the real
# claude with the telemetry environment, so no other program in the terminal sees OTEL_* variables.
shim_dir=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
PATH=$(printf '%s' "$PATH" | tr ':' '\\n' | grep -vxF "$shim_dir" | paste -sd: -)
export PATH
if ! command -v claude >/dev/null 2>&1; then
  echo "Claude Code Telemetry: no claude found on PATH. Install Claude Code: npm install -g @anthropic-ai/claude-code" >&2
  exit 127
fi
${exports}
exec claude "$@"
`;
}
