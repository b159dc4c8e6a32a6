#!/usr/bin/env node
// querygate benchmark: direct vs pgbouncer vs querygate, interleaved in ONE run on this machine, as
// ratios. Starts its own PostgreSQL, MariaDB, Kafka (harness), pgbouncer (session pooling) and a
// querygate process with guardrails, masking (rules on other tables), audit to Kafka and recording on.
//
//   pnpm bench                         full run (~15 min on 2 cores)
//   pnpm bench -- --quick              short runs, fewer repeats (smoke check)
//   pnpm bench -- --duration 10 --repeats 3 --idle 1000,5000 --only pgbench|sysbench|idle|mask
//
// Needs `bash scripts/setup.sh` first (build + pgbouncer + sysbench).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync, chownSync, rmSync } from 'node:fs';
import { tmpdir, cpus, totalmem, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const require = createRequire(join(root, 'package.json'));
const services = require('./packages/services/dist/index.js');

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const quick = args.includes('--quick');
const duration = Number(opt('duration', quick ? 4 : 10));
const repeats = Number(opt('repeats', quick ? 1 : 3));
const only = opt('only', 'pgbench,sysbench,idle,mask').split(',');
const idleCounts = opt('idle', quick ? '200' : '1000,5000').split(',').map(Number);
const workers = opt('workers', '');

const log = (...m) => process.stderr.write(m.join(' ') + '\n');
const results = { startedAt: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30) }, settings: { duration, repeats, quick }, pgbench: [], sysbench: [], idle: [], mask: [], notes: [] };

function pct(sorted, p) { return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN; }
function median(xs) { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; }
function rss(pid) { try { return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024; } catch { return NaN; } }

function childRss(pid) {
  // querygate may run with worker processes (node:cluster): sum the tree.
  let total = rss(pid);
  try {
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) total += childRss(Number(child));
  } catch { /* no children */ }
  return total;
}

