import { Metrics, traceparentOf, tracingActive } from '../src';

describe('Metrics (Prometheus text format 0.0.4)', () => {
  it('renders counters, gauges, collected values and histograms', () => {
    const m = new Metrics();
    const statements = m.counter('qg_statements_total', 'Statements.', { labelNames: ['protocol', 'verdict'] });
    statements.labels({ protocol: 'postgres', verdict: 'allow' }).inc();
    statements.labels({ protocol: 'postgres', verdict: 'allow' }).inc(2);
    statements.labels({ protocol: 'mysql', verdict: 'deny' }).inc();
    m.gauge('qg_queue', 'Queue "depth"\nnow.', { collect: () => 7 });
    m.gauge('qg_spool', 'Spool.', { collect: () => [{ labels: { sink: 'kafka "main"' }, value: 3 }] });
    m.counter('qg_unused_total', 'Never incremented.');
    const h = m.histogram('qg_latency_seconds', 'Latency.', { labelNames: ['protocol'], buckets: [0.01, 0.1, 1] });
    const pg = h.labels({ protocol: 'postgres' });
    pg.observe(0.005);
    pg.observe(0.05);
    pg.observe(0.05);
    pg.observe(5);
    expect(m.render()).toBe([
      '# HELP qg_statements_total Statements.',
      '# TYPE qg_statements_total counter',
      'qg_statements_total{protocol="postgres",verdict="allow"} 3',
      'qg_statements_total{protocol="mysql",verdict="deny"} 1',
      '# HELP qg_queue Queue "depth"\\nnow.',
      '# TYPE qg_queue gauge',
      'qg_queue 7',
      '# HELP qg_spool Spool.',
      '# TYPE qg_spool gauge',
      'qg_spool{sink="kafka \\"main\\""} 3',
      '# HELP qg_unused_total Never incremented.',
      '# TYPE qg_unused_total counter',
      'qg_unused_total 0',
      '# HELP qg_latency_seconds Latency.',
      '# TYPE qg_latency_seconds histogram',
      'qg_latency_seconds_bucket{protocol="postgres",le="0.01"} 1',
      'qg_latency_seconds_bucket{protocol="postgres",le="0.1"} 3',
      'qg_latency_seconds_bucket{protocol="postgres",le="1"} 3',
      'qg_latency_seconds_bucket{protocol="postgres",le="+Inf"} 4',
      'qg_latency_seconds_sum{protocol="postgres"} 5.105',
      'qg_latency_seconds_count{protocol="postgres"} 4',
      '',
    ].join('\n'));
  });

  it('returns the same instrument for the same registration and refuses a conflicting one', () => {
    const m = new Metrics();
    const a = m.counter('x_total', 'x', { labelNames: ['a'] });
    expect(m.counter('x_total', 'x', { labelNames: ['a'] })).toBe(a);
    expect(() => m.gauge('x_total', 'x', { labelNames: ['a'] })).toThrow(/already registered as a counter/);
    expect(() => m.counter('x_total', 'x', { labelNames: ['b'] })).toThrow(/already registered/);
    expect(() => m.counter('bad name', 'x')).toThrow(/not valid/);
    expect(() => m.histogram('h', 'x', { labelNames: ['le'] })).toThrow(/label name "le"/);
  });

  it('reports a failing collect callback as a comment instead of failing the scrape', () => {
    const m = new Metrics();
    m.gauge('broken', 'b', { collect: () => { throw new Error('boom'); } });
    m.gauge('fine', 'f', { collect: () => 1 });
    const text = m.render();
    expect(text).toContain('# broken: collect failed: boom');
    expect(text).toContain('fine 1');
  });
});

describe('traceparentOf (sqlcommenter)', () => {
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('finds the traceparent in a comment at the end, at the start, among other keys', () => {
    expect(traceparentOf(`select 1 /*traceparent='${tp}'*/`)).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true,
    });
    expect(traceparentOf(`/*traceparent='${tp}'*/ select 1`)?.spanId).toBe('00f067aa0ba902b7');
    const sc = traceparentOf(`select 1 /*action='%2Fparam*d',controller='index',framework='spring',traceparent='${tp}',tracestate='congo%3Dt61rcWkgMzE'*/`);
    expect(sc?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(sc?.traceState?.get('congo')).toBe('t61rcWkgMzE');
    expect(traceparentOf(`select 1 -- traceparent='${tp}'`)?.traceFlags).toBe(1);
    expect(traceparentOf(`select 1 /*traceparent='${tp.replace(/-01$/, '-00')}'*/`)?.traceFlags).toBe(0);
  });

  it('ignores a traceparent in a string literal and malformed or all-zero ids', () => {
    expect(traceparentOf(`select '/*traceparent=''${tp}''*/'`)).toBeUndefined();
    expect(traceparentOf('select 1')).toBeUndefined();
    expect(traceparentOf("select 1 /*traceparent='00-xyz-00f067aa0ba902b7-01'*/")).toBeUndefined();
    expect(traceparentOf(`select 1 /*traceparent='00-${'0'.repeat(32)}-00f067aa0ba902b7-01'*/`)).toBeUndefined();
    expect(traceparentOf(`select 1 /*traceparent='ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'*/`)).toBeUndefined();
  });

  it('reports tracing inactive while no tracer provider is registered', () => {
    expect(tracingActive()).toBe(false);
  });
});
