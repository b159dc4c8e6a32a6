import { describeWith, mariadbInfo } from '../../../../test/services';
import { runCli } from '../helpers/cli';
import { ALICE, startMysqlGateway, type MysqlGateway } from '../helpers/mysqlGateway';
import { buildJdbcProbe, ensureSysbench } from '../helpers/tools';

/** stderr without the SLF4J notice the driver prints when no logger is on the classpath. */
const quiet = (stderr: string): string => stderr.split('\n').filter((l) => l !== '' && !l.startsWith('SLF4J:')).join('\n');

describeWith('mariadb')('sysbench and JDBC through querygate', () => {
  let gw: MysqlGateway;

  beforeAll(async () => {
    gw = await startMysqlGateway({ interceptors: [{ name: 'allow-all', onStatement: () => undefined }] });
  });

  afterAll(async () => { await gw?.stop(); });

  it('runs sysbench oltp_read_write through querygate without errors', async () => {
    await ensureSysbench();
    const m = mariadbInfo();
    const common = ['--db-driver=mysql', '--mysql-host=127.0.0.1', '--mysql-db=app', '--tables=1', '--table-size=1000'];
    const viaGw = [...common, `--mysql-port=${gw.port}`, `--mysql-user=${ALICE.name}`, `--mysql-password=${ALICE.password}`];
    const direct = [...common, `--mysql-port=${m.port}`, '--mysql-user=app', `--mysql-password=${m.users.app.password}`];
    await runCli('sysbench', ['oltp_read_write', ...direct, 'cleanup']);
    const prepared = await runCli('sysbench', ['oltp_read_write', ...viaGw, 'prepare'], '', 120_000);
    expect(prepared.stderr).toBe('');
    expect(prepared.code).toBe(0);
    const run = await runCli('sysbench', ['oltp_read_write', ...viaGw, '--time=5', '--threads=1', 'run'], '', 60_000);
    expect(run.code).toBe(0);
    const txMatch = /transactions:\s+(\d+)/.exec(run.stdout);
    const errMatch = /ignored errors:\s+(\d+)/.exec(run.stdout);
    expect(Number(txMatch?.[1])).toBeGreaterThan(10);
    expect(Number(errMatch?.[1])).toBe(0);
    const cleanup = await runCli('sysbench', ['oltp_read_write', ...viaGw, 'cleanup']);
    expect(cleanup.code).toBe(0);
  }, 120_000);

  it('gives a JDBC program with server-side prepared statements and batches the same output as direct', async () => {
    const classpath = await buildJdbcProbe();
    const m = mariadbInfo();
    const opts = 'useServerPrepStmts=true&allowPublicKeyRetrieval=true';
    const direct = await runCli('java', ['-cp', classpath, 'querygate.JdbcProbe', `jdbc:mariadb://127.0.0.1:${m.port}/app?${opts}`, 'app', m.users.app.password], '', 120_000);
    expect(quiet(direct.stderr)).toBe('');
    expect(direct.code).toBe(0);
    const viaGw = await runCli('java', ['-cp', classpath, 'querygate.JdbcProbe', `jdbc:mariadb://127.0.0.1:${gw.port}/app?${opts}`, ALICE.name, ALICE.password], '', 120_000);
    expect(quiet(viaGw.stderr)).toBe('');
    expect(viaGw.stdout).toBe(direct.stdout);
    expect(viaGw.stdout).toContain('batch 50');
  }, 240_000);
});