async function waitPort(port, ms = 15000) {
  const net = await import('node:net');
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise((r) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} did not open`);
}

function serviceUid() {
  const uid = Number(execFileSync('id', ['-u', 'querygate-test']).toString());
  const gid = Number(execFileSync('id', ['-g', 'querygate-test']).toString());
  return { uid, gid };
}

function pgbouncerBinary() {
  for (const candidate of ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer']) {
    try { readFileSync(candidate, { flag: 'r' }); return candidate; } catch { /* next */ }
  }
  throw new Error('pgbouncer is not installed: apt-get install -y pgbouncer (or bash scripts/setup.sh)');
}

async function startPgbouncer(pg, dir) {
  const port = await services.freePort();
  const bdir = join(dir, 'pgbouncer');
  mkdirSync(bdir, { recursive: true });
  writeFileSync(join(bdir, 'userlist.txt'), `"bench" "benchpw"\n`);
  writeFileSync(join(bdir, 'pgbouncer.ini'), `[databases]
app = host=127.0.0.1 port=${pg.port} dbname=app user=app password=${pg.users.app.password}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = ${join(bdir, 'userlist.txt')}
pool_mode = session
max_client_conn = 500
default_pool_size = 50
logfile = ${join(bdir, 'pgbouncer.log')}
pidfile = ${join(bdir, 'pgbouncer.pid')}
ignore_startup_parameters = extra_float_digits
`);
  const { uid, gid } = serviceUid();
  for (const f of ['', 'userlist.txt', 'pgbouncer.ini']) chownSync(join(bdir, f), uid, gid);
  chownSync(dir, uid, gid);
  const proc = spawn(pgbouncerBinary(), [join(bdir, 'pgbouncer.ini')], { uid, gid, stdio: 'ignore' });
  proc.on('error', (err) => log(`bench: pgbouncer did not start: ${err.message}`));
  await waitPort(port);
  return { port, proc, user: 'bench', password: 'benchpw', stop: () => proc.kill('SIGTERM') };
}

async function startQuerygate(pg, maria, kafka, dir) {
  const port = await services.freePort();
  const myPort = await services.freePort();
  const adminPort = await services.freePort();
  const config = join(dir, 'querygate.bench.yaml');
  writeFileSync(config, `gateway: { id: bench, dataDir: ${join(dir, 'qgdata')}, shutdownTimeout: 5s }
listeners:
  - name: pg
    protocol: postgres
    listen: 127.0.0.1:${port}
    allowPlaintextPasswords: true
    maxConnections: 6000
    upstream: { host: 127.0.0.1, port: ${pg.port}, user: app, password: "\${env:BENCH_PG_PASSWORD}", tls: { mode: disable } }
  - name: mysql
    protocol: mysql
    listen: 127.0.0.1:${myPort}
    allowPlaintextPasswords: true
    upstream: { host: 127.0.0.1, port: ${maria.port}, user: app, password: "\${env:BENCH_MY_PASSWORD}", tls: { mode: disable } }
identities:
  users: [ { name: bench, password: "\${env:BENCH_PASSWORD}", groups: [ci] } ]
plugins:
  - use: guardrails
    options:
      default: allow
      rules:
        - { name: no-drop-database, match: { statement: [drop_database, drop_schema] }, action: block }
        - { name: no-truncate, match: { statement: truncate }, action: block }
        - { name: no-file-access, match: { risks: [fileAccess] }, action: block }
        - { name: no-privilege-change, match: { risks: [privilegeChange] }, action: block }
        - { name: no-unknown, match: { risks: [unknown] }, action: block }
        - { name: unbounded-writes, match: { risks: [noWhere] }, action: block }
  - use: masking
    options:
      key: "\${env:BENCH_MASKING_KEY}"
      rules:
        - { name: emails, columns: ["*.customers.email", "*.mask_test.email"], strategy: email }
        - { name: ssn, columns: ["*.customers.ssn", "*.mask_test.ssn"], strategy: { partial: { last: 4 } } }
  - use: audit-kafka
    options: { brokers: ["${kafka.brokers[0]}"], topic: querygate.bench }
audit: { sinks: [] }
recording: { dir: ${join(dir, 'recordings')}, maxRowsPerResult: 20 }
admin: { listen: 127.0.0.1:${adminPort} }
logging: { level: warn }
`);
  const env = { ...process.env, BENCH_PG_PASSWORD: pg.users.app.password, BENCH_MY_PASSWORD: maria.users.app.password, BENCH_PASSWORD: 'benchpw', BENCH_MASKING_KEY: 'bench-masking-key-0123456789' };
  if (workers) env.QUERYGATE_WORKERS = workers;
  const proc = spawn(process.execPath, [join(root, 'packages/gateway/bin/querygate.js'), 'start', '--config', config], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; if (stderr.length > 1e6) stderr = stderr.slice(-1e5); });
  await waitPort(port).catch((e) => { throw new Error(`${e.message}\n${stderr.slice(-3000)}`); });
  await waitPort(myPort);
  return { port, myPort, proc, user: 'bench', password: 'benchpw', stderr: () => stderr, stop: () => new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); }) };
}

/** CPU time (user + system, microseconds) of a process and its children (cluster workers). */
function cpuMicros(pid) {
  let total = 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    total += (Number(fields[11]) + Number(fields[12])) * 1e6 / 100; // USER_HZ = 100 on Linux
  } catch { return NaN; }
  try {
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) total += cpuMicros(Number(child));
  } catch { /* no children */ }
  return total;
}

// pgbench runs asynchronously so the proxy's CPU time can be sampled while it runs: CPU microseconds
// per transaction, counted over the steady part of the run (from 1 s after the first transaction to
// 0.3 s before the last, so connection set-up and SCRAM are left out). Unlike tps, this figure hardly
// moves when other work shares the machine.
async function pgbench(port, user, password, extra, logDir, proxyPid) {
  const tag = `${Date.now()}`;
  const prefix = join(logDir, `pgb-${tag}`);
  const samples = [];
  const sampler = proxyPid ? setInterval(() => samples.push([Date.now() * 1000, cpuMicros(proxyPid)]), 100) : undefined;
  const child = spawn('pgbench', ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-n', '-T', String(duration), '-l', `--log-prefix=${prefix}`, ...extra, 'app'],
    { env: { ...process.env, PGPASSWORD: password, PGSSLMODE: 'disable' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const killer = setTimeout(() => child.kill('SIGKILL'), (duration + 60) * 1000);
  await new Promise((r) => child.once('close', r));
  clearTimeout(killer);
  if (sampler) clearInterval(sampler);
  const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(out)?.[1]);
  const failed = /number of failed transactions: (\d+)/.exec(out)?.[1];
  const lat = [];
  const ends = [];
  for (const f of readdirSync(logDir).filter((f) => f.startsWith(`pgb-${tag}`))) {
    for (const line of readFileSync(join(logDir, f), 'utf8').split('\n')) {
      // client_id transaction_no time script_no time_epoch time_us
      const x = line.split(' ');
      const us = Number(x[2]);
      if (Number.isFinite(us) && line) lat.push(us);
      if (x.length >= 6) ends.push(Number(x[4]) * 1e6 + Number(x[5]));
    }
    rmSync(join(logDir, f));
  }
  lat.sort((a, b) => a - b);
  if (!Number.isFinite(tps)) throw new Error(`pgbench failed on port ${port}: ${out.slice(-2000)}`);
  let cpuUsPerTx;
  if (proxyPid && ends.length > 0) {
    ends.sort((a, b) => a - b);
    const from = samples.find((x) => x[0] >= ends[0] + 1e6);
    const to = [...samples].reverse().find((x) => x[0] <= ends[ends.length - 1] - 3e5);
    if (from && to && to[0] > from[0]) {
      const n = ends.filter((e) => e >= from[0] && e <= to[0]).length;
      if (n > 0) cpuUsPerTx = +((to[1] - from[1]) / n).toFixed(1);
    }
  }
  return { tps, p50us: pct(lat, 50), p99us: pct(lat, 99), failed: Number(failed ?? 0), cpuUsPerTx };
}

function sysbench(test, port, user, password, threads) {
  const common = [test, '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${port}`, `--mysql-user=${user}`, `--mysql-password=${password}`, '--mysql-db=app', '--tables=1', '--table-size=10000', '--mysql-ssl=off'];
  const r = spawnSync('sysbench', [...common, `--threads=${threads}`, `--time=${duration}`, '--percentile=99', '--db-ps-mode=disable', 'run'], { encoding: 'utf8', timeout: (duration + 60) * 1000 });
  const out = `${r.stdout}\n${r.stderr}`;
  const tps = Number(/transactions:\s+\d+\s+\(([\d.]+) per sec/.exec(out)?.[1]);
  const avg = Number(/avg:\s+([\d.]+)/.exec(out)?.[1]);
  const p99 = Number(/99th percentile:\s+([\d.]+)/.exec(out)?.[1]);
  if (!Number.isFinite(tps)) throw new Error(`sysbench failed on port ${port}: ${out.slice(-2000)}`);
  return { tps, avgMs: avg, p99Ms: p99 };
}

