import { chmod, mkdir, chown } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanClientEnv, findExecutable, run, runUnchecked } from './Command';
import { ensureDebianPackages } from './DebianPackages';
import { Poll } from './Poll';
import { freePort, retryOnPortClash } from './Ports';
import { Secrets } from './Secrets';
import { ServerProcess } from './ServerProcess';
import { ServiceUser } from './ServiceUser';
import { TempDir } from './TempDir';

export type MariadbUserName = 'app';

export interface MariadbUser {
  user: string;
  password: string;
  /** Authentication plugin the account uses. */
  plugin: 'mysql_native_password';
}

export interface StartMariadbOptions {
  /** Goes into the temp dir name, to tell servers apart in `ps` and /tmp. */
  name?: string;
  /** Extra mariadbd options without the leading dashes, e.g. { 'general-log': 1 }. */
  options?: Record<string, string | number>;
  startTimeoutMs?: number;
}

export interface MariadbCliOptions {
  /** Defaults to root. */
  user?: string;
  /** Defaults to 'app'. */
  db?: string;
}

/** Everything a client needs, JSON-serialisable (what jest's globalSetup hands to test workers). */
export interface MariadbInfo {
  host: string;
  port: number;
  database: string;
  rootUser: string;
  rootPassword: string;
  users: Record<MariadbUserName, MariadbUser>;
  socket: string;
  dataDir: string;
}

interface MariadbBinaries {
  installDb: string;
  server: string;
  client: string;
  admin: string;
}

/** A throwaway MariaDB server in its own temp dir; see startMariadb(). */
export class MariadbServer implements MariadbInfo {
  readonly host = '127.0.0.1';
  readonly database = 'app';
  readonly rootUser = 'root';
  private proc: ServerProcess | undefined;

  private constructor(
    readonly port: number,
    readonly rootPassword: string,
    readonly users: Record<MariadbUserName, MariadbUser>,
    readonly dir: string,
    readonly dataDir: string,
    readonly socket: string,
    private readonly bins: MariadbBinaries,
    private readonly serviceUser: ServiceUser | null,
    private readonly extraOptions: Record<string, string | number>,
    private readonly startTimeoutMs: number,
  ) {}

  static async start(opts: StartMariadbOptions = {}): Promise<MariadbServer> {
    const bins = await MariadbServer.findBinaries();
    const serviceUser = await ServiceUser.ensure();
    const dir = await TempDir.create(TempDir.prefix('mariadb', opts.name), serviceUser);
    try {
      await chmod(dir, 0o755);
      const tmp = join(dir, 'tmp');
      await mkdir(tmp);
      if (serviceUser !== null) await chown(tmp, serviceUser.uid, serviceUser.gid);
      const server = new MariadbServer(
        await freePort(),
        Secrets.password(),
        { app: { user: 'app', password: Secrets.password(), plugin: 'mysql_native_password' } },
        dir,
        join(dir, 'data'),
        join(dir, 'mariadbd.sock'),
        bins,
        serviceUser,
        opts.options ?? {},
        opts.startTimeoutMs ?? 60_000,
      );
      await server.installDb();
      await server.startProcess(true);
      await server.createUsers();
      return server;
    } catch (e) {
      await TempDir.remove(dir).catch(() => undefined);
      throw e;
    }
  }

  private static async findBinaries(): Promise<MariadbBinaries> {
    const find = (): MariadbBinaries | null => {
      const installDb = findExecutable('mariadb-install-db');
      const server = findExecutable('mariadbd');
      const client = findExecutable('mariadb');
      const admin = findExecutable('mariadb-admin');
      return installDb && server && client && admin ? { installDb, server, client, admin } : null;
    };
    const found = find();
    if (found !== null) return found;
    await ensureDebianPackages(['mariadb-server', 'mariadb-client']);
    const installed = find();
    if (installed === null) throw new Error('MariaDB binaries still missing after apt-get install mariadb-server');
    return installed;
  }

  private get asUser(): { uid?: number; gid?: number } {
    return this.serviceUser === null ? {} : { uid: this.serviceUser.uid, gid: this.serviceUser.gid };
  }

  /** Options shared by the bootstrap (install-db passes unknown options on to mariadbd) and the real server. */
  private get storageOptions(): string[] {
    return [
      '--innodb-buffer-pool-size=64M',
      '--innodb-log-file-size=16M',
      // Durability is worthless for a throwaway test server; speed is not.
      '--innodb-flush-log-at-trx-commit=0',
      '--innodb-doublewrite=0',
      '--skip-log-bin',
      '--skip-name-resolve',
      `--tmpdir=${join(this.dir, 'tmp')}`,
    ];
  }

