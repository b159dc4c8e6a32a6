import { existsSync, readdirSync } from 'node:fs';
import { appendFile, chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanClientEnv, run, runUnchecked } from './Command';
import { ensureDebianPackages } from './DebianPackages';
import { Poll } from './Poll';
import { freePort, retryOnPortClash } from './Ports';
import { Secrets } from './Secrets';
import { ServerProcess } from './ServerProcess';
import { ServiceUser } from './ServiceUser';
import { TempDir } from './TempDir';

/** The login roles every PostgresServer creates, one per client authentication method. */
export type PostgresUserName = 'app' | 'app_md5' | 'app_clear' | 'app_trust';

export interface PostgresUser {
  user: string;
  password: string;
  /** The pg_hba method that applies to this role over TCP. */
  auth: 'scram-sha-256' | 'md5' | 'password' | 'trust';
}

export interface StartPostgresOptions {
  /** Goes into the temp dir name, to tell servers apart in `ps` and /tmp. */
  name?: string;
  /** Extra postgresql.conf settings (e.g. { log_statement: 'all' }). */
  settings?: Record<string, string | number | boolean>;
  startTimeoutMs?: number;
}

export interface PsqlOptions {
  /** Defaults to the superuser. */
  user?: string;
  /** Defaults to 'app'. */
  db?: string;
}

/** Everything a client needs, JSON-serialisable (what jest's globalSetup hands to test workers). */
export interface PostgresInfo {
  host: string;
  port: number;
  database: string;
  superuser: string;
  superPassword: string;
  users: Record<PostgresUserName, PostgresUser>;
  socketDir: string;
  dataDir: string;
}

const PG_ROOT = '/usr/lib/postgresql';

/** A throwaway PostgreSQL cluster in its own temp dir; see startPostgres(). */
export class PostgresServer implements PostgresInfo {
  readonly host = '127.0.0.1';
  readonly database = 'app';
  readonly superuser = 'postgres';
  private proc: ServerProcess | undefined;

  private constructor(
    readonly port: number,
    readonly superPassword: string,
    readonly users: Record<PostgresUserName, PostgresUser>,
    readonly dir: string,
    readonly dataDir: string,
    readonly socketDir: string,
    private readonly binDir: string,
    private readonly serviceUser: ServiceUser | null,
    private readonly startTimeoutMs: number,
  ) {}

  static async start(opts: StartPostgresOptions = {}): Promise<PostgresServer> {
    const binDir = await PostgresServer.findBinDir();
    const serviceUser = await ServiceUser.ensure();
    const dir = await TempDir.create(TempDir.prefix('pg', opts.name), serviceUser);
    try {
      const dataDir = join(dir, 'data');
      const socketDir = join(dir, 'socket');
      await mkdir(socketDir, { mode: 0o700 });
      if (serviceUser !== null) await chown(socketDir, serviceUser.uid, serviceUser.gid);

      const superPassword = Secrets.password();
      const users: Record<PostgresUserName, PostgresUser> = {
        app: { user: 'app', password: Secrets.password(), auth: 'scram-sha-256' },
        app_md5: { user: 'app_md5', password: Secrets.password(), auth: 'md5' },
        app_clear: { user: 'app_clear', password: Secrets.password(), auth: 'password' },
        app_trust: { user: 'app_trust', password: Secrets.password(), auth: 'trust' },
      };
      const port = await freePort();
      const server = new PostgresServer(
        port,
        superPassword,
        users,
        dir,
        dataDir,
        socketDir,
        binDir,
        serviceUser,
        opts.startTimeoutMs ?? 60_000,
      );
      await server.initdb(opts.settings ?? {});
      await server.startProcess();
      await server.createRoles();
      return server;
    } catch (e) {
      await TempDir.remove(dir).catch(() => undefined);
      throw e;
    }
  }

