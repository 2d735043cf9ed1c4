// The pipeline doctor's result as Markdown: a summary, one table row per check, then each problem with its likely
// cause and fix. Plain Node: no `vscode` import.
import type { CheckResult, CheckStatus, DoctorResult } from './checks';
import { PROBE_SERVICE_NAME } from './probeRoundTrip';

const ICON: Record<CheckStatus, string> = { ok: '✅', warn: '⚠️', fail: '❌', skipped: '⏭️' };
const WORD: Record<CheckStatus, string> = { ok: 'OK', warn: 'Warning', fail: 'Failed', skipped: 'Skipped' };

/** Text safe inside a Markdown table cell: no pipes or line breaks. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** Text shown as plain text (telemetry data and error bodies may hold Markdown or HTML). */
function plain(text: string): string {
  return text.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/[[\]]/g, '\\$&');
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function hopsText(c: CheckResult): string {
  if (!c.hops?.length) return '';
  return c.hops.map((h) => `${h.name}: ${formatMs(h.ms)}`).join(' → ');
}

export function renderDoctorReport(result: DoctorResult): string {
  const out: string[] = [];
  const failed = result.checks.filter((c) => c.status === 'fail');
  const warned = result.checks.filter((c) => c.status === 'warn');
  const verdict = failed.length ? '❌' : warned.length ? '⚠️' : '✅';
  out.push('# Telemetry pipeline check', '');
  out.push(`${verdict} **${plain(result.summary)}.**`, '');
  out.push(
    `Run \`${result.runId}\` at ${result.startedAt}, took ${formatMs(result.ms)}. ` +
      `Collector ${result.endpoints.otlpHttp}, Prometheus ${result.endpoints.prometheus}, Loki ${result.endpoints.loki}.`,
    '',
  );
  for (const note of result.notes) out.push(`> ${plain(note)}`, '');
  out.push('| | Check | Result | Time | Detail |', '| --- | --- | --- | ---: | --- |');
  for (const c of result.checks) {
    const hops = hopsText(c);
    const detail = hops ? `${c.detail} (${hops})` : c.detail;
    out.push(
      `| ${ICON[c.status]} | ${cell(c.name)} | ${WORD[c.status]} | ${c.status === 'skipped' ? '' : formatMs(c.ms)} | ${cell(plain(detail))} |`,
    );
  }
  out.push('');
  const problems = [...failed, ...warned];
  if (problems.length) {
    out.push('## What to do', '');
    for (const c of problems) {
      out.push(`### ${ICON[c.status]} ${plain(c.name)}`, '');
      out.push(`**Seen:** ${plain(c.detail)}`, '');
      if (c.hops?.length) out.push(`**Hops:** ${plain(hopsText(c))}`, '');
      if (c.cause) out.push(`**Likely cause:** ${plain(c.cause)}`, '');
      if (c.fix) out.push(`**Fix:** ${plain(c.fix)}`, '');
    }
  }
  const skipped = result.checks.filter((c) => c.status === 'skipped' && c.fix);
  for (const c of skipped) out.push(`*${plain(c.name)}:* ${plain(c.fix ?? '')}`, '');
  out.push(
    '---',
    '',
    `The probe is a metric \`claude_code_doctor_probe_total\` and an event \`doctor_probe\` under ` +
      `\`service_name="${PROBE_SERVICE_NAME}"\`, marked with this run's id: they never count toward your ` +
      'cost, tokens or sessions, and the check deletes nothing.',
    '',
  );
  return out.join('\n');
}

/** The report as plain lines for the output channel. */
export function doctorLogLines(result: DoctorResult): string[] {
  const lines = [`Pipeline check ${result.runId}: ${result.summary} (${formatMs(result.ms)}).`];
  for (const c of result.checks) {
    const hops = hopsText(c);
    lines.push(`  [${WORD[c.status]}] ${c.name} (${formatMs(c.ms)}): ${c.detail}${hops ? ` [${hops}]` : ''}`);
    if (c.status === 'fail' || c.status === 'warn') {
      if (c.cause) lines.push(`      cause: ${c.cause}`);
      if (c.fix) lines.push(`      fix: ${c.fix}`);
    }
  }
  return lines;
}
