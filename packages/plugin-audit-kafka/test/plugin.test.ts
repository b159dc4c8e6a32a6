// The plugin as the gateway loads it: options from YAML (with ${env:...} secrets), errors with key path and line.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, Gateway, parseConfig, silentLogger } from '@querygate/core';
import plugin from '@querygate/plugin-audit-kafka';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function config(options: string) {
  const dir = mkdtempSync(join(tmpdir(), 'qg-audit-kafka-gw-'));
  dirs.push(dir);
  const loaded = parseConfig(`
gateway: { dataDir: ${dir}/data }
listeners:
  - { name: pg, protocol: postgres, listen: 127.0.0.1:1, upstream: { host: 127.0.0.1, port: 5432, user: app } }
audit: { sinks: [ { type: file, path: ${dir}/audit.jsonl } ] }
plugins:
  - use: audit-kafka
    options:
${options}
`, join(dir, 'gw.yaml'), { env: { KAFKA_PASSWORD: 'pw-from-env' } });
  return { loaded, dir };
}

const loadPlugin = async (use: string) => {
  if (use !== 'audit-kafka') throw new Error(`plugin "${use}" not found`);
  return plugin;
};

describe('audit-kafka in a gateway config', () => {
  it('reports a bad option with its key path and line', async () => {
    const { loaded } = config(`      brokers: ["127.0.0.1:1"]
      spool:
        fsync: sometimes`);
    const error = await Gateway.create({ config: loaded.config, lineOf: loaded.lineOf, loadPlugin, logger: silentLogger }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems[0]).toMatchObject({
      path: 'plugins[0].options.spool.fsync', line: 11, message: 'must be one of always, batch, never',
    });
  });

  it('starts with a ${env:...} SASL password, spools under the plugin data dir and shuts down', async () => {
    const { loaded, dir } = config(`      brokers: ["127.0.0.1:1"]
      topic: sec.audit
      shutdownTimeout: 100ms
      connectionTimeout: 200
      sasl: { mechanism: scram-sha-256, username: querygate, password: "\${env:KAFKA_PASSWORD}" }`);
    const gw = await Gateway.create({ config: loaded.config, lineOf: loaded.lineOf, loadPlugin, logger: silentLogger });
    expect(gw.trail.sinkNames).toContain('kafka:sec.audit');
    gw.trail.emit({ event: 'session.started', sessionId: 'g-1', seq: 1 });
    await gw.trail.flush();
    expect(gw.trail.healthy).toBe(true);
    expect(existsSync(join(dir, 'data', 'plugins', 'audit-kafka', 'spool'))).toBe(true);
    await gw.shutdown();
  });
});