  /** Highest installed major version; installs Debian's `postgresql` if there is none. */
  private static async findBinDir(): Promise<string> {
    const find = (): string | null => {
      if (!existsSync(PG_ROOT)) return null;
      const versions = readdirSync(PG_ROOT)
        .filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(join(PG_ROOT, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a));
      return versions.length > 0 ? join(PG_ROOT, versions[0] as string, 'bin') : null;
    };
    const found = find();
    if (found !== null) return found;
    await ensureDebianPackages(['postgresql']);
    const installed = find();
    if (installed === null) throw new Error(`PostgreSQL is not under ${PG_ROOT} even after apt-get install postgresql`);
    return installed;
  }

  private get asUser(): { uid?: number; gid?: number } {
    return this.serviceUser === null ? {} : { uid: this.serviceUser.uid, gid: this.serviceUser.gid };
  }

  private async initdb(settings: Record<string, string | number | boolean>): Promise<void> {
    const pwfile = join(this.dir, 'superuser.pw');
    await writeFile(pwfile, `${this.superPassword}\n`, { mode: 0o600 });
    if (this.serviceUser !== null) await chown(pwfile, this.serviceUser.uid, this.serviceUser.gid);
    try {
      await run(
        join(this.binDir, 'initdb'),
        [
          '-D',
          this.dataDir,
          '-U',
          this.superuser,
          `--pwfile=${pwfile}`,
          '--auth-local=trust',
          '--auth-host=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C',
          '--no-sync',
        ],
        { ...this.asUser, env: cleanClientEnv({ LC_ALL: 'C' }), cwd: this.dir },
      );
    } finally {
      await rm(pwfile, { force: true });
    }

    // Order matters: the first matching line wins, so per-role methods precede the catch-all SCRAM lines.
    const hba = [
      '# written by @querygate/services',
      'local   all  all                      trust',
      'host    all  app_clear  127.0.0.1/32  password',
      'host    all  app_clear  ::1/128       password',
      // A "scram-sha-256" line rejects roles whose stored password is MD5; "md5" accepts both forms.
      'host    all  app_md5    127.0.0.1/32  md5',
      'host    all  app_md5    ::1/128       md5',
      'host    all  app_trust  127.0.0.1/32  trust',
      'host    all  app_trust  ::1/128       trust',
      'host    all  all        127.0.0.1/32  scram-sha-256',
      'host    all  all        ::1/128       scram-sha-256',
      '',
    ].join('\n');
    await writeFile(join(this.dataDir, 'pg_hba.conf'), hba);

    const conf: Record<string, string | number | boolean> = {
      listen_addresses: '127.0.0.1',
      port: this.port,
      unix_socket_directories: this.socketDir,
      // Durability is worthless for a throwaway test cluster; speed is not.
      fsync: false,
      synchronous_commit: false,
      full_page_writes: false,
      max_connections: 300,
      shared_buffers: '32MB',
      password_encryption: 'scram-sha-256',
      logging_collector: false,
      timezone: 'UTC',
      ...settings,
    };
    const lines = Object.entries(conf).map(([k, v]) => `${k} = ${confValue(v)}`);
    await appendFile(join(this.dataDir, 'postgresql.conf'), `\n# @querygate/services\n${lines.join('\n')}\n`);
    await chmod(this.dir, 0o755);
  }

  private async startProcess(): Promise<void> {
    const proc = new ServerProcess({
      command: join(this.binDir, 'postgres'),
      args: ['-D', this.dataDir],
      logFile: join(this.dir, 'postgres.log'),
      env: cleanClientEnv({ LC_ALL: 'C' }),
      cwd: this.dir,
      ...this.asUser,
    });
    this.proc = proc;
    try {
      await Poll.until(
        async () =>
          (
            await runUnchecked(join(this.binDir, 'pg_isready'), ['-q', '-h', this.socketDir, '-p', String(this.port)], {
              env: cleanClientEnv(),
              timeoutMs: 10_000,
            })
          ).code === 0,
        {
          what: `PostgreSQL on 127.0.0.1:${this.port}`,
          timeoutMs: this.startTimeoutMs,
          abort: () => (proc.isRunning ? null : `postgres ${proc.describeExit()}`),
          describe: () => proc.logTail(),
        },
      );
    } catch (e) {
      await proc.stop('SIGQUIT', 5_000);
      throw e;
    }
  }

