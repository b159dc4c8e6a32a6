#!/usr/bin/env node
// The MySQL adapter's hot path: sysbench oltp_point_select straight to MariaDB and through querygate
// (guardrails with a few rules, masking with a rule on another table, the file audit sink),
// interleaved in ONE run, printed as ratios. Each gateway runs in a node process of its own, so the
// client and the gateway never share an event loop. Besides tps it prints the gateway's CPU time per
// transaction (user + system, all threads, from /proc): less sensitive than tps to whatever else the
// machine is running.
//
//   node bench/mysql-hotpath.mjs                               3 x (direct, querygate), 8 threads, 10 s, both ps modes
//   node bench/mysql-hotpath.mjs --repeats 5 --time 10 --threads 8 --ps-mode auto,disable
//   node bench/mysql-hotpath.mjs --variants full,bare,raw      more paths in the same interleaved run:
//        full       guardrails + masking + file audit sink (the default, "querygate")
//        noaudit    guardrails + masking, no audit sink
//        guardrails guardrails only, no audit sink (no result hook: the relay's passthrough mode)
//        bare       no plugin, no audit sink
//        raw        a 10-line node byte relay: the ceiling for any node proxy on this machine
//   node bench/mysql-hotpath.mjs --profile                     writes a .cpuprofile of each gateway (node --cpu-prof)
//   node bench/mysql-hotpath.mjs --only querygate              no direct runs (e.g. while perf is attached)
//   node bench/mysql-hotpath.mjs --analyze FILE.cpuprofile     self / inclusive time per function
//   node bench/mysql-hotpath.mjs --config-only                 prints the "full" gateway config, and exits
//
// Before/after in the same run: a variant may name an overlay, `full@NAME`, a directory of compiled
// files that replace their packages/*/dist counterparts in that gateway process only. Make one from
// the sources of a git revision (transpiled, not type-checked):
//   node bench/mysql-hotpath.mjs --make-overlay /tmp/ov-base HEAD packages/core/src/audit/AuditTrail.ts ...
//   node bench/mysql-hotpath.mjs --variants full,full@base --overlay base=/tmp/ov-base
//
// Needs `pnpm build` (packages/*/dist), sysbench and MariaDB (`bash scripts/setup.sh`).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, writeFileSync, statSync, readFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import net from 'node:net';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const require = createRequire(join(root, 'package.json'));

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : dflt; };
const time = Number(opt('time', 10));
const threads = Number(opt('threads', 8));
const repeats = Number(opt('repeats', 3));
const psModes = opt('ps-mode', 'auto,disable').split(',');
const profile = args.includes('--profile');
const variants = opt('variants', 'full').split(',');
const only = opt('only', 'direct,querygate').split(',');
const extraNodeArgs = (opt('node-args', '') || '').split(' ').filter(Boolean);
const log = (...m) => process.stderr.write(m.join(' ') + '\n');
const median = (xs) => { const s = [...xs].filter(Number.isFinite).sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

/** `--overlay NAME=DIR,...` */
const overlays = Object.fromEntries((opt('overlay', '') || '').split(',').filter(Boolean).map((kv) => kv.split('=')));

// Preloaded into a gateway started on an overlay: resolves a packages/*/dist file to its overlay
// copy when there is one, and an overlay file's relative requires back to the real dist.
const OVERLAY_HOOK = `const Module = require('module'); const path = require('path'); const fs = require('fs');
const root = process.env.QG_BENCH_ROOT; const overlay = process.env.QG_BENCH_OVERLAY;
const original = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  let resolved;
  try { resolved = original.call(this, request, parent, ...rest); } catch (err) {
    if (!parent || !parent.filename || !parent.filename.startsWith(overlay + '/')) throw err;
    const real = Object.assign(Object.create(Object.getPrototypeOf(parent)), parent, { filename: root + parent.filename.slice(overlay.length), paths: Module._nodeModulePaths(path.dirname(root + parent.filename.slice(overlay.length))) });
    resolved = original.call(this, request, real, ...rest);
  }
  if (resolved.startsWith(overlay + '/')) {
    const real = root + resolved.slice(overlay.length);
    if (!fs.existsSync(resolved)) return real;
    return resolved;
  }
  if (resolved.startsWith(root + '/')) {
    const candidate = overlay + resolved.slice(root.length);
    if (fs.existsSync(candidate)) return candidate;
  }
  return resolved;
};`;

/**
 * `--make-overlay DIR REV SRC...`: each src/**.ts at REV, transpiled to DIR/<package>/dist/**.js.
 * `SRC=OTHER.ts` takes the text of OTHER.ts (a file on disk, an idea being tried) for SRC instead.
 */
function makeOverlay(dir, rev, files) {
  const ts = require('typescript');
  for (const spec of files) {
    const [file, alternative] = spec.split('=');
    const source = alternative
      ? { status: 0, stdout: readFileSync(alternative, 'utf8') }
      : spawnSync('git', ['show', `${rev}:${file}`], { cwd: root, encoding: 'utf8' });
    if (source.status !== 0) throw new Error(`git show ${rev}:${file}: ${source.stderr}`);
    const out = ts.transpileModule(source.stdout, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, esModuleInterop: true, experimentalDecorators: true, emitDecoratorMetadata: true }, fileName: file });
    const target = join(dir, file.replace('/src/', '/dist/').replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out.outputText);
    log(`overlay: ${alternative ?? `${rev}:${file}`} -> ${target}`);
  }
}