async function idleSessions(port, user, password, count, pid) {
  const pg = require('pg');
  const before = childRss(pid);
  const clients = [];
  for (let i = 0; i < count; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 50); j++) {
      const c = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'app' });
      clients.push(c);
      batch.push(c.connect());
    }
    await Promise.all(batch);
  }
  await new Promise((r) => setTimeout(r, 2000));
  const after = childRss(pid);
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  return { sessions: count, rssBeforeMiB: +(before / 2 ** 20).toFixed(1), rssAfterMiB: +(after / 2 ** 20).toFixed(1), kbPerSession: +((after - before) / 1024 / count).toFixed(1) };
}

/** Written after every section, so an interrupted run keeps what it measured. */
function saveResults() {
  mkdirSync(join(here, 'results'), { recursive: true });
  const file = join(here, 'results', `bench-${results.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  return file;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'querygate-bench-'));
  chownSync(dir, serviceUid().uid, serviceUid().gid);
  const logDir = join(dir, 'logs');
  mkdirSync(logDir);
  const maxConn = Math.max(300, ...idleCounts.map((n) => n + 100));
  log(`bench: starting PostgreSQL (max_connections=${maxConn}), MariaDB, Kafka...`);
  const [pg, maria, kafka] = await Promise.all([
    services.startPostgres({ name: 'bench', settings: { max_connections: maxConn, shared_buffers: '256MB' } }),
    services.startMariadb({ name: 'bench' }),
    services.startKafka({ name: 'bench' }),
  ]);
  let bouncer; let qg;
  try {
    log('bench: pgbench -i -s 10; sysbench prepare; masking tables');
    execFileSync('pgbench', ['-i', '-q', '-s', '10', '-h', '127.0.0.1', '-p', String(pg.port), '-U', 'app', 'app'], { env: { ...process.env, PGPASSWORD: pg.users.app.password }, stdio: 'ignore' });
    await pg.psql(`CREATE TABLE customers (id int primary key, email text, ssn text);
      CREATE TABLE mask_test AS SELECT g AS id, 'user' || g || '@example.com' AS email, lpad(g::text, 9, '0') AS ssn, md5(g::text) AS note FROM generate_series(1, 1000000) g;`, { user: 'app' });
    spawnSync('sysbench', ['oltp_read_write', '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${maria.port}`, '--mysql-user=app', `--mysql-password=${maria.users.app.password}`, '--mysql-db=app', '--tables=1', '--table-size=10000', 'prepare'], { stdio: 'ignore' });
    bouncer = await startPgbouncer(pg, dir);
    qg = await startQuerygate(pg, maria, kafka, dir);
    const paths = {
      direct: { port: pg.port, user: 'app', password: pg.users.app.password },
      pgbouncer: { port: bouncer.port, user: bouncer.user, password: bouncer.password },
      querygate: { port: qg.port, user: qg.user, password: qg.password },
    };

    if (only.includes('pgbench')) {
      const workloads = [
        { name: 'select-only simple c1', extra: ['-S', '-M', 'simple', '-c', '1', '-j', '1'] },
        { name: 'select-only simple c8', extra: ['-S', '-M', 'simple', '-c', '8', '-j', '2'] },
        { name: 'select-only prepared c1', extra: ['-S', '-M', 'prepared', '-c', '1', '-j', '1'] },
        { name: 'select-only prepared c8', extra: ['-S', '-M', 'prepared', '-c', '8', '-j', '2'] },
        { name: 'tpc-b simple c8', extra: ['-M', 'simple', '-c', '8', '-j', '2'] },
      ];
      for (const w of workloads) {
        // Other work on the machine moves tps a lot (and proxy CPU/tx much less): say how busy it was.
        log(`  (load average ${loadavg().map((x) => x.toFixed(1)).join(' ')})`);
        results.notes.push({ workload: w.name, loadavg: loadavg() });
        const runs = { direct: [], pgbouncer: [], querygate: [] };
      const pids = { direct: undefined, pgbouncer: bouncer.proc.pid, querygate: qg.proc.pid };
        let peakRss = 0;
        for (let rep = 0; rep < repeats; rep++) {
          for (const [name, p] of Object.entries(paths)) {
            const sampler = name === 'querygate' ? setInterval(() => { peakRss = Math.max(peakRss, childRss(qg.proc.pid)); }, 500) : undefined;
            const r = await pgbench(p.port, p.user, p.password, w.extra, logDir, pids[name]);
            if (sampler) clearInterval(sampler);
            runs[name].push(r);
            const cpu = r.cpuUsPerTx === undefined ? '' : `  proxy CPU ${String(r.cpuUsPerTx).padStart(6)} us/tx`;
            log(`  ${w.name.padEnd(26)} ${name.padEnd(10)} ${r.tps.toFixed(0).padStart(7)} tps  p50 ${String(r.p50us).padStart(6)} us  p99 ${String(r.p99us).padStart(6)} us${cpu}`);
          }
        }
        const summary = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, { tps: median(v.map((x) => x.tps)), p50us: median(v.map((x) => x.p50us)), p99us: median(v.map((x) => x.p99us)), cpuUsPerTx: k === 'direct' ? undefined : median(v.map((x) => x.cpuUsPerTx ?? NaN)), runs: v }]));
        const row = { workload: w.name, ...summary, ratio: { querygateVsDirect: +(summary.querygate.tps / summary.direct.tps).toFixed(3), querygateVsPgbouncer: +(summary.querygate.tps / summary.pgbouncer.tps).toFixed(3), pgbouncerVsDirect: +(summary.pgbouncer.tps / summary.direct.tps).toFixed(3) }, addedP50us: summary.querygate.p50us - summary.direct.p50us, querygatePeakRssMiB: +(peakRss / 2 ** 20).toFixed(1) };
        results.pgbench.push(row);
        log(`  => ${w.name}: querygate/direct ${row.ratio.querygateVsDirect}x, querygate/pgbouncer ${row.ratio.querygateVsPgbouncer}x, pgbouncer/direct ${row.ratio.pgbouncerVsDirect}x, added p50 ${row.addedP50us} us, proxy CPU/tx querygate ${summary.querygate.cpuUsPerTx} us vs pgbouncer ${summary.pgbouncer.cpuUsPerTx} us`);
        saveResults();
      }
    }

    if (only.includes('sysbench')) {
      for (const test of ['oltp_point_select', 'oltp_read_write']) {
        const runs = { direct: [], querygate: [] };
        for (let rep = 0; rep < repeats; rep++) {
          runs.direct.push(sysbench(test, maria.port, 'app', maria.users.app.password, 8));
          runs.querygate.push(sysbench(test, qg.myPort, qg.user, qg.password, 8));
          log(`  ${test} direct ${runs.direct.at(-1).tps.toFixed(0)} tps, querygate ${runs.querygate.at(-1).tps.toFixed(0)} tps`);
        }
        const d = median(runs.direct.map((r) => r.tps)); const q = median(runs.querygate.map((r) => r.tps));
        results.sysbench.push({ workload: `${test} t8`, direct: { tps: d, runs: runs.direct }, querygate: { tps: q, runs: runs.querygate }, ratio: { querygateVsDirect: +(q / d).toFixed(3) } });
        log(`  => ${test}: querygate/direct ${(q / d).toFixed(3)}x`);
        saveResults();
      }
    }

    if (only.includes('mask')) {
      // 1M rows, 2 masked columns, vs the same rows unmasked through querygate, vs direct; peak RSS.
      const queries = { masked: 'SELECT id, email, ssn, note FROM mask_test', unmasked: 'SELECT id, note, md5(note) AS a, md5(note || 1) AS b FROM mask_test' };
      // Asynchronous, so the RSS sampler below runs while psql reads (spawnSync would block it).
      const time = async (port, user, password, sql) => {
        const started = process.hrtime.bigint();
        const child = spawn('bash', ['-c', `psql -X -A -t -h 127.0.0.1 -p ${port} -U ${user} -d app -c "${sql}" | wc -l`], { env: { ...process.env, PGPASSWORD: password, PGSSLMODE: 'disable' }, stdio: ['ignore', 'pipe', 'inherit'] });
        let stdout = '';
        child.stdout.on('data', (d) => { stdout += d; });
        await new Promise((r) => child.once('close', r));
        return { seconds: Number(process.hrtime.bigint() - started) / 1e9, rows: Number(stdout.trim()) };
      };
      for (let rep = 0; rep < Math.max(1, repeats - 1); rep++) {
        const direct = await time(pg.port, 'app', pg.users.app.password, queries.masked);
        // Streaming shows as a peak that does not grow with the result: the same masked query at
        // 100k rows, then at 1M, each with its own peak, against the idle process's RSS.
        const mib = (bytes) => +(bytes / 2 ** 20).toFixed(1);
        const idleRss = childRss(qg.proc.pid);
        let peak = 0; let sampler = setInterval(() => { peak = Math.max(peak, childRss(qg.proc.pid)); }, 100);
        const small = await time(qg.port, 'bench', 'benchpw', `${queries.masked} LIMIT 100000`);
        clearInterval(sampler);
        const peakSmall = peak;
        peak = 0; sampler = setInterval(() => { peak = Math.max(peak, childRss(qg.proc.pid)); }, 100);
        const unmasked = await time(qg.port, 'bench', 'benchpw', queries.unmasked);
        const masked = await time(qg.port, 'bench', 'benchpw', queries.masked);
        clearInterval(sampler);
        results.mask.push({ rows: masked.rows, directSeconds: +direct.seconds.toFixed(2), querygateUnmaskedSeconds: +unmasked.seconds.toFixed(2), querygateMaskedSeconds: +masked.seconds.toFixed(2), ratioMaskedVsDirect: +(direct.seconds / masked.seconds).toFixed(3), ratioMaskedVsUnmasked: +(unmasked.seconds / masked.seconds).toFixed(3), querygatePeakRssMiB: mib(peak), querygateIdleRssMiB: mib(idleRss), querygatePeakRss100kRowsMiB: mib(peakSmall), rows100k: small.rows });
        log(`  mask 1M rows: direct ${direct.seconds.toFixed(2)} s, querygate unmasked ${unmasked.seconds.toFixed(2)} s, masked ${masked.seconds.toFixed(2)} s (${masked.rows} rows); querygate RSS idle ${mib(idleRss)} MiB, peak ${mib(peakSmall)} MiB at ${small.rows} rows, ${mib(peak)} MiB at ${masked.rows} rows`);
        saveResults();
      }
    }

    if (only.includes('idle')) {
      for (const n of idleCounts) {
        const r = await idleSessions(qg.port, 'bench', 'benchpw', n, qg.proc.pid);
        results.idle.push(r);
        log(`  idle ${n}: ${r.kbPerSession} KB RSS per session (querygate ${r.rssBeforeMiB} -> ${r.rssAfterMiB} MiB)`);
        saveResults();
      }
    }
  } finally {
    await qg?.stop();
    bouncer?.stop();
    await Promise.allSettled([pg.stop(), maria.stop(), kafka.destroy()]);
  }
  const file = saveResults();
  log(`bench: results written to ${file}`);
  process.stdout.write(JSON.stringify({ pgbench: results.pgbench.map((r) => ({ workload: r.workload, direct: r.direct.tps, pgbouncer: r.pgbouncer.tps, querygate: r.querygate.tps, ...r.ratio, addedP50us: r.addedP50us, querygateCpuUsPerTx: r.querygate.cpuUsPerTx, pgbouncerCpuUsPerTx: r.pgbouncer.cpuUsPerTx })), sysbench: results.sysbench.map((r) => ({ workload: r.workload, direct: r.direct.tps, querygate: r.querygate.tps, ...r.ratio })), mask: results.mask, idle: results.idle }, null, 2) + '\n');
}

main().catch((err) => { log(`bench failed: ${err.stack ?? err}`); process.exit(1); });
