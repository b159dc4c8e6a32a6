// Proves the test harness: each real server started by globalSetup answers real clients, every
// PostgreSQL auth method works, and a Kafka broker can be stopped and brought back with its data.
import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import mysql from 'mysql2/promise';
import { Client, type DatabaseError } from 'pg';
import { startKafka, type KafkaBroker } from '../packages/services/src';
import { describeWith, kafkaBrokers, mariadbConfig, pgClientConfig, testServices } from './services';

async function pgQuery(config: ReturnType<typeof pgClientConfig>, sql: string): Promise<Record<string, unknown>[]> {
  const client = new Client(config);
  await client.connect();
  try {
    const res = await client.query<Record<string, unknown>>(sql);
    return res.rows;
  } finally {
    await client.end();
  }
}

async function pgConnectError(config: ReturnType<typeof pgClientConfig>): Promise<DatabaseError> {
  const client = new Client(config);
  try {
    await client.connect();
  } catch (e) {
    return e as DatabaseError;
  } finally {
    await client.end().catch(() => undefined);
  }
  throw new Error(`connecting as ${String(config.user)} unexpectedly succeeded`);
}

describeWith('postgres')('PostgreSQL', () => {
  it('accepts app over SCRAM-SHA-256 and owns database app', async () => {
    const rows = await pgQuery(
      pgClientConfig('app'),
      "SELECT current_user AS u, current_database() AS d, (SELECT datdba::regrole::text FROM pg_database WHERE datname = 'app') AS owner",
    );
    expect(rows).toEqual([{ u: 'app', d: 'app', owner: 'app' }]);
  });

  it('stores SCRAM verifiers for app and app_clear and an MD5 hash for app_md5', async () => {
    const rows = await pgQuery(
      pgClientConfig('postgres'),
      "SELECT rolname, left(rolpassword, 13) AS kind FROM pg_authid WHERE rolname LIKE 'app%' ORDER BY rolname",
    );
    const kinds = Object.fromEntries(rows.map((r) => [r.rolname, r.kind]));
    expect(kinds.app).toBe('SCRAM-SHA-256');
    expect(kinds.app_clear).toBe('SCRAM-SHA-256');
    expect(String(kinds.app_md5)).toMatch(/^md5[0-9a-f]{10}$/);
  });

  it('routes each role to its pg_hba method', async () => {
    const rows = await pgQuery(
      pgClientConfig('postgres'),
      "SELECT array_to_string(user_name, ',') AS who, auth_method FROM pg_hba_file_rules WHERE type = 'host' AND address = '127.0.0.1' ORDER BY line_number",
    );
    expect(rows).toEqual([
      { who: 'app_clear', auth_method: 'password' },
      { who: 'app_md5', auth_method: 'md5' },
      { who: 'app_trust', auth_method: 'trust' },
      { who: 'all', auth_method: 'scram-sha-256' },
    ]);
  });

  it.each(['app_md5', 'app_clear', 'app_trust'] as const)('authenticates %s', async (user) => {
    const rows = await pgQuery(pgClientConfig(user), 'SELECT current_user AS u');
    expect(rows).toEqual([{ u: user }]);
  });

  it('lets app_trust in whatever the password', async () => {
    const rows = await pgQuery({ ...pgClientConfig('app_trust'), password: 'not-the-password' }, 'SELECT 1 AS one');
    expect(rows).toEqual([{ one: 1 }]);
  });

  it.each(['app', 'app_md5', 'app_clear'] as const)('refuses %s with a wrong password (28P01)', async (user) => {
    const err = await pgConnectError({ ...pgClientConfig(user), password: 'wrong-password' });
    expect(err.code).toBe('28P01');
  });

  it('lets the non-owner roles create tables in app', async () => {
    const client = new Client(pgClientConfig('app_md5'));
    await client.connect();
    try {
      await client.query('CREATE TABLE IF NOT EXISTS harness_md5 (x int)');
      await client.query('INSERT INTO harness_md5 VALUES (42)');
      const res = await client.query<{ x: number }>('SELECT x FROM harness_md5 LIMIT 1');
      expect(res.rows).toEqual([{ x: 42 }]);
    } finally {
      await client.end();
    }
  });
});

