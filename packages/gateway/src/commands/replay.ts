import { RecordingNotFound, RecordingStore, type RecordingRecord, type SessionHeaderRecord } from '@querygate/core';
import { flag, positionals, recordingDir, sessionArgument, sleep, type CommandIo } from './io';

const USAGE = `Usage:
  querygate replay SESSION [--speed N] (--dir DIR | --config FILE)
  querygate replay FILE.jsonl [--speed N]

Prints the recorded session as a transcript, waiting between records as the session did, scaled
by --speed (default 1; 2 = twice as fast; 0 = no waiting).
`;

function clock(t: number): string {
  const s = Math.floor(t / 1000);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  const ms = String(t % 1000).padStart(3, '0');
  return `${h > 0 ? `${h}:` : ''}${mm}:${ss}.${ms}`;
}

const INDENT = ' '.repeat(14);

function milliseconds(ms: number): string {
  return `${ms < 10 ? Math.round(ms * 100) / 100 : Math.round(ms)} ms`;
}

function indent(text: string, by = INDENT): string {
  return text.split('\n').map((l) => by + l).join('\n');
}

function cell(value: string | null): string {
  if (value === null) return 'NULL';
  return value.replace(/\n/g, '\\n');
}

function grid(columns: readonly string[], rows: readonly (readonly (string | null)[])[], masked: readonly number[]): string {
  const head = columns.map((c, i) => (masked.includes(i) ? `${c}*` : c));
  const body = rows.map((r) => r.map(cell));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('-+-'), ...body.map(line)].join('\n');
}

export function headerText(h: SessionHeaderRecord): string {
  const groups = h.identity.groups.length > 0 ? `, groups ${h.identity.groups.join(' ')}` : '';
  const app = h.clientParameters.application_name ? ` (${h.clientParameters.application_name})` : '';
  return `session ${h.sessionId} on gateway ${h.gateway}\n`
    + `  ${h.identity.subject} [${h.identity.method}${groups}] -> ${h.listener}/${h.database} (${h.protocol}) from ${h.clientAddress}${app}${h.tls ? ' over TLS' : ''}\n`
    + `  started ${h.startedAt}; statements recorded ${h.statementText}; up to ${h.maxRowsPerResult} rows per result\n`;
}

/** One record as transcript text (several lines for statements and results). */
export function recordText(r: RecordingRecord): string {
  const at = `[${clock(r.t)}]`.padEnd(INDENT.length);
  switch (r.type) {
    case 'session':
      return headerText(r);
    case 'statement':
      return `${at}#${r.n} ${r.command} (${r.via}${r.parent !== undefined ? `, inside #${r.parent}` : ''})\n${indent(r.text)}\n`
        + (r.parameters ? `${INDENT}parameters: ${JSON.stringify(r.parameters)}\n` : '');
    case 'verdict': {
      const word = r.verdict.toUpperCase();
      const rule = r.rule ? ` by ${r.rule}` : '';
      const error = r.error ? `: ${r.error.code}: ${r.error.message}` : '';
      const notice = r.notice ? `\n${INDENT}  notice: ${r.notice}` : '';
      return `${at}  ${word}${rule} #${r.n}${error}${notice}\n`;
    }
    case 'result': {
      const count = `${r.rows.length} row${r.rows.length === 1 ? '' : 's'}${r.truncated ? ' recorded (more were sent)' : ''}`;
      const plan = r.plan ? ` · ${r.plan}${r.masked ? ' (* = masked)' : ''}` : '';
      return `${at}  result #${r.n}: ${count}${plan}\n${indent(grid(r.columns, r.rows, r.masked ?? []), `${INDENT}  `)}\n`;
    }
    case 'complete': {
      const rows = r.rows !== undefined ? `${r.rows} row${r.rows === 1 ? '' : 's'} ` : '';
      const masked = r.masked ? ` · masked ${r.masked.values} value${r.masked.values === 1 ? '' : 's'} in ${r.masked.columns.join(', ')}` : '';
      const error = r.error ? ` · ERROR ${r.error.code}: ${r.error.message}` : '';
      return `${at}  done #${r.n}: ${rows}in ${milliseconds(r.durationMs)}${masked}${error}\n`;
    }
    case 'event':
      return `${at}${r.kind.toUpperCase()}${r.code ? ` ${r.code}` : ''}${r.n !== undefined ? ` (#${r.n})` : ''}: ${r.message}\n`;
    case 'end':
      return `${at}session ended (${r.reason}) after ${milliseconds(r.durationMs)}: ${r.statements} statement${r.statements === 1 ? '' : 's'}, ${r.denied} denied`
        + `${r.dropped > 0 ? `, ${r.dropped} records dropped` : ''}\n`;
    default:
      return `${at}${JSON.stringify(r)}\n`;
  }
}

/** `querygate replay SESSION [--speed N]` */
export async function run(args: readonly string[], io: CommandIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) { io.out(USAGE); return 0; }
  const named = positionals(args, ['--dir', '--config', '--speed']);
  if (named.length !== 1) { io.err(`querygate replay: name one SESSION\n\n${USAGE}`); return 2; }
  const speedText = flag(args, '--speed') ?? '1';
  const speed = Number(speedText);
  if (!Number.isFinite(speed) || speed < 0) { io.err(`querygate replay: --speed must be a number >= 0, not "${speedText}"\n`); return 2; }
  const target = sessionArgument(named[0]!);
  const dir = target.dir ?? recordingDir(args, io, 'replay');
  if (dir === undefined) return 2;
  const store = new RecordingStore(dir);
  let recording;
  let verify;
  try {
    [recording, verify] = await Promise.all([store.read(target.id), store.verify(target.id)]);
  } catch (err) {
    if (err instanceof RecordingNotFound) { io.err(`querygate replay: ${err.message} in ${dir}\n`); return 1; }
    throw err;
  }
  if (!verify.intact) {
    const p = verify.problems[0]!;
    io.err(`warning: this recording fails verification at line ${p.line}: ${p.message}\n`);
  }
  const [header, ...rest] = recording.records;
  io.out(headerText(header as SessionHeaderRecord));
  io.out('\n');
  let last = 0;
  for (const record of rest) {
    // Scaled real gaps; records written out of time order (a result is stamped when it began) do not wait.
    if (speed > 0) await sleep(io, Math.max(0, record.t - last) / speed);
    last = Math.max(last, record.t);
    io.out(recordText(record));
  }
  if (!verify.complete && verify.intact) io.out('(no end record: the session was still running, or the gateway stopped abruptly)\n');
  return verify.intact ? 0 : 1;
}