const VARIANTS = {
  full: { plugins: ['guardrails', 'masking'], audit: true },
  noaudit: { plugins: ['guardrails', 'masking'], audit: false },
  guardrails: { plugins: ['guardrails'], audit: false },
  bare: { plugins: [], audit: false },
};

const PLUGINS = {
  guardrails: `  - use: guardrails
    options:
      default: allow
      rules:
        - { name: no-drop-database, match: { statement: [drop_database, drop_schema] }, action: block }
        - { name: no-truncate, match: { statement: truncate }, action: block }
        - { name: no-file-access, match: { risks: [fileAccess] }, action: block }
        - { name: no-privilege-change, match: { risks: [privilegeChange] }, action: block }
        - { name: no-unknown, match: { risks: [unknown] }, action: block }
        - { name: unbounded-writes, match: { risks: [noWhere] }, action: block }
`,
  masking: `  - use: masking
    options:
      key: "\${env:BENCH_MASKING_KEY}"
      rules:
        - { name: emails, columns: ["*.customers.email"], strategy: email }
`,
};

function gatewayConfig(dir, port, maria, variant) {
  const v = VARIANTS[variant];
  return `gateway: { id: hotpath-${variant}, dataDir: ${join(dir, 'qgdata')}, shutdownTimeout: 5s }
listeners:
  - name: mysql
    protocol: mysql
    listen: 127.0.0.1:${port}
    allowPlaintextPasswords: true
    upstream: { host: 127.0.0.1, port: ${maria.port}, user: app, password: "\${env:BENCH_MY_PASSWORD}", tls: { mode: disable } }
identities:
  users: [ { name: bench, password: "\${env:BENCH_PASSWORD}", groups: [ci] } ]
plugins:${v.plugins.length === 0 ? ' []' : ''}
${v.plugins.map((p) => PLUGINS[p]).join('')}audit: { sinks: [${v.audit ? ` { type: file, path: ${join(dir, `audit-${variant}.jsonl`)} } ` : ''}] }
logging: { level: warn }
`;
}

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