describeWith('mariadb')('MariaDB', () => {
  it('accepts app over TCP: SELECT 1', async () => {
    const conn = await mysql.createConnection(mariadbConfig('app'));
    try {
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT 1 AS one, DATABASE() AS db, CURRENT_USER() AS cu');
      // The most specific account wins: app@127.0.0.1 over app@%.
      expect(rows[0]).toEqual({ one: 1, db: 'app', cu: 'app@127.0.0.1' });
    } finally {
      await conn.end();
    }
  });

  it('lets app create tables in app', async () => {
    const conn = await mysql.createConnection(mariadbConfig('app'));
    try {
      await conn.query('CREATE TABLE IF NOT EXISTS harness_t (id INT PRIMARY KEY, v VARCHAR(10))');
      await conn.query('REPLACE INTO harness_t VALUES (1, ?)', ['x']);
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT v FROM harness_t WHERE id = 1');
      expect(rows[0]?.v).toBe('x');
    } finally {
      await conn.end();
    }
  });

  it('accepts root over TCP with a password and reports the auth plugins', async () => {
    const conn = await mysql.createConnection(mariadbConfig('root'));
    try {
      const [rows] = await conn.query<mysql.RowDataPacket[]>(
        "SELECT User AS user, Host AS host, plugin FROM mysql.user WHERE user IN ('app', 'root') AND host IN ('%', '127.0.0.1') ORDER BY user, host",
      );
      expect(rows.map((r) => `${String(r.user)}@${String(r.host)}:${String(r.plugin)}`)).toEqual([
        'app@%:mysql_native_password',
        'app@127.0.0.1:mysql_native_password',
        'root@127.0.0.1:mysql_native_password',
      ]);
    } finally {
      await conn.end();
    }
  });

  it.each(['app', 'root'] as const)('refuses %s with a wrong password (1045)', async (user) => {
    await expect(mysql.createConnection({ ...mariadbConfig(user), password: 'wrong-password' })).rejects.toMatchObject({
      errno: 1045,
      code: 'ER_ACCESS_DENIED_ERROR',
    });
  });
});

function quietKafka(brokers: string[], clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 5000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 },
  });
}

/** Reads `count` messages of `topic` from the beginning with a fresh consumer group. */
async function consume(kafka: Kafka, topic: string, count: number, timeoutMs = 30_000): Promise<KafkaMessage[]> {
  const consumer: Consumer = kafka.consumer({ groupId: `harness-${topic}-${Date.now()}-${Math.random()}` });
  const got: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`consumed ${got.length}/${count} messages of ${topic} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async ({ message }) => {
            got.push(message);
            if (got.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch((e: unknown) => {
          clearTimeout(timer);
          reject(e instanceof Error ? e : new Error(String(e)));
        });
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

const asPairs = (msgs: KafkaMessage[]): string[][] =>
  msgs.map((m) => [m.key?.toString('utf8') ?? '', m.value?.toString('utf8') ?? '']);

describeWith('kafka')('Kafka (shared broker)', () => {
  it('creates a topic, produces 3 keyed messages and consumes them back in order', async () => {
    const kafka = quietKafka(kafkaBrokers(), 'harness-shared');
    const topic = `harness-shared-${Date.now()}`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true })).toBe(true);
    } finally {
      await admin.disconnect();
    }
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic,
        messages: [
          { key: 'k1', value: 'one' },
          { key: 'k2', value: 'two' },
          { key: 'k3', value: 'three' },
        ],
      });
    } finally {
      await producer.disconnect();
    }
    expect(asPairs(await consume(kafka, topic, 3))).toEqual([
      ['k1', 'one'],
      ['k2', 'two'],
      ['k3', 'three'],
    ]);
  });
});

// Stopping the shared broker would pull it from under tests in other workers, so this one starts its own
// (still skipped with QUERYGATE_TEST_SERVICES_SKIP=kafka, which asks for a run without Kafka).
describeWith('kafka')('Kafka (private broker: stop and restart)', () => {
  let broker: KafkaBroker;
  const topic = 'audit-restart';

  beforeAll(async () => {
    broker = await startKafka({ name: 'harness-restart' });
  }, 180_000);

  afterAll(async () => {
    await broker?.destroy();
  }, 60_000);

  it('keeps its data across stop()/start() on the same port and refuses producers while down', async () => {
    const kafka = quietKafka(broker.brokers, 'harness-restart');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    await admin.disconnect();

    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { key: 'a', value: '1' },
        { key: 'b', value: '2' },
        { key: 'c', value: '3' },
      ],
    });
    await producer.disconnect();
    expect(asPairs(await consume(kafka, topic, 3))).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ]);

    const portBefore = broker.port;
    await broker.stop();
    expect(broker.isRunning).toBe(false);

    const downProducer = quietKafka(broker.brokers, 'harness-down').producer({
      retry: { retries: 0 },
    });
    await expect(
      (async () => {
        await downProducer.connect();
        await downProducer.send({ topic, messages: [{ key: 'x', value: 'lost' }] });
      })(),
    ).rejects.toThrow();
    await downProducer.disconnect().catch(() => undefined);

    await broker.start();
    expect(broker.port).toBe(portBefore);
    const again = quietKafka(broker.brokers, 'harness-restarted');
    const producer2 = again.producer();
    await producer2.connect();
    await producer2.send({ topic, messages: [{ key: 'd', value: '4' }] });
    await producer2.disconnect();
    expect(asPairs(await consume(again, topic, 4))).toEqual([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
      ['d', '4'],
    ]);
  }, 180_000);
});

describe('services.json', () => {
  it('describes every started service', () => {
    const s = testServices();
    for (const name of ['postgres', 'mariadb', 'kafka'] as const) {
      if (s[name] !== undefined) expect(s.startupMs[name]).toBeGreaterThan(0);
    }
    if (s.postgres) expect(Object.keys(s.postgres.users).sort()).toEqual(['app', 'app_clear', 'app_md5', 'app_trust']);
    if (s.kafka) expect(s.kafka.brokers).toEqual([`127.0.0.1:${s.kafka.port}`]);
  });
});