  private async createRoles(): Promise<void> {
    const u = this.users;
    await this.psql(
      [
        `CREATE ROLE app LOGIN PASSWORD '${u.app.password}'`,
        `CREATE DATABASE app OWNER app`,
        // MD5 hashing only for this one role; the session setting is reset right after.
        `SET password_encryption = 'md5'`,
        `CREATE ROLE app_md5 LOGIN PASSWORD '${u.app_md5.password}'`,
        `RESET password_encryption`,
        // PostgreSQL cannot store cleartext; "password" auth checks the cleartext against the SCRAM verifier.
        `CREATE ROLE app_clear LOGIN PASSWORD '${u.app_clear.password}'`,
        `CREATE ROLE app_trust LOGIN PASSWORD '${u.app_trust.password}'`,
        '',
      ].join(';\n'),
      { db: 'postgres' },
    );
    // PostgreSQL 15 only lets the owner create in schema public; the other roles get to as well.
    await this.psql('GRANT ALL ON SCHEMA public TO app_md5, app_clear, app_trust;\n', { db: 'app' });
  }

  /** Runs SQL through psql over the unix socket (superuser by default) and returns its unaligned, tuples-only output. */
  async psql(sql: string, opts: PsqlOptions = {}): Promise<string> {
    const r = await run(
      join(this.binDir, 'psql'),
      [
        '-X',
        '-q',
        '-A',
        '-t',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        this.socketDir,
        '-p',
        String(this.port),
        '-U',
        opts.user ?? this.superuser,
        '-d',
        opts.db ?? this.database,
        '-f',
        '-',
      ],
      { input: sql, env: cleanClientEnv(), timeoutMs: 120_000 },
    );
    return r.stdout.replace(/\n$/, '');
  }

  /** postgresql://user:password@127.0.0.1:port/db; `user` defaults to 'app', `db` to 'app'. */
  connectionString(user: string = 'app', db: string = this.database): string {
    const password = this.passwordFor(user);
    const auth = password === undefined ? encodeURIComponent(user) : `${encodeURIComponent(user)}:${encodeURIComponent(password)}`;
    return `postgresql://${auth}@${this.host}:${this.port}/${encodeURIComponent(db)}`;
  }

  passwordFor(user: string): string | undefined {
    if (user === this.superuser) return this.superPassword;
    return (this.users as Record<string, PostgresUser | undefined>)[user]?.password;
  }

  get isRunning(): boolean {
    return this.proc?.isRunning ?? false;
  }

  info(): PostgresInfo {
    return {
      host: this.host,
      port: this.port,
      database: this.database,
      superuser: this.superuser,
      superPassword: this.superPassword,
      users: this.users,
      socketDir: this.socketDir,
      dataDir: this.dataDir,
    };
  }

  /** Fast shutdown (what `pg_ctl stop -m fast` sends), then start again on the same port and data. */
  async restart(): Promise<void> {
    await this.shutdown();
    await this.startProcess();
  }

  /** Fast shutdown, then removes the temp dir. */
  async stop(): Promise<void> {
    await this.shutdown();
    await TempDir.remove(this.dir);
  }

  private async shutdown(): Promise<void> {
    const proc = this.proc;
    if (proc === undefined) return;
    // SIGINT is PostgreSQL's fast shutdown; SIGQUIT its immediate one if that hangs.
    proc.signal('SIGINT');
    if (!(await proc.waitForExit(20_000))) await proc.stop('SIGQUIT', 5_000);
  }
}

function confValue(v: string | number | boolean): string {
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (typeof v === 'number') return String(v);
  return `'${v.replace(/'/g, "''")}'`;
}

/** Starts a fresh PostgreSQL cluster (scram/md5/password/trust roles, database `app`) on a free port. */
export function startPostgres(opts?: StartPostgresOptions): Promise<PostgresServer> {
  return retryOnPortClash(() => PostgresServer.start(opts));
}
