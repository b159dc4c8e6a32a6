import { RecordingNotFound, RecordingStore, type RecordingSummary } from '@querygate/core';
import { flag, positionals, recordingDir, sessionArgument, type CommandIo } from './io';

const USAGE = `Usage:
  querygate sessions list (--dir DIR | --config FILE) [--json]
  querygate sessions verify (SESSION... | --all) (--dir DIR | --config FILE)
`;

function duration(ms: number | undefined): string {
  if (ms === undefined) return '';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

async function list(args: readonly string[], io: CommandIo): Promise<number> {
  const dir = recordingDir(args, io, 'sessions list');
  if (dir === undefined) return 2;
  const sessions = await new RecordingStore(dir).list();
  if (args.includes('--json')) {
    io.out(`${JSON.stringify(sessions.map(({ file: _file, ...s }) => s), null, 2)}\n`);
    return 0;
  }
  if (sessions.length === 0) {
    io.out(`no recordings in ${dir}\n`);
    return 0;
  }
  const status = (s: RecordingSummary): string => (s.ended ? s.endReason ?? 'ended' : 'live/cut');
  io.out(table([
    ['SESSION', 'STARTED', 'IDENTITY', 'LISTENER', 'DATABASE', 'STATEMENTS', 'DENIED', 'DURATION', 'STATUS'],
    ...sessions.map((s) => [
      s.id, s.startedAt, s.subject, `${s.listener}/${s.protocol}`, s.database,
      s.statements === undefined ? '' : String(s.statements), s.denied === undefined ? '' : String(s.denied), duration(s.durationMs), status(s),
    ]),
  ]));
  return 0;
}

async function verify(args: readonly string[], io: CommandIo): Promise<number> {
  const named = positionals(args, ['--dir', '--config']);
  const all = args.includes('--all');
  if (!all && named.length === 0) { io.err(`querygate sessions verify: name a SESSION or pass --all\n\n${USAGE}`); return 2; }
  const targets = named.map(sessionArgument);
  // Recording files named by path need no --dir; session ids and --all do.
  const needsDir = all || targets.some((t) => t.dir === undefined) || flag(args, '--dir') !== undefined || flag(args, '--config') !== undefined;
  const dir = needsDir ? recordingDir(args, io, 'sessions verify') : undefined;
  if (needsDir && dir === undefined) return 2;
  const stores = new Map<string, RecordingStore>();
  const storeOf = (d: string): RecordingStore => {
    let store = stores.get(d);
    if (!store) { store = new RecordingStore(d); stores.set(d, store); }
    return store;
  };
  const work = all ? (await storeOf(dir!).ids()).map((id) => ({ id, dir: dir! })) : targets.map((t) => ({ id: t.id, dir: t.dir ?? dir! }));
  let failed = 0;
  let incomplete = 0;
  for (const { id, dir: from } of work) {
    try {
      const result = await storeOf(from).verify(id);
      if (!result.intact) {
        failed++;
        io.out(`TAMPERED  ${id}  ${result.problems.map((p) => `line ${p.line}: ${p.message}`).join('; ')}\n`);
      } else if (!result.complete) {
        incomplete++;
        io.out(`OPEN      ${id}  ${result.records} records, intact, no end record (session running, or cut short)\n`);
      } else {
        io.out(`OK        ${id}  ${result.records} records, chain head ${result.lastHash.slice(0, 16)}…\n`);
      }
    } catch (err) {
      if (!(err instanceof RecordingNotFound)) throw err;
      failed++;
      io.out(`MISSING   ${id}  ${err.message}\n`);
    }
  }
  if (all && work.length === 0) io.out(`no recordings in ${dir}\n`);
  io.err(`${work.length - failed - incomplete} ok, ${incomplete} open, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}

/** `querygate sessions list|verify ...` */
export async function run(args: readonly string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'list': return list(rest, io);
    case 'verify': return verify(rest, io);
    case undefined:
    case '--help':
    case 'help':
      io.out(USAGE);
      return sub === undefined ? 2 : 0;
    default:
      io.err(`querygate sessions: unknown subcommand "${sub}"\n\n${USAGE}`);
      return 2;
  }
}
