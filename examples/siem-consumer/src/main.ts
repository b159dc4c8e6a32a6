#!/usr/bin/env node
// querygate-siem-consumer: read the audit topic, validate every event, check order and gaps, print a summary.
import { SiemConsumer } from './SiemConsumer';
import { formatSummary } from './formatSummary';

const USAGE = `usage: querygate-siem-consumer --brokers host:port[,host:port] [--topic querygate.audit] [--follow] [--group ID] [--schema PATH]

Reads the topic from the beginning with a fresh consumer group (or --group), validates each record and
checks per-session order. Stops at the end of the topic as it was at start, or with --follow runs until
Ctrl-C. Exit code 0 when everything is valid and in order, 1 when problems were found, 2 on usage errors.`;

function parseArgs(argv: readonly string[]): Map<string, string | true> {
  const args = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (name === 'follow' || name === 'help') args.set(name, true);
    else if (inline !== undefined) args.set(name, inline);
    else if (i + 1 < argv.length) args.set(name, argv[++i]!);
    else throw new Error(`--${name} needs a value`);
  }
  return args;
}

async function main(): Promise<number> {
  let args: Map<string, string | true>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.has('help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const brokers = args.get('brokers') ?? process.env.KAFKA_BROKERS;
  if (typeof brokers !== 'string' || brokers === '') {
    process.stderr.write(`--brokers is required\n${USAGE}\n`);
    return 2;
  }
  const topic = typeof args.get('topic') === 'string' ? (args.get('topic') as string) : 'querygate.audit';
  const group = args.get('group');
  const schema = args.get('schema');
  const consumer = new SiemConsumer({
    brokers: brokers.split(','),
    topic,
    mode: args.has('follow') ? 'follow' : 'end',
    ...(typeof group === 'string' ? { groupId: group } : {}),
    ...(typeof schema === 'string' ? { schemaPath: schema } : {}),
    onFinding: (f) => process.stdout.write(`finding: ${f}\n`),
  });
  process.once('SIGINT', () => consumer.stop());
  process.once('SIGTERM', () => consumer.stop());
  const summary = await consumer.run();
  process.stdout.write(`${formatSummary(topic, summary)}\n`);
  return summary.invalid === 0 && summary.gaps === 0 && summary.outOfOrder === 0 ? 0 : 1;
}

main().then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`querygate-siem-consumer: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