async function waitPort(port, ms = 20000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise((r) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} did not open`);
}

async function startGateway(dir, maria, name) {
  if (name === 'raw') return startRawRelay(maria.port, maria.users.app.password);
  const [variant, overlay] = name.split('@');
  if (!VARIANTS[variant]) throw new Error(`unknown variant ${variant}`);
  const port = await freePort();
  const config = join(dir, `querygate.${name}.yaml`);
  writeFileSync(config, gatewayConfig(dir, port, maria, variant).replace(`audit-${variant}.jsonl`, `audit-${name}.jsonl`));
  const env = { ...process.env, BENCH_MY_PASSWORD: maria.users.app.password, BENCH_PASSWORD: 'benchpw', BENCH_MASKING_KEY: 'bench-masking-key-0123456789' };
  const preload = [];
  if (overlay !== undefined) {
    if (!overlays[overlay]) throw new Error(`--overlay ${overlay}=DIR is missing`);
    const hook = join(dir, 'overlay-hook.cjs');
    writeFileSync(hook, OVERLAY_HOOK);
    Object.assign(env, { QG_BENCH_ROOT: root, QG_BENCH_OVERLAY: resolve(overlays[overlay]) });
    preload.push('--require', hook);
  }
  const profDir = join(here, 'results', 'profiles');
  const nodeArgs = [...extraNodeArgs, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])];
  if (profile) mkdirSync(profDir, { recursive: true });
  const proc = spawn(process.execPath, [...nodeArgs, ...preload, join(root, 'packages/gateway/bin/querygate.js'), 'start', '--config', config], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; if (stderr.length > 1e6) stderr = stderr.slice(-1e5); });
  await waitPort(port).catch((e) => { throw new Error(`${e.message}\n${stderr.slice(-3000)}`); });
  return { variant: name, user: 'bench', password: 'benchpw', port, proc, config, profDir, stderr: () => stderr, stop: () => new Promise((r) => { if (proc.exitCode !== null) return r(); proc.once('exit', r); proc.kill('SIGINT'); }) };
}

// A minimal Node byte relay (no parsing, no policy): the ceiling any Node proxy reaches here.
const RAW_RELAY = `const net = require('net');
const [listenPort, upPort] = process.argv.slice(1).map(Number);
net.createServer({ noDelay: true }, (c) => {
  const u = net.connect({ port: upPort, host: '127.0.0.1', noDelay: true });
  c.on('data', (d) => u.write(d)); u.on('data', (d) => c.write(d));
  c.on('error', () => {}); u.on('error', () => {});
  c.on('close', () => u.destroy()); u.on('close', () => c.destroy());
}).listen(listenPort, '127.0.0.1');`;

async function startRawRelay(upPort, upPassword) {
  const port = await freePort();
  const proc = spawn(process.execPath, ['-e', RAW_RELAY, String(port), String(upPort)], { stdio: 'ignore' });
  await waitPort(port);
  return { variant: 'raw', user: 'app', password: upPassword, port, proc, stderr: () => '', stop: () => new Promise((r) => { if (proc.exitCode !== null) return r(); proc.once('exit', r); proc.kill('SIGTERM'); }) };
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch { return NaN; }
}

function sysbench(port, user, password, psMode, pids, seconds = time) {
  const before = pids.map(cpuSeconds);
  const r = spawnSync('sysbench', ['oltp_point_select', '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${port}`,
    `--mysql-user=${user}`, `--mysql-password=${password}`, '--mysql-db=app', '--mysql-ssl=off', '--tables=1', '--table-size=10000',
    `--threads=${threads}`, `--time=${seconds}`, '--percentile=99', `--db-ps-mode=${psMode}`, 'run'], { encoding: 'utf8', timeout: (time + 60) * 1000 });
  const cpu = pids.map((pid, i) => +((cpuSeconds(pid) - before[i]) / seconds).toFixed(2));
  const out = `${r.stdout}\n${r.stderr}`;
  const tps = Number(/transactions:\s+\d+\s+\(([\d.]+) per sec/.exec(out)?.[1]);
  const p99 = Number(/99th percentile:\s+([\d.]+)/.exec(out)?.[1]);
  const errors = Number(/ignored errors:\s+(\d+)/.exec(out)?.[1] ?? 0);
  if (!Number.isFinite(tps)) throw new Error(`sysbench failed on port ${port}: ${out.slice(-2000)}`);
  const transactions = Number(/transactions:\s+(\d+)/.exec(out)?.[1]);
  // CPU microseconds each process spent per transaction: less sensitive to other load than tps.
  const usPerTx = pids.map((pid, i) => +((cpu[i] * seconds * 1e6) / transactions).toFixed(1));
  return { tps, p99Ms: p99, errors, cpu, usPerTx };
}

/** `--analyze FILE.cpuprofile`: self and inclusive time per function, the biggest first. */
function analyze(file, top = 45) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  for (const [i, id] of prof.samples.entries()) self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const name = (n) => { const f = n.callFrame; return `${f.functionName || '(anon)'} ${f.url.replace(/^.*\/(packages|node_modules)\//, '$1/')}:${f.lineNumber + 1}`; };
  const selfBy = new Map(); const inclBy = new Map();
  for (const [id, t] of self) {
    const n = byId.get(id);
    selfBy.set(name(n), (selfBy.get(name(n)) ?? 0) + t);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = name(byId.get(cur));
      if (seen.has(k)) continue;
      seen.add(k);
      inclBy.set(k, (inclBy.get(k) ?? 0) + t);
    }
  }
  const show = (title, m) => {
    log(`-- ${title} (of ${(total / 1e6).toFixed(1)} s sampled)`);
    for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) log(`${(100 * t / total).toFixed(1).padStart(5)}%  ${k}`);
  };
  show('self', selfBy);
  show('inclusive', inclBy);
}

