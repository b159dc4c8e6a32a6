import type { SiemSummary } from './SiemConsumer';

/** The summary as a person reads it at the end of a run. */
export function formatSummary(topic: string, s: SiemSummary): string {
  const lines = [
    `topic ${topic}: ${s.records} records, ${s.valid} valid, ${s.invalid} invalid`,
    `formats: ${Object.entries(s.formats).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
    `sessions: ${s.sessions}; gaps: ${s.gaps}; out of order: ${s.outOfOrder}; duplicates: ${s.duplicates}`,
    'events by type:',
    ...Object.entries(s.byType).sort(([a], [b]) => a.localeCompare(b)).map(([type, n]) => `  ${type.padEnd(22)} ${n}`),
  ];
  if (s.findings.length > 0) lines.push('findings:', ...s.findings.map((f) => `  ${f}`));
  lines.push(s.invalid === 0 && s.gaps === 0 && s.outOfOrder === 0 ? 'OK' : 'PROBLEMS FOUND');
  return lines.join('\n');
}
