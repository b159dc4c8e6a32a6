import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, run } from './Command';
import { ensureDebianPackages } from './DebianPackages';
import { Poll } from './Poll';
import { freePort, retryOnPortClash } from './Ports';
import { ServerProcess } from './ServerProcess';
import { TempDir } from './TempDir';

/** The Apache Kafka release the broker runs (Maven Central `org.apache.kafka:kafka_2.13`). */
export const KAFKA_VERSION = '3.9.1';
const SCALA_VERSION = '2.13';

export interface StartKafkaOptions {
  /** Goes into the temp dir name, to tell brokers apart in `ps` and /tmp. */
  name?: string;
  /** Extra/overriding server.properties entries. */
  properties?: Record<string, string | number | boolean>;
  startTimeoutMs?: number;
  /** How long stop() waits for a clean shutdown before SIGKILL. Default 30 s. */
  stopTimeoutMs?: number;
}

/** Everything a client needs, JSON-serialisable (what jest's globalSetup hands to test workers). */
export interface KafkaInfo {
  brokers: string[];
  host: string;
  port: number;
  controllerPort: number;
  clusterId: string;
  logDir: string;
}

/**
 * A real single-node Apache Kafka broker (KRaft, combined broker+controller) in its own temp dir.
 * stop()/start() keep the ports and the data, so tests can take the broker away and bring it back.
 */
export class KafkaBroker implements KafkaInfo {
  readonly host = '127.0.0.1';
  private proc: ServerProcess | undefined;
  private destroyed = false;
  private static jars: Promise<string> | undefined;

  private constructor(
    readonly port: number,
    readonly controllerPort: number,
    readonly clusterId: string,
    readonly dir: string,
    readonly logDir: string,
    private readonly libDir: string,
    private readonly java: string,
    private readonly startTimeoutMs: number,
    private readonly stopTimeoutMs: number,
  ) {}

  static async create(opts: StartKafkaOptions = {}): Promise<KafkaBroker> {
    const [libDir, java] = await Promise.all([KafkaBroker.ensureJars(), KafkaBroker.findJava()]);
    const dir = await TempDir.create(TempDir.prefix('kafka', opts.name), null);
    try {
      const [port, controllerPort] = [await freePort(), await freePort()];
      const broker = new KafkaBroker(
        port,
        controllerPort,
        newClusterId(),
        dir,
        join(dir, 'data'),
        libDir,
        java,
        opts.startTimeoutMs ?? 90_000,
        opts.stopTimeoutMs ?? 30_000,
      );
      await broker.writeConfig(opts.properties ?? {});
      await broker.format();
      return broker;
    } catch (e) {
      await TempDir.remove(dir).catch(() => undefined);
      throw e;
    }
  }

  /** Where the broker's jars are cached across runs (outside the repo, so nothing to gitignore). */
  static libDir(): string {
    const override = process.env.QUERYGATE_KAFKA_LIB;
    if (override !== undefined && override !== '') return override;
    const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
    return join(cache, 'querygate', `kafka-${KAFKA_VERSION}`, 'lib');
  }

  /**
   * Downloads Kafka and its dependencies with Maven (once; ~/.m2 and the lib dir cache them). The copy goes
   * to a private dir and is renamed into place, so concurrent test processes never see a half-filled lib dir.
   */
  static ensureJars(): Promise<string> {
    if (KafkaBroker.jars === undefined) {
      KafkaBroker.jars = KafkaBroker.downloadJars();
      KafkaBroker.jars.catch(() => (KafkaBroker.jars = undefined));
    }
    return KafkaBroker.jars;
  }