  private async installDb(): Promise<void> {
    await run(
      this.bins.installDb,
      [
        // --no-defaults first, always: /etc/mysql/my.cnf describes the machine's own server (port 3306, its datadir).
        '--no-defaults',
        `--datadir=${this.dataDir}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        ...this.storageOptions,
      ],
      { ...this.asUser, cwd: this.dir, env: cleanClientEnv(), timeoutMs: 120_000 },
    );
  }

  private async startProcess(fresh: boolean): Promise<void> {
    const extra = Object.entries(this.extraOptions).map(([k, v]) => `--${k}=${v}`);
    const proc = new ServerProcess({
      command: this.bins.server,
      args: [
        '--no-defaults',
        `--datadir=${this.dataDir}`,
        `--socket=${this.socket}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        `--pid-file=${join(this.dir, 'mariadbd.pid')}`,
        '--max-connections=500',
        ...this.storageOptions,
        ...extra,
      ],
      logFile: join(this.dir, 'mariadbd.log'),
      cwd: this.dir,
      env: cleanClientEnv(),
      ...this.asUser,
    });
    this.proc = proc;
    try {
      await Poll.until(
        async () => {
          // ping exits 0 for a live server even when the credentials are refused.
          const r = await runUnchecked(this.bins.admin, ['--no-defaults', `--socket=${this.socket}`, '-uroot', 'ping'], {
            env: this.clientEnv(fresh ? '' : this.rootPassword),
            timeoutMs: 10_000,
          });
          return r.code === 0;
        },
        {
          what: `MariaDB on 127.0.0.1:${this.port}`,
          timeoutMs: this.startTimeoutMs,
          abort: () => (proc.isRunning ? null : `mariadbd ${proc.describeExit()}`),
          describe: () => proc.logTail(),
        },
      );
    } catch (e) {
      await proc.stop('SIGKILL', 5_000);
      throw e;
    }
  }

  private clientEnv(password: string): NodeJS.ProcessEnv {
    return cleanClientEnv(password === '' ? {} : { MYSQL_PWD: password });
  }

  private async createUsers(): Promise<void> {
    const pw = (p: string): string => `IDENTIFIED VIA mysql_native_password USING PASSWORD('${p}')`;
    const app = this.users.app;
    const sql = [
      // install-db made password-less root accounts for localhost, 127.0.0.1 and ::1; lock them all.
      `CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'`,
      `GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION`,
      `ALTER USER IF EXISTS 'root'@'::1' ${pw(this.rootPassword)}`,
      `ALTER USER 'root'@'127.0.0.1' ${pw(this.rootPassword)}`,
      `CREATE DATABASE IF NOT EXISTS app`,
      // '%' for TCP; 'localhost' for the unix socket (with skip-name-resolve, 127.0.0.1 is matched literally).
      ...['%', '127.0.0.1', 'localhost'].flatMap((host) => [
        `CREATE USER 'app'@'${host}' ${pw(app.password)}`,
        `GRANT ALL PRIVILEGES ON app.* TO 'app'@'${host}'`,
      ]),
      // Last: everything above still ran on the password-less root session.
      `ALTER USER 'root'@'localhost' ${pw(this.rootPassword)}`,
      '',
    ].join(';\n');
    await run(this.bins.client, ['--no-defaults', `--socket=${this.socket}`, '-uroot', '--batch'], {
      input: sql,
      env: this.clientEnv(''),
    });
  }

  /** Runs SQL through the `mariadb` CLI over the unix socket (root by default), batch mode, no column names. */
  async mariadb(sql: string, opts: MariadbCliOptions = {}): Promise<string> {
    const user = opts.user ?? this.rootUser;
    const r = await run(
      this.bins.client,
      [
        '--no-defaults',
        `--socket=${this.socket}`,
        `--user=${user}`,
        '--batch',
        '--skip-column-names',
        `--database=${opts.db ?? this.database}`,
      ],
      { input: sql, env: this.clientEnv(this.passwordFor(user) ?? ''), timeoutMs: 120_000 },
    );
    return r.stdout.replace(/\n$/, '');
  }

  passwordFor(user: string): string | undefined {
    if (user === this.rootUser) return this.rootPassword;
    return (this.users as Record<string, MariadbUser | undefined>)[user]?.password;
  }

  /** mysql://user:password@127.0.0.1:port/db; `user` defaults to 'app'. */
  connectionString(user: string = 'app', db: string = this.database): string {
    const password = this.passwordFor(user) ?? '';
    return `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${this.host}:${this.port}/${encodeURIComponent(db)}`;
  }

  get isRunning(): boolean {
    return this.proc?.isRunning ?? false;
  }

  info(): MariadbInfo {
    return {
      host: this.host,
      port: this.port,
      database: this.database,
      rootUser: this.rootUser,
      rootPassword: this.rootPassword,
      users: this.users,
      socket: this.socket,
      dataDir: this.dataDir,
    };
  }

  /** Clean shutdown, then start again on the same port with the same data. */
  async restart(): Promise<void> {
    await this.shutdown();
    await this.startProcess(false);
  }

  /** Clean shutdown (mariadb-admin shutdown), then removes the temp dir. */
  async stop(): Promise<void> {
    await this.shutdown();
    await TempDir.remove(this.dir);
  }

  private async shutdown(): Promise<void> {
    const proc = this.proc;
    if (proc === undefined || !proc.isRunning) return;
    const r = await runUnchecked(this.bins.admin, ['--no-defaults', `--socket=${this.socket}`, '-uroot', 'shutdown'], {
      env: this.clientEnv(this.rootPassword),
      timeoutMs: 30_000,
    }).catch(() => null);
    // SIGTERM is mariadbd's own clean shutdown, for when the admin connection is impossible.
    if (r === null || r.code !== 0) proc.signal('SIGTERM');
    if (!(await proc.waitForExit(30_000))) await proc.stop('SIGKILL');
  }
}

/** Starts a fresh MariaDB server (root with a password, database `app`, user `app`) on a free port. */
export function startMariadb(opts?: StartMariadbOptions): Promise<MariadbServer> {
  return retryOnPortClash(() => MariadbServer.start(opts));
}