async function main() {
  if (opt('analyze')) { analyze(opt('analyze'), Number(opt('top', 45))); return; }
  if (opt('make-overlay')) {
    const i = args.indexOf('--make-overlay');
    makeOverlay(resolve(args[i + 1]), args[i + 2], args.slice(i + 3));
    return;
  }
  if (args.includes('--config-only')) {
    process.stdout.write(gatewayConfig(join(tmpdir(), 'querygate-hotpath'), 13306, { port: 3306 }, 'full'));
    return;
  }
  const services = require('./packages/services/dist/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'querygate-hotpath-'));
  log(`hotpath: ${cpus().length} cpus, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; starting MariaDB`);
  const maria = await services.startMariadb({ name: 'hotpath' });
  const gateways = [];
  const loads = [];
  try {
    spawnSync('sysbench', ['oltp_point_select', '--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${maria.port}`, '--mysql-user=app',
      `--mysql-password=${maria.users.app.password}`, '--mysql-db=app', '--mysql-ssl=off', '--tables=1', '--table-size=10000', 'prepare'], { stdio: 'ignore' });
    for (const v of variants) {
      const g = await startGateway(dir, maria, v);
      gateways.push(g);
      log(`hotpath: ${v} pid ${g.proc.pid} on port ${g.port}; mariadb on ${maria.port}`);
    }
    const mariaPid = Number(readFileSync(join(maria.dir, 'mariadbd.pid'), 'utf8').trim());
    const rows = [];
    for (const mode of psModes) {
      // One warm-up run through each gateway: JIT, analyser cache, connection setup.
      for (const g of gateways) sysbench(g.port, g.user, g.password, mode, [g.proc.pid, mariaPid], 3);
      const runs = { direct: [], ...Object.fromEntries(variants.map((v) => [v, []])) };
      for (let rep = 0; rep < repeats; rep++) {
        loads.push(loadavg()[0]);
        const d = only.includes('direct') ? sysbench(maria.port, 'app', maria.users.app.password, mode, [mariaPid]) : undefined;
        if (d) runs.direct.push(d);
        const line = [`ps-mode=${mode.padEnd(7)} #${rep + 1}:`, d ? `direct ${d.tps.toFixed(0).padStart(6)} tps` : ''];
        if (only.includes('querygate')) {
          for (const g of gateways) {
            const q = sysbench(g.port, g.user, g.password, mode, [g.proc.pid, mariaPid]);
            runs[g.variant].push(q);
            line.push(`| ${g.variant} ${q.tps.toFixed(0).padStart(6)} tps${d ? ` ${(q.tps / d.tps).toFixed(3)}x` : ''} ${q.usPerTx[0]} us/tx${q.errors ? ` ${q.errors} errors` : ''}`);
          }
        }
        log(`  ${line.join(' ')}`);
      }
      const d = median(runs.direct.map((r) => r.tps));
      const row = { psMode: mode, threads, time, repeats, direct: d };
      for (const v of variants) {
        const q = median(runs[v].map((r) => r.tps));
        // Ratio per interleaved pair, then the median: a burst of outside load hits both of a pair.
        const pairRatios = runs[v].map((r, i) => r.tps / runs.direct[i]?.tps);
        row[v] = { tps: q, ratio: +median(pairRatios).toFixed(3), ratioOfMedians: +(q / d).toFixed(3), usPerTx: median(runs[v].map((r) => r.usPerTx[0])), cpu: median(runs[v].map((r) => r.cpu[0])) };
        log(`  => ps-mode=${mode} ${v}: querygate/direct ${row[v].ratio}x (median of pairs; medians ${q.toFixed(0)} / ${d.toFixed(0)} tps), ${row[v].usPerTx} us cpu/tx in the gateway`);
      }
      rows.push(row);
    }
    let auditBytes = 0; try { auditBytes = statSync(join(dir, 'audit-full.jsonl')).size; } catch { /* none */ }
    process.stdout.write(JSON.stringify({ startedAt: new Date().toISOString(), loadAverage1m: { min: Math.min(...loads), max: Math.max(...loads) }, results: rows, auditBytes }, null, 2) + '\n');
  } finally {
    for (const g of gateways) {
      await g.stop();
      if (g.stderr().trim()) log(`${g.variant} stderr (tail):\n${g.stderr().slice(-2000)}`);
    }
    if (profile && gateways.length) log(`hotpath: profiles in ${gateways[0].profDir ?? '-'}`);
    await maria.stop();
  }
}

main().catch((err) => { log(`hotpath failed: ${err.stack ?? err}`); process.exit(1); });