  private static async downloadJars(): Promise<string> {
    const lib = KafkaBroker.libDir();
    if (existsSync(join(lib, `kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar`))) return lib;
    let mvn = findExecutable('mvn');
    if (mvn === null) {
      await ensureDebianPackages(['maven']);
      mvn = findExecutable('mvn');
      if (mvn === null) throw new Error('mvn is still missing after apt-get install maven');
    }
    const pom = join(__dirname, '..', 'kafka', 'pom.xml');
    const parent = join(lib, '..');
    const work = join(parent, `download-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(work, { recursive: true });
    try {
      // Maven runs in the cache dir, not the repo, so its target/ never lands in the work tree.
      await copyFile(pom, join(work, 'pom.xml'));
      await run(
        mvn,
        [
          '-q',
          '-B',
          '-Dstyle.color=never',
          `-Dkafka.version=${KAFKA_VERSION}`,
          'dependency:copy-dependencies',
          '-DincludeScope=runtime',
          `-DoutputDirectory=${join(work, 'lib')}`,
        ],
        { cwd: work, timeoutMs: 600_000 },
      );
      if (!existsSync(join(work, 'lib', `kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar`))) {
        throw new Error(`mvn dependency:copy-dependencies did not produce kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar`);
      }
      try {
        await rename(join(work, 'lib'), lib);
      } catch (e) {
        // Another process won the race; its lib dir is just as good.
        if (!existsSync(join(lib, `kafka_${SCALA_VERSION}-${KAFKA_VERSION}.jar`))) throw e;
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    return lib;
  }

  private static async findJava(): Promise<string> {
    const home = process.env.JAVA_HOME;
    if (home !== undefined && home !== '' && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
    const found = findExecutable('java');
    if (found !== null) return found;
    await ensureDebianPackages(['openjdk-17-jre-headless']);
    const installed = findExecutable('java');
    if (installed === null) throw new Error('java is still missing after apt-get install openjdk-17-jre-headless');
    return installed;
  }

  get brokers(): string[] {
    return [`${this.host}:${this.port}`];
  }

  get isRunning(): boolean {
    return this.proc?.isRunning ?? false;
  }

  private get propertiesFile(): string {
    return join(this.dir, 'server.properties');
  }

  private get log4jFile(): string {
    return join(this.dir, 'log4j.properties');
  }

  private get javaArgs(): string[] {
    return [
      '-Xms64m',
      '-Xmx512m',
      // Small heap, short-lived broker: the serial collector and C1-only JIT start fastest.
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-Djava.awt.headless=true',
      '-Djava.net.preferIPv4Stack=true',
      `-Dlog4j.configuration=file:${this.log4jFile}`,
      `-Dkafka.logs.dir=${this.dir}`,
      '-cp',
      `${this.libDir}/*`,
    ];
  }

  private async writeConfig(overrides: Record<string, string | number | boolean>): Promise<void> {
    const props: Record<string, string | number | boolean> = {
      'process.roles': 'broker,controller',
      'node.id': 1,
      'controller.quorum.voters': `1@${this.host}:${this.controllerPort}`,
      listeners: `PLAINTEXT://${this.host}:${this.port},CONTROLLER://${this.host}:${this.controllerPort}`,
      'advertised.listeners': `PLAINTEXT://${this.host}:${this.port}`,
      'controller.listener.names': 'CONTROLLER',
      'inter.broker.listener.name': 'PLAINTEXT',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'log.dirs': this.logDir,
      'offsets.topic.replication.factor': 1,
      // One partition instead of 50: the first consumer group otherwise waits for 50 partitions to be created.
      'offsets.topic.num.partitions': 1,
      'transaction.state.log.replication.factor': 1,
      'transaction.state.log.min.isr': 1,
      'transaction.state.log.num.partitions': 1,
      'group.initial.rebalance.delay.ms': 0,
      'auto.create.topics.enable': true,
      'num.partitions': 3,
      'default.replication.factor': 1,
      'min.insync.replicas': 1,
      // After kill() the controller still holds the dead incarnation's registration and refuses the new one
      // (DUPLICATE_BROKER_REGISTRATION) until the session times out: 9 s by default, 3 s here (6 missed heartbeats).
      'broker.heartbeat.interval.ms': 500,
      'broker.session.timeout.ms': 3000,
      ...overrides,
    };
    const text = Object.entries(props)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join('\n');
    await writeFile(this.propertiesFile, `# written by @querygate/services\n${text}\n`);
    await writeFile(
      this.log4jFile,
      [
        'log4j.rootLogger=INFO, stdout',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        // kafka.* INFO carries the lifecycle lines startup waits for; the rest is noise in a test log.
        'log4j.logger.kafka=INFO',
        'log4j.logger.kafka.server.KafkaConfig=WARN',
        'log4j.logger.state.change.logger=WARN',
        'log4j.logger.org.apache.kafka=WARN',
        'log4j.logger.org.apache.zookeeper=WARN',
        '',
      ].join('\n'),
    );
  }

  private async format(): Promise<void> {
    await run(
      this.java,
      [...this.javaArgs, 'kafka.tools.StorageTool', 'format', '-t', this.clusterId, '-c', this.propertiesFile],
      { cwd: this.dir, timeoutMs: 120_000 },
    );
  }

  /** Starts the broker process (again) on the same ports and data; resolves once it serves requests. */
  async start(): Promise<void> {
    if (this.destroyed) throw new Error('KafkaBroker.start(): the broker was destroyed');
    if (this.isRunning) return;
    const proc = new ServerProcess({
      command: this.java,
      args: [...this.javaArgs, 'kafka.Kafka', this.propertiesFile],
      logFile: join(this.dir, 'broker.log'),
      cwd: this.dir,
    });
    this.proc = proc;
    try {
      await Poll.until(
        async () =>
          /Kafka Server started|\[KafkaServer id=\d+\] started/.test(proc.logSinceStart()) &&
          (await apiVersionsOk(this.host, this.port)),
        {
          what: `Kafka broker on ${this.host}:${this.port}`,
          timeoutMs: this.startTimeoutMs,
          intervalMs: 100,
          abort: () => (proc.isRunning ? null : `the broker JVM ${proc.describeExit()}`),
          describe: () => proc.logTail(),
        },
      );
    } catch (e) {
      await proc.stop('SIGKILL');
      throw e;
    }
  }

  /** Clean shutdown (SIGTERM; SIGKILL after stopTimeoutMs). The data stays for start(). */
  async stop(): Promise<void> {
    await this.proc?.stop('SIGTERM', this.stopTimeoutMs);
  }

  /** Simulates a crash: SIGKILL, no clean shutdown. The data stays for start(). */
  async kill(): Promise<void> {
    await this.proc?.stop('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the broker and removes its temp dir; the object cannot be started again. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    await this.stop();
    await TempDir.remove(this.dir);
  }

  /** The tail of the broker's log, for diagnosing a failing test. */
  logTail(bytes = 6000): string {
    return this.proc?.logTail(bytes) ?? '';
  }

  info(): KafkaInfo {
    return {
      brokers: this.brokers,
      host: this.host,
      port: this.port,
      controllerPort: this.controllerPort,
      clusterId: this.clusterId,
      logDir: this.logDir,
    };
  }
}

/** A KRaft cluster id: 16 random bytes, base64url without padding (Kafka's Uuid string form). */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    // An id starting with '-' would be read as an option by StorageTool's argument parser.
    if (!id.startsWith('-')) return id;
  }
}

/**
 * Sends a real ApiVersions (v0) request and checks for a well-formed, error-free answer: proves the
 * broker's request handling works, not just that something listens on the port.
 */
function apiVersionsOk(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const correlationId = 0x51_47_00_01;
    const clientId = Buffer.from('querygate-services-probe', 'utf8');
    const body = Buffer.alloc(10 + clientId.length);
    body.writeInt16BE(18, 0); // api_key ApiVersions
    body.writeInt16BE(0, 2); // api_version
    body.writeInt32BE(correlationId, 4);
    body.writeInt16BE(clientId.length, 8);
    clientId.copy(body, 10);
    const frame = Buffer.alloc(4 + body.length);
    frame.writeInt32BE(body.length, 0);
    body.copy(frame, 4);

    const socket = new Socket();
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const size = received.readInt32BE(0);
      if (received.length < 4 + size) return;
      finish(size >= 6 && received.readInt32BE(4) === correlationId && received.readInt16BE(8) === 0);
    });
    socket.connect(port, host, () => socket.write(frame));
  });
}

/** Formats and starts a fresh single-node KRaft broker on free ports (jars via Maven, cached). */
export function startKafka(opts?: StartKafkaOptions): Promise<KafkaBroker> {
  return retryOnPortClash(async () => {
    const broker = await KafkaBroker.create(opts);
    try {
      await broker.start();
    } catch (e) {
      await broker.destroy().catch(() => undefined);
      throw e;
    }
    return broker;
  });
}
